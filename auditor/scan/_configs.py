"""Model references in configuration: YAML (compose, Kubernetes, Helm values), JSON, TOML, notebooks'
code cells, and Ollama Modelfiles."""

from __future__ import annotations

import json
import tomllib
from collections.abc import Iterator
from typing import Any

import yaml

from auditor.scan._commands import MODEL_ENV_VARS, arg_refs, env_assignment
from auditor.scan._python import Found, Unparseable, Unresolved, python_refs

CONFIG_KEYS = frozenset({"model", "model_id", "model_name", "model_name_or_path", "pretrained_model_name_or_path",
                         "base_model", "repo_id", "modelId", "modelName", "model_path"})
MAX_NODES = 200_000  # YAML/JSON nodes walked in one file


def _split(text: str) -> list[str]:
    import shlex

    try:
        return shlex.split(text)
    except ValueError:
        return text.split()


def _scalar_line(node: yaml.ScalarNode) -> int:
    return node.start_mark.line + 1 + (1 if node.style in ("|", ">") else 0)


def _is_str(node: yaml.Node) -> bool:
    return isinstance(node, yaml.ScalarNode) and node.tag.endswith(":str")


def _yaml_mapping(node: yaml.MappingNode) -> Iterator[Found]:
    pairs = {str(k.value): v for k, v in node.value if isinstance(k, yaml.ScalarNode)}
    # Kubernetes env entries: {name: MODEL_ID, value: org/x}
    name, value = pairs.get("name"), pairs.get("value")
    if name is not None and value is not None and _is_str(name) and _is_str(value) \
            and str(name.value) in MODEL_ENV_VARS:
        yield Found(str(value.value), _scalar_line(value), f"yaml:{name.value}")
    for key, child in pairs.items():
        if key in CONFIG_KEYS or key in MODEL_ENV_VARS:
            items = child.value if isinstance(child, yaml.SequenceNode) else [child]
            yield from (Found(str(i.value), _scalar_line(i), f"yaml:{key}") for i in items if _is_str(i))


def _yaml_problem(exc: Exception) -> Unparseable:
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or type(exc).__name__
    return Unparseable(mark.line + 1 if mark is not None else None, f"YAML does not load ({problem})")


def yaml_refs(text: str) -> Iterator[Found | Unparseable]:
    try:
        documents = list(yaml.compose_all(text, Loader=yaml.SafeLoader))
    except (yaml.YAMLError, RecursionError) as exc:
        yield _yaml_problem(exc)
        return
    stack: list[yaml.Node] = [doc for doc in documents if doc is not None]
    walked = 0
    while stack and walked < MAX_NODES:
        node = stack.pop()
        walked += 1
        if isinstance(node, yaml.MappingNode):
            yield from _yaml_mapping(node)
            stack.extend(v for _, v in node.value)
        elif isinstance(node, yaml.SequenceNode):
            tokens = [(str(i.value), _scalar_line(i)) for i in node.value if isinstance(i, yaml.ScalarNode)]
            yield from arg_refs(tokens, "yaml")
            stack.extend(node.value)
        elif _is_str(node) and isinstance(node, yaml.ScalarNode) and (" " in node.value or "=" in node.value):
            line = _scalar_line(node)
            for raw in str(node.value).splitlines() or [""]:
                yield from env_assignment(raw, line, "yaml")
                yield from arg_refs([(tok, line) for tok in _split(raw)], "yaml")


def _tree_values(data: Any, prefix: str) -> Iterator[tuple[str, str]]:
    """(kind, value) pairs from a parsed JSON or TOML document."""
    stack: list[Any] = [data]
    walked = 0
    while stack and walked < MAX_NODES:
        item = stack.pop()
        walked += 1
        if isinstance(item, dict):
            for key, value in item.items():
                if key in CONFIG_KEYS or key in MODEL_ENV_VARS:
                    values = value if isinstance(value, list) else [value]
                    yield from ((f"{prefix}:{key}", v) for v in values if isinstance(v, str))
                stack.append(value)
        elif isinstance(item, list):
            strings = [v for v in item if isinstance(v, str)]
            yield from ((f.kind, f.value) for f in arg_refs([(s, 0) for s in strings], prefix))
            stack.extend(item)
        elif isinstance(item, str) and " " in item:
            yield from ((f.kind, f.value) for f in arg_refs([(s, 0) for s in _split(item)], prefix))


def _located(text: str, pairs: Iterator[tuple[str, str]], quote: str) -> Iterator[Found]:
    """Each value at every line it appears on (the parsers keep no positions)."""
    for kind, value in sorted(set(pairs)):
        quoted = json.dumps(value) if quote == "json" else f'"{value}"'
        needle = quoted if quoted in text else value
        start = text.find(needle)
        while start != -1:
            yield Found(value, text.count("\n", 0, start) + 1, kind)
            start = text.find(needle, start + len(needle))


def _json_problem(exc: Exception, what: str) -> Unparseable:
    if isinstance(exc, json.JSONDecodeError):
        return Unparseable(exc.lineno, f"{what} does not load ({exc.msg})")
    return Unparseable(None, f"{what} does not load ({type(exc).__name__}: nested too deeply or invalid)")


def _toml_problem(exc: Exception) -> Unparseable:
    import re

    message = str(exc)
    at = re.search(r"line (\d+)", message)
    return Unparseable(int(at.group(1)) if at else None, f"TOML does not load ({message.split(' (at ')[0]})")


def json_refs(text: str) -> Iterator[Found | Unparseable]:
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:
        yield _json_problem(exc, "JSON")
        return
    yield from _located(text, _tree_values(data, "json"), "json")


def toml_refs(text: str) -> Iterator[Found | Unparseable]:
    try:
        data = tomllib.loads(text)
    except (tomllib.TOMLDecodeError, RecursionError) as exc:
        yield _toml_problem(exc)
        return
    yield from _located(text, _tree_values(data, "toml"), "toml")


def _in_cell(found: Found | Unresolved | Unparseable, cell: int) -> Found | Unresolved | Unparseable:
    if isinstance(found, Found):
        return Found(found.value, found.line, "notebook:" + found.kind.split(":", 1)[1], found.revision,
                     found.target, cell, found.note, found.strict, found.call, found.directive)
    if isinstance(found, Unresolved):
        return Unresolved(found.line, found.call, found.reason, found.target, cell, found.directive)
    return Unparseable(found.line, found.reason, cell)


def notebook_refs(text: str) -> Iterator[Found | Unresolved | Unparseable]:
    """Code cells of a Jupyter notebook, each parsed as Python (IPython `!`/`%` lines read as commands)."""
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:
        yield _json_problem(exc, "the notebook's JSON")
        return
    cells = data.get("cells") if isinstance(data, dict) else None
    for number, cell in enumerate(cells if isinstance(cells, list) else [], start=1):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        source = cell.get("source")
        code = "".join(source) if isinstance(source, list) else source if isinstance(source, str) else ""
        lines = code.splitlines()
        magics = [(line.lstrip()[1:], index) for index, line in enumerate(lines, start=1)
                  if line.lstrip().startswith(("!", "%"))]
        python = "\n".join("" if line.lstrip().startswith(("!", "%")) else line for line in lines)
        for found in python_refs(python):
            yield _in_cell(found, number)
        for command, index in magics:
            for found in arg_refs([(tok, index) for tok in _split(command)], "notebook"):
                yield Found(found.value, found.line, found.kind, None, found.target, number)


def modelfile_refs(text: str) -> Iterator[Found]:
    """`FROM hf.co/owner/name[:quant]` (a Hub GGUF repo), `FROM name[:tag]` (an Ollama model), `FROM ./x.gguf`."""
    for number, raw in enumerate(text.splitlines(), start=1):
        parts = raw.strip().split(maxsplit=1)
        if len(parts) == 2 and parts[0].upper() == "FROM":
            value = parts[1].strip()
            hub = value.lower().startswith(("hf.co/", "huggingface.co/"))
            yield Found(value, number, "modelfile:FROM", target=None if hub else "ollama")
