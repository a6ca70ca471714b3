"""Model references in Python source (parsed with `ast`, never imported or run)."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass

from auditor.scan._values import Target

# Callables (last name component) whose argument names a model: position of the model argument (None:
# keyword arguments only), and what the value names (None: a Hub id or a local path).
_CALLS: dict[str, tuple[int | None, Target | None]] = {
    "from_pretrained": (0, None),  # transformers, diffusers, PEFT (second argument: see below), llama-cpp
    "from_single_file": (0, None),  # diffusers
    "load_lora_weights": (0, None),  # diffusers
    "load_adapter": (0, None),
    "hf_hub_download": (0, None),
    "snapshot_download": (0, None),
    "hf_hub_url": (0, None),
    "pipeline": (1, None),  # pipeline(task, model)
    "SentenceTransformer": (0, None),
    "CrossEncoder": (0, None),
    "LLM": (0, None),  # vllm.LLM
    "EngineArgs": (0, None),
    "AsyncEngineArgs": (0, None),
    "InferenceClient": (0, None),
    "Llama": (None, None),  # llama-cpp-python: Llama(model_path=…)
    "HuggingFaceEmbeddings": (None, None),  # LangChain
    "HuggingFaceEmbedding": (None, None),  # LlamaIndex
    "HuggingFaceEndpoint": (None, None),
    "HuggingFacePipeline": (None, None),
    "HuggingFaceLLM": (None, None),  # LlamaIndex
    "ChatHuggingFace": (None, None),
    "ChatOllama": (None, "ollama"),  # LangChain
    "OllamaLLM": (None, "ollama"),
    "OllamaEmbeddings": (None, "ollama"),
    "Ollama": (None, "ollama"),  # LlamaIndex, older LangChain
    "OllamaEmbedding": (None, "ollama"),
}
# Functions of the `ollama` client module: ollama.chat(model=…), ollama.pull("qwen2.5:7b").
_OLLAMA_FUNCTIONS = frozenset({"chat", "generate", "embed", "embeddings", "pull", "show", "create", "push"})
_MLX_MODULES = frozenset({"mlx_lm", "mlx_vlm"})
_MODEL_KWARGS = frozenset({"model", "model_id", "model_name", "model_name_or_path", "pretrained_model_name_or_path",
                           "repo_id", "model_path", "pretrained_model_link_or_path"})
# Keyword arguments specific enough to count on any callable.
_ANY_CALL_KWARGS = frozenset({"pretrained_model_name_or_path", "repo_id"})
_NON_MODEL_REPO_TYPES = frozenset({"dataset", "space"})
_OPTION_CALLS = frozenset({"add_argument", "option", "Option", "Argument", "argument"})  # argparse, click, typer


@dataclass(frozen=True)
class Found:
    value: str
    line: int
    kind: str
    revision: str | None = None
    target: Target | None = None
    cell: int | None = None  # the notebook cell (1-based), `line` counting within it


@dataclass(frozen=True)
class _Module:
    constants: dict[str, str]
    ollama_aliases: frozenset[str]  # names the `ollama` module is bound to
    mlx_loads: frozenset[str]  # names `mlx_lm.load` is bound to


def _call_name(func: ast.expr) -> tuple[str, str]:
    """(callable, receiver) of a call target: `AutoModel.from_pretrained` -> (from_pretrained, AutoModel)."""
    if isinstance(func, ast.Name):
        return func.id, ""
    if isinstance(func, ast.Attribute):
        receiver = func.value
        if isinstance(receiver, ast.Name):
            return func.attr, receiver.id
        return func.attr, receiver.attr if isinstance(receiver, ast.Attribute) else ""
    return "", ""


def _simple_assignment(node: ast.AST) -> tuple[str | None, ast.expr | None]:
    if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
        return node.targets[0].id, node.value
    if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
        return node.target.id, node.value
    return None, None


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


def _imports(tree: ast.AST) -> tuple[frozenset[str], frozenset[str]]:
    ollama, mlx = {"ollama"}, set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            ollama |= {a.asname or a.name for a in node.names if a.name == "ollama"}
        elif isinstance(node, ast.ImportFrom) and node.module in _MLX_MODULES:
            mlx |= {a.asname or a.name for a in node.names if a.name == "load"}
    return frozenset(ollama), frozenset(mlx)


def _literal(node: ast.expr | None, constants: dict[str, str]) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.Name):
        return constants.get(node.id)
    return None  # f-strings, concatenations, calls: not statically known


def _spec(name: str, receiver: str, module: _Module) -> tuple[int | None, Target | None] | None:
    """Where the model argument of this call is, and what it names; None for a call that loads nothing."""
    if receiver in module.ollama_aliases and name in _OLLAMA_FUNCTIONS:
        return (0, "ollama")
    if (name == "load" and receiver in _MLX_MODULES) or (not receiver and name in module.mlx_loads):
        return (0, None)
    if name == "from_pretrained" and receiver.startswith("PeftModel"):
        return (1, None)  # PeftModel.from_pretrained(base_model, adapter)
    return _CALLS.get(name)


def _option_default(call: ast.Call, constants: dict[str, str]) -> Iterator[Found]:
    """`parser.add_argument("--model", default="org/x")`, `@click.option("--model-id", default=…)`."""
    flags = [_literal(a, constants) or "" for a in call.args]
    if not any("model" in flag.lower() for flag in flags):
        return
    for keyword in call.keywords:
        if keyword.arg == "default":
            value = _literal(keyword.value, constants)
            if value is not None:
                yield Found(value, keyword.value.lineno, "python:option-default")


def _call_refs(call: ast.Call, module: _Module) -> Iterator[Found]:
    constants = module.constants
    name, receiver = _call_name(call.func)
    if name in _OPTION_CALLS:
        yield from _option_default(call, constants)
        return
    kwargs = {kw.arg: kw.value for kw in call.keywords if kw.arg}
    if _literal(kwargs.get("repo_type"), constants) in _NON_MODEL_REPO_TYPES:
        return
    spec = _spec(name, receiver, module)
    keys = _MODEL_KWARGS if spec is not None else _ANY_CALL_KWARGS
    if spec is None and not keys & kwargs.keys():
        return
    position, target = spec if spec is not None else (None, None)
    revision = _literal(kwargs.get("revision"), constants)
    kind = f"python:{name or 'call'}"
    candidates: list[ast.expr] = [kwargs[k] for k in sorted(keys & kwargs.keys())]
    if position is not None and len(call.args) > position:
        candidates.insert(0, call.args[position])
    for candidate in candidates:
        value = _literal(candidate, constants)
        if value is not None:
            yield Found(value, candidate.lineno, kind, revision, target)


def python_refs(text: str) -> Iterator[Found]:
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return  # not parseable: skip the file rather than guess
    ollama, mlx = _imports(tree)
    module = _Module(_string_constants(tree), ollama, mlx)
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            yield from _call_refs(node, module)
