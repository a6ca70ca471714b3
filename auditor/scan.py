"""Find model references in a codebase (`auditor scan`).

Reads files only; never imports or executes them. Python is parsed with `ast`; YAML with the
safe loader; JSON with `json`; Ollama Modelfiles line by line. Only values that look like Hub
repo ids (`owner/name`, optionally `hf.co/owner/name`) are kept.
"""

from __future__ import annotations

import ast
import json
import os
import shlex
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict

from auditor.sources.repo_id import is_repo_id

MAX_FILE_BYTES = 2 * 1024 * 1024
SKIP_DIRS = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        ".venv",
        "node_modules",
        "__pycache__",
        ".mypy_cache",
        ".ruff_cache",
        ".pytest_cache",
        ".tox",
        ".nox",
    }
)

# Python callables (last name component) whose arguments name a model.
_CALL_POSITION: dict[str, int] = {
    "from_pretrained": 0,
    "hf_hub_download": 0,
    "snapshot_download": 0,
    "hf_hub_url": 0,
    "pipeline": 1,  # pipeline(task, model)
    "SentenceTransformer": 0,
    "CrossEncoder": 0,
    "LLM": 0,  # vllm.LLM
    "EngineArgs": 0,
    "AsyncEngineArgs": 0,
    "InferenceClient": 0,
    "load_adapter": 0,
}
_CALL_KWARGS = frozenset(
    {"model", "model_id", "model_name", "model_name_or_path", "pretrained_model_name_or_path", "repo_id"}
)
# Keyword arguments specific enough to count on any callable.
_ANY_CALL_KWARGS = frozenset({"pretrained_model_name_or_path", "repo_id"})
_NON_MODEL_REPO_TYPES = frozenset({"dataset", "space"})

_CONFIG_KEYS = frozenset(
    {
        "model",
        "model_id",
        "model_name",
        "model_name_or_path",
        "pretrained_model_name_or_path",
        "base_model",
        "repo_id",
    }
)
_ARG_FLAGS = frozenset({"--model", "--model-id", "--model_id", "--model-name-or-path"})
_HUB_PREFIXES = ("https://huggingface.co/", "http://huggingface.co/", "huggingface.co/", "hf.co/")
_FILE_SUFFIXES = (
    ".py",
    ".json",
    ".yaml",
    ".yml",
    ".txt",
    ".md",
    ".bin",
    ".safetensors",
    ".gguf",
    ".pt",
    ".pth",
    ".onnx",
    ".csv",
    ".parquet",
    ".ckpt",
    ".h5",
    ".pkl",
    ".tar",
    ".gz",
    ".zip",
)


class ScanHit(BaseModel):
    """One place a model is referenced."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    ref: str  # Hub repo id, owner/name
    file: str  # path relative to the scanned root, posix
    line: int  # 1-based
    kind: str  # e.g. "python:from_pretrained", "yaml:model", "yaml:--model", "modelfile:FROM"
    snippet: str  # the source line, stripped
    revision: str | None = None  # a revision pinned next to the reference, when one is


@dataclass(frozen=True)
class _Found:
    value: str
    line: int
    kind: str
    revision: str | None = None


# --------------------------------------------------------------------------- values


def normalise_ref(value: str) -> str | None:
    """The Hub repo id a value names, or None when it does not look like one.

    Accepts `owner/name`, `hf.co/owner/name[:tag]` and `https://huggingface.co/owner/name`.
    """
    text = value.strip()
    hub_prefixed = False
    for prefix in _HUB_PREFIXES:
        if text.lower().startswith(prefix):
            text, hub_prefixed = text[len(prefix) :], True
            break
    if hub_prefixed:
        text = text.split(":", 1)[0].rstrip("/")
        parts = text.split("/")
        text = "/".join(parts[:2]) if len(parts) >= 2 else text
    if not is_repo_id(text) or text.lower().endswith(_FILE_SUFFIXES):
        return None
    return text


def _is_local(value: str, here: Path, root: Path) -> bool:
    """True when `value` names something on disk relative to the file's folder, the scan root, or any
    folder between them (code is often run from its project folder, which may sit below the root)."""
    try:
        folder = here
        while True:
            if (folder / value).exists():
                return True
            if folder == root or not folder.is_relative_to(root) or folder.parent == folder:
                break
            folder = folder.parent
        return (root / value).exists()
    except OSError:
        return False


# --------------------------------------------------------------------------- python


def _call_name(func: ast.expr) -> tuple[str, str]:
    """(callable, receiver) of a call target: `AutoModel.from_pretrained` -> (from_pretrained, AutoModel)."""
    if isinstance(func, ast.Name):
        return func.id, ""
    if isinstance(func, ast.Attribute):
        receiver = func.value
        owner = (
            receiver.id
            if isinstance(receiver, ast.Name)
            else (receiver.attr if isinstance(receiver, ast.Attribute) else "")
        )
        return func.attr, owner
    return "", ""


def _string_constants(tree: ast.AST) -> dict[str, str]:
    """Names bound exactly once, to a plain string literal (e.g. `MODEL_ID = "org/name"`)."""
    stores: dict[str, int] = {}
    values: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            stores[node.id] = stores.get(node.id, 0) + 1
        elif isinstance(node, ast.arg):  # a parameter shadows a constant of the same name
            stores[node.arg] = stores.get(node.arg, 0) + 1
        target, value = _simple_assignment(node)
        if target is not None and isinstance(value, ast.Constant) and isinstance(value.value, str):
            values[target] = value.value
    return {name: text for name, text in values.items() if stores.get(name) == 1}


def _simple_assignment(node: ast.AST) -> tuple[str | None, ast.expr | None]:
    if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
        return node.targets[0].id, node.value
    if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
        return node.target.id, node.value
    return None, None


def _literal(node: ast.expr | None, constants: dict[str, str]) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.Name):
        return constants.get(node.id)
    return None  # f-strings, concatenations, calls: not statically known


def _call_refs(call: ast.Call, constants: dict[str, str]) -> Iterator[_Found]:
    name, receiver = _call_name(call.func)
    kwargs = {kw.arg: kw.value for kw in call.keywords if kw.arg}
    repo_type = _literal(kwargs.get("repo_type"), constants)
    if repo_type in _NON_MODEL_REPO_TYPES:
        return
    known = name in _CALL_POSITION
    keys = _CALL_KWARGS if known else _ANY_CALL_KWARGS
    if not known and not keys & kwargs.keys():
        return
    revision = _literal(kwargs.get("revision"), constants)
    kind = f"python:{name or 'call'}"
    candidates: list[ast.expr] = [kwargs[k] for k in sorted(keys & kwargs.keys())]
    if known:
        position = _CALL_POSITION[name]
        if name == "from_pretrained" and receiver.startswith("PeftModel"):
            position = 1  # PeftModel.from_pretrained(base_model, adapter_id)
        if len(call.args) > position:
            candidates.insert(0, call.args[position])
    for candidate in candidates:
        value = _literal(candidate, constants)
        if value is not None:
            yield _Found(value, candidate.lineno, kind, revision)


def _python_refs(text: str) -> Iterator[_Found]:
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return  # not parseable: skip the file rather than guess
    constants = _string_constants(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            yield from _call_refs(node, constants)


# --------------------------------------------------------------------------- yaml / json


def _arg_refs(tokens: list[tuple[str, int]], kind_prefix: str) -> Iterator[_Found]:
    """`--model X`, `--model=X` and `vllm serve X` in a command line split into tokens."""
    for index, (token, line) in enumerate(tokens):
        flag, _, inline = token.partition("=")
        if flag in _ARG_FLAGS:
            if inline:
                yield _Found(inline, line, f"{kind_prefix}:{flag}")
            elif index + 1 < len(tokens):
                yield _Found(tokens[index + 1][0], tokens[index + 1][1], f"{kind_prefix}:{flag}")
        elif _is_vllm_serve(tokens, index):
            yield _Found(tokens[index + 1][0], tokens[index + 1][1], f"{kind_prefix}:vllm-serve")


def _is_vllm_serve(tokens: list[tuple[str, int]], index: int) -> bool:
    """`tokens[index]` is `serve` in `vllm serve <model>`."""
    return (
        tokens[index][0] == "serve"
        and 0 < index < len(tokens) - 1
        and tokens[index - 1][0].endswith("vllm")
        and not tokens[index + 1][0].startswith("-")
    )


def _split(text: str) -> list[str]:
    try:
        return shlex.split(text)
    except ValueError:
        return text.split()


def _scalar_line(node: yaml.ScalarNode) -> int:
    block = node.style in ("|", ">")
    return node.start_mark.line + 1 + (1 if block else 0)


def _yaml_refs(text: str) -> Iterator[_Found]:
    try:
        documents = list(yaml.compose_all(text, Loader=yaml.SafeLoader))
    except yaml.YAMLError:
        return
    stack: list[yaml.Node] = [doc for doc in documents if doc is not None]
    while stack:
        node = stack.pop()
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode) and key.value in _CONFIG_KEYS:
                    yield from _yaml_key_values(str(key.value), value)
                stack.append(value)
        elif isinstance(node, yaml.SequenceNode):
            scalars = [item for item in node.value if isinstance(item, yaml.ScalarNode)]
            tokens = [(str(item.value), _scalar_line(item)) for item in scalars]
            yield from _arg_refs(tokens, "yaml")
            stack.extend(node.value)
        elif isinstance(node, yaml.ScalarNode) and node.tag.endswith(":str") and " " in node.value:
            line = _scalar_line(node)
            yield from _arg_refs([(tok, line) for tok in _split(node.value)], "yaml")


def _yaml_key_values(key: str, value: yaml.Node) -> Iterator[_Found]:
    if isinstance(value, yaml.ScalarNode) and value.tag.endswith(":str"):
        yield _Found(str(value.value), _scalar_line(value), f"yaml:{key}")
    elif isinstance(value, yaml.SequenceNode):
        for item in value.value:
            if isinstance(item, yaml.ScalarNode) and item.tag.endswith(":str"):
                yield _Found(str(item.value), _scalar_line(item), f"yaml:{key}")


def _json_values(data: Any) -> Iterator[tuple[str, str]]:
    """(kind, value) pairs from a parsed JSON document."""
    stack: list[Any] = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            for key, value in item.items():
                if key in _CONFIG_KEYS:
                    values = value if isinstance(value, list) else [value]
                    yield from ((f"json:{key}", v) for v in values if isinstance(v, str))
                stack.append(value)
        elif isinstance(item, list):
            strings = [v for v in item if isinstance(v, str)]
            yield from ((f.kind, f.value) for f in _arg_refs([(s, 0) for s in strings], "json"))
            stack.extend(item)
        elif isinstance(item, str) and " " in item:
            yield from ((f.kind, f.value) for f in _arg_refs([(s, 0) for s in _split(item)], "json"))


def _json_refs(text: str) -> Iterator[_Found]:
    try:
        data = json.loads(text)
    except ValueError:
        return
    for kind, value in sorted(set(_json_values(data))):
        quoted = json.dumps(value)
        needle = quoted if quoted in text else quoted[1:-1]
        start = text.find(needle)
        while start != -1:
            yield _Found(value, text.count("\n", 0, start) + 1, kind)
            start = text.find(needle, start + len(needle))


# --------------------------------------------------------------------------- Modelfile


def _modelfile_refs(text: str) -> Iterator[_Found]:
    """`FROM hf.co/owner/name[:quant]` and `FROM owner/name[:tag]` instructions."""
    for number, raw in enumerate(text.splitlines(), start=1):
        parts = raw.strip().split(maxsplit=1)
        if len(parts) != 2 or parts[0].upper() != "FROM":
            continue
        value = parts[1].strip()
        if value.lower().startswith(_HUB_PREFIXES):
            yield _Found(value, number, "modelfile:FROM")
        elif "/" in value:
            yield _Found(value.split(":", 1)[0], number, "modelfile:FROM")


# --------------------------------------------------------------------------- files


def _is_modelfile(name: str) -> bool:
    lower = name.lower()
    return lower == "modelfile" or lower.startswith("modelfile.") or lower.endswith(".modelfile")


def _reader_for(name: str) -> str | None:
    lower = name.lower()
    if lower.endswith(".py"):
        return "python"
    if lower.endswith((".yaml", ".yml")):
        return "yaml"
    if lower.endswith(".json"):
        return "json"
    if _is_modelfile(name):
        return "modelfile"
    return None


def _read_text(path: Path) -> str | None:
    """The file's text, or None when it is too large, binary or unreadable."""
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            return None
        raw = path.read_bytes()
    except OSError:
        return None
    if b"\x00" in raw[:8192]:
        return None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _candidate_files(root: Path) -> Iterator[Path]:
    if root.is_file():
        yield root
        return
    for current, dirs, files in os.walk(root):
        here = Path(current)
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and not (here / d / "pyvenv.cfg").exists())
        for name in sorted(files):
            path = here / name
            if _reader_for(name) is not None and not path.is_symlink():
                yield path


def _file_refs(kind: str, text: str) -> Iterable[_Found]:
    readers = {
        "python": _python_refs,
        "yaml": _yaml_refs,
        "json": _json_refs,
        "modelfile": _modelfile_refs,
    }
    return readers[kind](text)


def scan_file(path: Path, root: Path) -> list[ScanHit]:
    """Model references in one file (`file` is relative to `root`)."""
    kind = _reader_for(path.name)
    text = _read_text(path) if kind else None
    if kind is None or text is None:
        return []
    lines = text.splitlines()
    base = root if root.is_dir() else root.parent
    rel = path.relative_to(base).as_posix()
    hits: list[ScanHit] = []
    for found in _file_refs(kind, text):
        ref = normalise_ref(found.value)
        if ref is None or _is_local(found.value, path.parent, base):
            continue
        snippet = lines[found.line - 1].strip()[:200] if 0 < found.line <= len(lines) else ""
        hits.append(
            ScanHit(
                ref=ref, file=rel, line=found.line, kind=found.kind, snippet=snippet, revision=found.revision
            )
        )
    return hits


def scan_path(root: Path) -> list[ScanHit]:
    """Every model reference under `root` (a folder or one file), deduplicated and sorted."""
    unique: dict[tuple[str, str, int], ScanHit] = {}
    for path in _candidate_files(root):
        for hit in scan_file(path, root):
            unique.setdefault((hit.ref, hit.file, hit.line), hit)
    return sorted(unique.values(), key=lambda h: (h.file, h.line, h.ref, h.kind))


# --------------------------------------------------------------------------- proposal


def proposed_manifest_entries(hits: Iterable[ScanHit], max_places: int = 5) -> str:
    """A `models:` YAML snippet with one entry per distinct ref, commented with where it was found."""
    by_ref: dict[str, list[ScanHit]] = {}
    for hit in hits:
        by_ref.setdefault(hit.ref, []).append(hit)
    if not by_ref:
        return "# No model references found.\nmodels: []\n"
    out = ["models:"]
    for ref in sorted(by_ref):
        found = sorted(by_ref[ref], key=lambda h: (h.file, h.line))
        places = [f"{h.file}:{h.line}" for h in found[:max_places]]
        more = f" and {len(found) - max_places} more" if len(found) > max_places else ""
        out.append(f"  # found in {', '.join(places)}{more}")
        out.append(f"  - id: {ref}")
        revisions = {h.revision for h in found if h.revision}
        if len(revisions) == 1:
            out.append(f"    revision: {json.dumps(revisions.pop())}")
    return "\n".join(out) + "\n"
