"""Model references in Python source (parsed with `ast`, never imported or run).

Besides literal model ids, a loading call's argument is resolved through a module constant bound once and
through the default of an environment lookup (`os.getenv("M", "org/x")`, `os.environ.get("M") or "org/x"`).
Any other argument of a known loading call (a variable, an f-string, an attribute, a call) is an *unresolved
load*: reported with why, never dropped. `# auditor: loads owner/name` or `# auditor: ignore` on the line (or
the line above) acknowledges one.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import islice

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
_MAX_HOPS = 8  # constant -> constant -> … chains followed (a cycle ends here)
_DIRECTIVE = re.compile(r"#\s*auditor\s*:(?P<text>.*)$", re.IGNORECASE)
MAX_SOURCE_CHARS = 160  # of an expression quoted in a reason
MAX_SOURCE_NODES = 400  # an expression larger than this is named, not unparsed (a hostile file stays linear)


@dataclass(frozen=True)
class Found:
    value: str
    line: int
    kind: str
    revision: str | None = None
    target: Target | None = None
    cell: int | None = None  # the notebook cell (1-based), `line` counting within it
    note: str | None = None  # e.g. the environment variable whose default this is
    strict: bool = False  # a known loading call's argument: a value that names nothing is an unresolved load
    call: str = ""  # the call's source (strict only)
    directive: str | None = None  # the `# auditor:` comment on (or above) the line, its text after the colon


@dataclass(frozen=True)
class Unresolved:
    """A known loading call whose model argument is not statically known."""

    line: int
    call: str  # the call's source, shortened
    reason: str
    target: Target | None = None
    cell: int | None = None
    directive: str | None = None


@dataclass(frozen=True)
class Unparseable:
    """The file (or notebook cell) could not be parsed; `line` where the parser stopped, when it says."""

    line: int | None
    reason: str
    cell: int | None = None


@dataclass(frozen=True)
class _Value:
    text: str | None  # the statically known string, or None
    env: str | None = None  # the environment variable whose default `text` is
    why: str = ""  # why `text` is not known


@dataclass(frozen=True)
class _Module:
    bindings: dict[str, ast.expr]  # names bound exactly once, to this expression
    ollama_aliases: frozenset[str]  # names the `ollama` module is bound to
    mlx_loads: frozenset[str]  # names `mlx_lm.load` is bound to
    loaded: frozenset[str]  # names bound to the result of a loading call (a model object, not an id)


def source(node: ast.AST) -> str:
    """The expression's source, on one line and shortened; a huge expression is not unparsed at all."""
    if sum(1 for _ in islice(ast.walk(node), MAX_SOURCE_NODES)) >= MAX_SOURCE_NODES:
        head = source(node.func) if isinstance(node, ast.Call) else type(node).__name__
        return f"{head}(…)"
    text = " ".join(ast.unparse(node).split())
    return text if len(text) <= MAX_SOURCE_CHARS else text[:MAX_SOURCE_CHARS - 1] + "…"


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


def _bindings(tree: ast.AST) -> tuple[dict[str, ast.expr], dict[str, list[ast.expr]]]:
    """(names bound exactly once, by a simple assignment, to their value; every simple assignment's values)."""
    stores: dict[str, int] = {}
    values: dict[str, list[ast.expr]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            stores[node.id] = stores.get(node.id, 0) + 1
        elif isinstance(node, ast.arg):  # a parameter shadows a constant of the same name
            stores[node.arg] = stores.get(node.arg, 0) + 1
        target, value = _simple_assignment(node)
        if target is not None and value is not None:
            values.setdefault(target, []).append(value)
    once = {name: found[0] for name, found in values.items() if stores.get(name) == 1 and len(found) == 1}
    return once, values


def _imports(tree: ast.AST) -> tuple[frozenset[str], frozenset[str]]:
    ollama, mlx = {"ollama"}, set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            ollama |= {a.asname or a.name for a in node.names if a.name == "ollama"}
        elif isinstance(node, ast.ImportFrom) and node.module in _MLX_MODULES:
            mlx |= {a.asname or a.name for a in node.names if a.name == "load"}
    return frozenset(ollama), frozenset(mlx)


def _env_lookup(node: ast.expr) -> tuple[str, ast.expr | None] | None:
    """`os.getenv("M", d)`, `os.environ.get("M", d)`, `environ.get(…)`, `getenv(…)`, `os.environ["M"]`:
    (the variable, its default expression or None); None for anything else."""
    if isinstance(node, ast.Subscript) and _is_environ(node.value):
        key = node.slice
        return (key.value, None) if isinstance(key, ast.Constant) and isinstance(key.value, str) else None
    if not isinstance(node, ast.Call) or not node.args:
        return None
    func, first = node.func, node.args[0]
    if not (isinstance(first, ast.Constant) and isinstance(first.value, str)):
        return None
    if not _is_env_getter(func):
        return None
    default = node.args[1] if len(node.args) > 1 else next((k.value for k in node.keywords if k.arg == "default"), None)
    return first.value, default


def _is_env_getter(func: ast.expr) -> bool:
    """`getenv`, `os.getenv`, `environ.get`, `os.environ.get`."""
    if isinstance(func, ast.Name):
        return func.id == "getenv"
    if not isinstance(func, ast.Attribute):
        return False
    if func.attr == "getenv":
        return _is_name(func.value, "os")
    return func.attr == "get" and _is_environ(func.value)


def _is_name(node: ast.expr, name: str) -> bool:
    return isinstance(node, ast.Name) and node.id == name


def _is_environ(node: ast.expr) -> bool:
    return _is_name(node, "environ") or (isinstance(node, ast.Attribute) and node.attr == "environ"
                                         and _is_name(node.value, "os"))


def _resolve_env(variable: str, default: ast.expr | None, module: _Module, hops: int) -> _Value:
    if default is None:
        return _Value(None, why=f"the environment variable {variable}, with no default in the code")
    value = _resolve(default, module, hops + 1)
    if value.text is None:
        return _Value(None, why=f"the environment variable {variable}, whose default is {value.why}")
    return _Value(value.text, env=variable)


def _resolve_or(node: ast.BoolOp, module: _Module, hops: int) -> _Value:
    """`os.environ.get("M") or "org/x"`: the last operand's value, as the default of the variable."""
    lookups = [_env_lookup(v) for v in node.values[:-1]]
    variables = [found[0] for found in lookups if found is not None]
    last = _resolve(node.values[-1], module, hops + 1)
    if isinstance(node.op, ast.Or) and len(variables) == len(lookups) and last.text is not None:
        return _Value(last.text, env=variables[0])
    return _Value(None, why=f"an expression (`{source(node)}`)")


def _resolve_name(node: ast.Name, module: _Module, hops: int) -> _Value:
    bound = module.bindings.get(node.id)
    if bound is None:
        return _Value(None, why=f"the variable `{node.id}` (a parameter, bound more than once, or not bound "
                                f"in this file)")
    value = _resolve(bound, module, hops + 1)
    if value.text is None:
        return _Value(None, why=f"the variable `{node.id}` = {value.why}")
    return value


def _resolve(node: ast.expr, module: _Module, hops: int = 0) -> _Value:
    """The string an expression statically is, or why it is not known."""
    if hops > _MAX_HOPS:
        return _Value(None, why="a chain of names too long to follow")
    if isinstance(node, ast.Constant):
        return _Value(node.value) if isinstance(node.value, str) else _Value(None, why=f"`{source(node)}`")
    if isinstance(node, ast.Name):
        return _resolve_name(node, module, hops)
    lookup = _env_lookup(node)
    if lookup is not None:
        return _resolve_env(lookup[0], lookup[1], module, hops)
    if isinstance(node, ast.BoolOp):
        return _resolve_or(node, module, hops)
    what = {ast.JoinedStr: "an f-string", ast.Attribute: "an attribute", ast.Call: "the result of a call",
            ast.Subscript: "a subscript", ast.BinOp: "a computed string", ast.Starred: "unpacked arguments"}
    return _Value(None, why=f"{what.get(type(node), 'an expression')} (`{source(node)}`)")


def _literal(node: ast.expr | None, module: _Module) -> str | None:
    return _resolve(node, module).text if node is not None else None


def _spec(name: str, receiver: str, module: _Module) -> tuple[int | None, Target | None] | None:
    """Where the model argument of this call is, and what it names; None for a call that loads nothing."""
    if receiver in module.ollama_aliases and name in _OLLAMA_FUNCTIONS:
        return (0, "ollama")
    if (name == "load" and receiver in _MLX_MODULES) or (not receiver and name in module.mlx_loads):
        return (0, None)
    if name == "from_pretrained" and receiver.startswith("PeftModel"):
        return (1, None)  # PeftModel.from_pretrained(base_model, adapter)
    return _CALLS.get(name)


def _option_default(call: ast.Call, module: _Module) -> Iterator[Found]:
    """`parser.add_argument("--model", default="org/x")`, `@click.option("--model-id", default=…)`."""
    flags = [_literal(a, module) or "" for a in call.args]
    if not any("model" in flag.lower() for flag in flags):
        return
    for keyword in call.keywords:
        if keyword.arg == "default":
            value = _literal(keyword.value, module)
            if value is not None:
                yield Found(value, keyword.value.lineno, "python:option-default")


def _candidates(call: ast.Call, spec: tuple[int | None, Target | None] | None,
                kwargs: dict[str, ast.expr]) -> list[ast.expr]:
    keys = _MODEL_KWARGS if spec is not None else _ANY_CALL_KWARGS
    candidates: list[ast.expr] = [kwargs[k] for k in sorted(keys & kwargs.keys())]
    position = spec[0] if spec is not None else None
    if position is not None and len(call.args) > position:
        candidates.insert(0, call.args[position])
    return candidates


def _not_an_id(node: ast.expr, module: _Module) -> bool:
    """A model object (`pipeline(model=model)` after `model = X.from_pretrained(…)`) or a non-string constant
    (`None`): no id to resolve."""
    if isinstance(node, ast.Constant):
        return not isinstance(node.value, str)
    return isinstance(node, ast.Name) and node.id in module.loaded


def _call_refs(call: ast.Call, module: _Module) -> Iterator[Found | Unresolved]:
    name, receiver = _call_name(call.func)
    if name in _OPTION_CALLS:
        yield from _option_default(call, module)
        return
    kwargs = {kw.arg: kw.value for kw in call.keywords if kw.arg}
    if _literal(kwargs.get("repo_type"), module) in _NON_MODEL_REPO_TYPES:
        return
    spec = _spec(name, receiver, module)
    target = spec[1] if spec is not None else None
    revision = _literal(kwargs.get("revision"), module)
    kind = f"python:{name or 'call'}"
    for candidate in _candidates(call, spec, kwargs):
        if spec is not None and _not_an_id(candidate, module):
            continue
        value = _resolve(candidate, module)
        if value.text is not None:
            env_kind = "python:env-default" if value.env else kind
            note = (f"the default of the environment variable {value.env}; the deployed value may differ"
                    if value.env else None)
            yield Found(value.text, candidate.lineno, env_kind, revision, target, note=note,
                        strict=spec is not None, call=source(call))
        elif spec is not None:
            yield Unresolved(candidate.lineno, source(call), f"the model argument is {value.why}", target)


def _directives(text: str) -> dict[int, str]:
    """`# auditor: …` comments by line: the text after the colon (comments only, never a string's content)."""
    if "auditor" not in text.lower():
        return {}
    found: dict[int, str] = {}
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.type == tokenize.COMMENT:
                match = _DIRECTIVE.match(token.string)
                if match:
                    found[token.start[0]] = match.group("text").strip()
    except (tokenize.TokenError, SyntaxError):
        pass
    return found


def _near(directives: dict[int, str], *lines: int) -> str | None:
    for line in lines:
        for at in (line, line - 1):
            if at in directives:
                return directives[at]
    return None


def _module(tree: ast.AST) -> _Module:
    ollama, mlx = _imports(tree)
    bindings, assigned = _bindings(tree)
    probe = _Module(bindings, ollama, mlx, frozenset())
    loaded = frozenset(name for name, values in assigned.items() for value in values
                       if isinstance(value, ast.Call) and _spec(*_call_name(value.func), probe) is not None)
    return _Module(bindings, ollama, mlx, loaded)


def _parse(text: str) -> ast.Module | Unparseable:
    try:
        return ast.parse(text)
    except SyntaxError as exc:
        return Unparseable(exc.lineno, f"Python does not parse ({exc.msg})")
    except (ValueError, RecursionError, MemoryError) as exc:
        return Unparseable(None, f"Python does not parse ({type(exc).__name__}: nested too deeply or invalid)")


def python_refs(text: str) -> Iterator[Found | Unresolved | Unparseable]:
    tree = _parse(text)
    if isinstance(tree, Unparseable):
        yield tree  # not parseable: say so rather than guess
        return
    module = _module(tree)
    directives = _directives(text)
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        for found in _call_refs(node, module):
            directive = _near(directives, found.line, node.lineno)
            if directive is None:
                yield found
            elif isinstance(found, Found):
                yield Found(found.value, found.line, found.kind, found.revision, found.target, found.cell,
                            found.note, found.strict, found.call, directive)
            else:
                yield Unresolved(found.line, found.call, found.reason, found.target, found.cell, directive)
