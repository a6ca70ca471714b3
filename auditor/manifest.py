"""The model manifest (`auditor.yaml`): which models a product uses and how it uses them.

Loaded with PyYAML's safe loader only. Every problem becomes one `ManifestError` whose message
is a single line `<file>:<line>: <field path>: <problem>. <how to fix>` so editors, CI logs and
SARIF can point at the offending line.
"""

from __future__ import annotations

import difflib
import re
import types
import typing
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    WithJsonSchema,
    create_model,
    field_validator,
    model_validator,
)
from pydantic_core import ErrorDetails, PydanticCustomError

from auditor import yamlio
from auditor.errors import AuditorError
from auditor.model import DeclaredUse, ModelRef
from auditor.sources import registry
from auditor.sources.registry import SourceSpec
from auditor.sources.repo_id import is_repo_id as is_repo_id  # the one predicate, re-exported
from auditor.sources.repo_id import repo_id_problem
from auditor.vocab import DeclarableRelation

DEFAULT_MANIFEST = "auditor.yaml"

ManifestRelation = DeclarableRelation

Loc = tuple[str | int, ...]

_REVISION_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_./-]{0,254}$")


class ManifestError(AuditorError):
    """A manifest problem. `str(err)` is one line: `<file>:<line>: <field>: <problem>. <fix>`."""

    def __init__(self, message: str, *, file: str = "", line: int = 0, field: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.file = file
        self.line = line
        self.field = field


# --------------------------------------------------------------------------- validators


def _check_repo_id(value: str) -> str:
    problem = repo_id_problem(value)
    if problem is not None:
        raise PydanticCustomError("repo_id", "{problem}", {"problem": problem})
    return value


def _joined(words: list[str], last: str) -> str:
    """`a`, `a or b`, `a, b or c`."""
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + f" {last} " + words[-1]


def _str_or_list(value: Any) -> Any:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return value
    raise PydanticCustomError(
        "str_or_list",
        "expected a string or a list of strings. Write e.g. `x` or `[x, y]`",
    )


def _none_to_empty_mapping(value: Any) -> Any:
    return {} if value is None else value


# `key:` with no value (null) is accepted and means an empty list, so the schema accepts it too.
_STR_OR_LIST_SCHEMA: dict[str, Any] = {
    "anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}, {"type": "null"}]
}

StrOrList = Annotated[
    list[Annotated[str, Field(min_length=1)]],
    BeforeValidator(_str_or_list),
    WithJsonSchema(_STR_OR_LIST_SCHEMA),
]
RepoId = Annotated[str, BeforeValidator(lambda v: _check_repo_id(v) if isinstance(v, str) else v)]
RepoIdList = Annotated[
    list[RepoId],
    BeforeValidator(_str_or_list),
    WithJsonSchema(_STR_OR_LIST_SCHEMA),
]


# --------------------------------------------------------------------------- schema


def _kind_value_check(spec: SourceSpec) -> Callable[[Any], Any]:
    """The manifest value check of one kind (e.g. a Hub `id` must be a repo id)."""

    def check(value: Any) -> Any:
        if isinstance(value, str):
            problem = spec.handler().manifest_problem(value)
            if problem is not None:
                raise PydanticCustomError("ref_value", "{problem}", {"problem": problem})
        return value

    return check


def _kind_fields() -> dict[str, Any]:
    """One optional key per registered source kind (`id`, `path`, …), in registry order."""
    return {
        spec.manifest_key: (
            Annotated[str | None, BeforeValidator(_kind_value_check(spec))],
            Field(default=None, min_length=1, description=spec.manifest_help),
        )
        for spec in registry.registered().values()
    }


if TYPE_CHECKING:

    class _KindKeys(BaseModel):
        """The registered kinds' keys (`id`, `path`, …), each `str | None`, built from the registry at
        import. They are not typed attributes: read an entry through `ref`, `source_spec`, `display_name`."""

else:
    _KindKeys = create_model("_KindKeys", __config__=ConfigDict(frozen=True, extra="forbid"), **_kind_fields())


def _a(word: str) -> str:
    """The indefinite article before a source label ("an Ollama", "a GGUF")."""
    return "an" if word[:1].lower() in "aeio" else "a"


class ModelEntry(_KindKeys):
    """One model the product uses, named by exactly one registered kind's key: a Hub repo (`id`), a
    local folder (`path`), …"""

    model_config = ConfigDict(frozen=True, extra="forbid")

    revision: str | None = Field(
        default=None,
        description="Commit sha, branch or tag to pin ("
        + ", ".join(s.manifest_key for s in registry.registered().values() if s.revisions) + " only)",
    )
    name: str | None = Field(default=None, description="Display name")
    license: StrOrList = Field(default_factory=list, description="Declared license id(s)")
    license_name: str | None = None
    license_link: str | None = None
    base_model: RepoIdList = Field(default_factory=list, description="Parent model id(s)")
    base_model_relation: ManifestRelation | None = None
    private: bool = Field(default=False, description="Do not fetch; the facts declared here are the record")

    _line: int = PrivateAttr(default=0)
    _base_dir: Path | None = PrivateAttr(default=None)

    @field_validator("revision")
    @classmethod
    def _valid_revision(cls, value: str | None) -> str | None:
        if value is not None and (not _REVISION_RE.match(value) or ".." in value):
            raise PydanticCustomError(
                "revision",
                "'{value}' is not a valid revision. Use a commit sha, branch or tag name",
                {"value": value},
            )
        return value

    def _named_by(self) -> list[tuple[SourceSpec, str]]:
        """The registered kinds whose key this entry sets, with the value."""
        named = [(spec, getattr(self, spec.manifest_key, None)) for spec in registry.registered().values()]
        return [(spec, value) for spec, value in named if isinstance(value, str)]

    @model_validator(mode="after")
    def _one_source(self) -> ModelEntry:
        specs = list(registry.registered().values())
        named = self._named_by()
        if not named:
            adds = " or ".join(f"`{s.manifest_key}: {s.example}` for {_a(s.label)} {s.label} model" for s in specs)
            raise PydanticCustomError(
                "entry", "{message}",
                {"message": f"neither {_joined([f'`{s.manifest_key}`' for s in specs], 'nor')} is set. Add {adds}"},
            )
        if len(named) > 1:
            keys = [f"`{spec.manifest_key}`" for spec, _ in named]
            which = f"both {keys[0]} and {keys[1]} are" if len(keys) == 2 else f"{_joined(keys, 'and')} are all"
            ones = ", ".join(f"`{s.manifest_key}` for {_a(s.label)} {s.label} model" for s in specs)
            raise PydanticCustomError(
                "entry", "{message}",
                {"message": f"{which} set. Keep exactly one: {ones}", "field": named[1][0].manifest_key},
            )
        spec = named[0][0]
        if self.revision is not None and not spec.revisions:
            takes = _joined([f"a {s.label} `{s.manifest_key}`" for s in specs if s.revisions], "or")
            raise PydanticCustomError(
                "entry", "{message}",
                {"message": f"`revision` applies only to {takes}. Remove it from this {spec.label} "
                            f"`{spec.manifest_key}` entry", "field": "revision"},
            )
        if self.base_model_relation is not None and not self.base_model:
            raise PydanticCustomError(
                "entry",
                "`base_model_relation` is set without `base_model`. Add `base_model: owner/name` "
                "or remove the relation",
                {"field": "base_model_relation"},
            )
        return self

    @property
    def line(self) -> int:
        """1-based line of this entry in the manifest (0 when not loaded from a file)."""
        return self._line

    @property
    def source_spec(self) -> SourceSpec:
        """The registered kind this entry names (by its key: `id`, `path`, …)."""
        return self._named_by()[0][0]

    @property
    def manifest_key(self) -> str:
        """The key naming the model (`id`, `path`, …)."""
        return self.source_spec.manifest_key

    @property
    def display_name(self) -> str:
        named = self._named_by()
        return self.name or (named[0][1] if named else "")

    @property
    def ref(self) -> ModelRef:
        """The reference the crawler starts from (local ids are absolute folder paths)."""
        spec, value = self._named_by()[0]
        return spec.handler().manifest_ref(value, self.revision, self._base_dir)

    @property
    def has_declared_facts(self) -> bool:
        """True when the entry declares license or lineage facts by hand."""
        return bool(self.license or self.license_name or self.license_link or self.base_model)


class Manifest(BaseModel):
    """The whole `auditor.yaml`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    product: str | None = Field(default=None, description="Product name shown in reports")
    use: Annotated[DeclaredUse, BeforeValidator(_none_to_empty_mapping)] = Field(
        default_factory=DeclaredUse, description="The declared use; undeclared fields are asked for"
    )
    policy: str | None = Field(default=None, min_length=1, description="Policy file, relative path")
    rules: StrOrList = Field(default_factory=list, description="Extra rule folders, relative paths")
    models: list[ModelEntry] = Field(description="The models the product uses")

    _source: Path | None = PrivateAttr(default=None)
    _file: str = PrivateAttr(default="")
    _lines: dict[Loc, int] = PrivateAttr(default_factory=dict)

    @field_validator("models")
    @classmethod
    def _not_empty(cls, value: list[ModelEntry]) -> list[ModelEntry]:
        if not value:
            raise PydanticCustomError(
                "empty_models",
                "the models list is empty. Add at least one entry, e.g. `- id: owner/name`",
            )
        return value

    @property
    def source(self) -> Path | None:
        """The manifest file this was loaded from (absolute)."""
        return self._source

    @property
    def base_dir(self) -> Path | None:
        return self._source.parent if self._source else None

    @property
    def policy_path(self) -> Path | None:
        return _resolve(self.base_dir, self.policy) if self.policy else None

    @property
    def rule_dirs(self) -> list[Path]:
        return [_resolve(self.base_dir, r) for r in self.rules]

    @property
    def refs(self) -> list[ModelRef]:
        return [m.ref for m in self.models]

    def error_at(self, loc: Loc, text: str) -> ManifestError:
        """A problem found after loading (e.g. against the rules), located like a loading error."""
        return _error(self._file, self._lines, loc, text)


def _resolve(base: Path | None, value: str) -> Path:
    path = Path(value).expanduser()
    if not path.is_absolute():
        path = (base or Path.cwd()) / path
    return path.resolve()


def _vocab_schema(values: list[str], what: str) -> dict[str, Any]:
    """A list field of the vocabulary: one value, or a comma list, or a list of them. The enum holds the
    canonical spellings for editors; the tool also accepts any case (`auditor vocab` lists them)."""
    item = {"type": "string", "enum": values, "description": f"{what}; any case is accepted"}
    return {"anyOf": [{"type": "array", "items": item}, {"type": "string"}, {"type": "null"}], "default": None}


def manifest_json_schema() -> dict[str, Any]:
    """JSON schema of `auditor.yaml` (for `auditor schema manifest`), with the vocabulary's enums.

    It accepts exactly what `load_manifest` accepts: `use:` with every field commented out (as in
    the starter `auditor init` writes) is null in YAML, which the loader reads as "nothing declared".
    """
    from auditor import vocab

    schema = Manifest.model_json_schema()
    use = schema["properties"]["use"]
    ref = {"$ref": use.pop("$ref")}
    use["anyOf"] = [ref, {"type": "null"}]
    props = schema["$defs"]["DeclaredUse"]["properties"]
    regions = vocab.region_spellings()
    for key in ("domicile", "markets", "regions"):
        props[key] = {**_vocab_schema(regions, "an ISO 3166-1 code or name, EU or EEA"),
                      "description": props[key].get("description", "")}
    purposes = sorted({*vocab.PURPOSES, *(a for p in vocab.PURPOSES.values() for a in p.aliases)})
    props["purposes"] = _vocab_schema(purposes, "a purpose key or alias (auditor vocab purposes)")
    licensor = {"type": "string", "pattern": r"^[A-Za-z0-9][A-Za-z0-9._-]*$", "maxLength": 96}
    props["registered"] = {"anyOf": [{"type": "array", "items": licensor}, {"type": "string"}, {"type": "null"}],
                           "default": None, "description": props["registered"].get("description", "")}
    count = {"type": "integer", "minimum": 0}
    props["monthly_active_users_at_release"] = {
        "anyOf": [count, {"type": "object", "additionalProperties": count, "propertyNames": {"pattern": r"^[A-Za-z0-9][A-Za-z0-9._+-]*$"}},
                  {"type": "null"}],
        "default": None, "description": props["monthly_active_users_at_release"].get("description", "")}
    return schema


# --------------------------------------------------------------------------- yaml + line map


_STR_TAG = "tag:yaml.org,2002:str"


def _line_map(node: yaml.Node) -> tuple[dict[Loc, int], list[tuple[Loc, int, str]]]:
    """Map each field path to its 1-based line; also collect key problems (path, line, text)."""
    lines: dict[Loc, int] = {(): node.start_mark.line + 1}
    problems: list[tuple[Loc, int, str]] = []
    stack: list[tuple[Loc, yaml.Node]] = [((), node)]
    while stack:
        loc, current = stack.pop()
        if isinstance(current, yaml.MappingNode):
            seen: set[str] = set()
            for key_node, value_node in current.value:
                key = str(key_node.value)
                child = (*loc, key)
                line = key_node.start_mark.line + 1
                if key_node.tag != _STR_TAG:
                    problems.append((child, line, f"YAML reads this key as a non-string. Quote it: '{key}':"))
                elif key in seen:
                    problems.append((child, line, f"duplicate key. Keep only one `{key}:`"))
                seen.add(key)
                lines.setdefault(child, line)
                stack.append((child, value_node))
        elif isinstance(current, yaml.SequenceNode):
            for index, item in enumerate(current.value):
                child = (*loc, index)
                lines[child] = item.start_mark.line + 1
                stack.append((child, item))
    return lines, sorted(problems, key=lambda p: p[1])


def _line_for(lines: Mapping[Loc, int], loc: Loc) -> int:
    """The line of the deepest known prefix of `loc`."""
    for end in range(len(loc), -1, -1):
        if loc[:end] in lines:
            return lines[loc[:end]]
    return 1


def format_loc(loc: Loc) -> str:
    """`('models', 1, 'revison')` -> `models[1].revison`; the empty path is `manifest`."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out or "manifest"


def _parse_yaml(text: str, file: str) -> tuple[Any, yaml.Node | None]:
    try:
        return yamlio.load(text, file, yamlio.MANIFEST_LIMITS)
    except yamlio.YamlError as err:
        raise ManifestError(str(err), file=err.file, line=err.line) from None


# --------------------------------------------------------------------------- error messages


def _model_at(cls: type[BaseModel], loc: Loc) -> type[BaseModel] | None:
    """The pydantic model class that holds the keys at `loc` (walking field annotations)."""
    current: type[BaseModel] | None = cls
    for part in loc:
        if isinstance(part, int):
            continue
        if current is None or part not in current.model_fields:
            return None
        current = _find_model(current.model_fields[part].annotation)
    return current


def _find_model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if typing.get_origin(annotation) in (typing.Union, types.UnionType, list, typing.Annotated):
        for arg in typing.get_args(annotation):
            found = _find_model(arg)
            if found is not None:
                return found
    return None


_TYPE_HINTS: dict[str, str] = {
    "bool_type": "Write true or false",
    "bool_parsing": "Write true or false",
    "int_type": "Write a whole number without quotes, e.g. 2000000",
    "int_parsing": "Write a whole number without quotes, e.g. 2000000",
    "int_from_float": "Write a whole number, e.g. 2000000",
    "string_type": 'Put the value in quotes, e.g. "value"',
    "list_type": "Write a YAML list, e.g. [a, b]",
    "model_type": "Write a mapping of `key: value` lines",
    "model_attributes_type": "Write a mapping of `key: value` lines",
    "dict_type": "Write a mapping of `key: value` lines",
    "greater_than_equal": "Use a number that is 0 or more",
    "string_too_short": "Give a non-empty value or remove the key",
}


def _yaml_type(value: Any) -> str:
    names = {bool: "boolean", int: "number", float: "number", str: "string", list: "list", dict: "mapping"}
    return "null" if value is None else names.get(type(value), type(value).__name__)


def _describe(error: ErrorDetails) -> tuple[Loc, str]:
    """(location to point at, `<problem>. <how to fix>`) for one pydantic error."""
    loc: Loc = tuple(error["loc"])
    kind = error["type"]
    ctx = error.get("ctx") or {}
    if kind == "extra_forbidden":
        key = str(loc[-1])
        owner = _model_at(Manifest, loc[:-1])
        allowed = list(owner.model_fields) if owner else []
        close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
        hint = f"Did you mean '{close[0]}'? " if close else "Remove it or fix its spelling "
        return loc, f"unknown key. {hint}(allowed: {', '.join(allowed)})"
    if kind == "missing":
        return loc, f"required key `{loc[-1]}` is missing. Add `{loc[-1]}:` here"
    if kind == "literal_error":
        allowed = re.findall(r"'([^']*)'", str(ctx.get("expected", "")))
        given = str(error.get("input"))
        close = difflib.get_close_matches(given, allowed, n=1, cutoff=0.6)
        hint = f"Did you mean '{close[0]}'? " if close else ""
        return loc, f"invalid value '{given}'. {hint}Allowed values: {', '.join(allowed)}"
    if kind in ("entry", "repo_id", "ref_value", "revision", "empty_models", "str_or_list", "vocab"):
        field = ctx.get("field")
        return ((*loc, field) if isinstance(field, str) else loc), error["msg"]
    problem = error["msg"].removeprefix("Value error, ")
    problem = problem[:1].lower() + problem[1:]
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        problem = "expected a mapping"
    got = f" (got {_yaml_type(error.get('input'))})" if kind.endswith("_type") else ""
    hint = _TYPE_HINTS.get(kind, "Fix the value")
    if loc[:1] == ("models",) and len(loc) <= 2 and kind.endswith("_type"):
        hint = "Write each model as a list item such as " + " or ".join(
            f"`- {spec.manifest_key}: {spec.example}`" for spec in registry.registered().values())
    return loc, f"{problem}{got}. {hint}"


def _error(file: str, lines: Mapping[Loc, int], loc: Loc, text: str) -> ManifestError:
    line = _line_for(lines, loc)
    field = format_loc(loc)
    return ManifestError(f"{file}:{line}: {field}: {text}", file=file, line=line, field=field)


def _validation_errors(err: ValidationError, file: str, lines: Mapping[Loc, int]) -> list[ManifestError]:
    """All errors in file order; a missing key comes last (a misspelt key usually explains it)."""
    found = [(d["type"] == "missing", _error(file, lines, *_describe(d))) for d in err.errors()]
    return [e for _, e in sorted(found, key=lambda pair: (pair[0], pair[1].line))]


# --------------------------------------------------------------------------- loading


def _semantic_checks(manifest: Manifest, file: str, lines: Mapping[Loc, int]) -> Iterator[ManifestError]:
    """Checks that need the file's location or the whole list."""
    seen: dict[str, int] = {}
    for index, entry in enumerate(manifest.models):
        key = entry.ref.key.lower()
        if key in seen:
            field = entry.manifest_key
            yield _error(
                file,
                lines,
                ("models", index, field),
                f"duplicate model (first listed at line {seen[key]}). Remove one of the entries",
            )
        seen.setdefault(key, entry.line)
    policy = manifest.policy_path
    if policy is not None and not policy.is_file():
        yield _error(
            file, lines, ("policy",), f"file not found: {policy}. Give a path relative to the manifest"
        )
    for index, folder in enumerate(manifest.rule_dirs):
        if not folder.is_dir():
            loc: Loc = ("rules", index) if ("rules", index) in lines else ("rules",)
            yield _error(
                file, lines, loc, f"folder not found: {folder}. Give a path relative to the manifest"
            )


def load_manifest(path: Path) -> Manifest:
    """Read and validate a manifest. Raises `ManifestError` (one-line message) on any problem."""
    file = str(path)
    try:
        text = yamlio.read_text(path, yamlio.MANIFEST_LIMITS,
                                hint="Check the path, or run `auditor init` to create one")
    except yamlio.YamlError as err:
        raise ManifestError(str(err), file=err.file, line=err.line) from None
    data, node = _parse_yaml(text, file)
    if node is None or data is None:
        raise ManifestError(
            f"{file}:1: manifest: the file is empty. Add a `models:` list (run `auditor init` for a starter)",
            file=file,
            line=1,
        )
    lines, key_problems = _line_map(node)
    if key_problems:
        loc, line, text = key_problems[0]
        raise _error(file, {**lines, loc: line}, loc, text)
    if not isinstance(data, dict):
        raise ManifestError(
            f"{file}:{lines[()]}: manifest: the top level is a {_yaml_type(data)}, not a mapping. "
            "Start the file with keys such as `use:` and `models:`",
            file=file,
            line=lines[()],
        )
    try:
        manifest = Manifest.model_validate(data)
    except ValidationError as err:
        raise _validation_errors(err, file, lines)[0] from err
    manifest._source = path.resolve()
    manifest._file, manifest._lines = file, lines
    for index, entry in enumerate(manifest.models):
        entry._line = lines.get(("models", index), 0)
        entry._base_dir = manifest.base_dir
    problems = list(_semantic_checks(manifest, file, lines))
    if problems:
        raise problems[0]
    return manifest


# --------------------------------------------------------------------------- starter


_STARTER = """\
# auditor.yaml: the models your product uses and how you use them.
# `auditor schema manifest` prints the JSON schema of this file;
# `auditor scan .` lists model ids found in your code, to paste below.

# product: Acme Assistant

# How you use the models. Leave a field out and the audit asks for it:
# any license term that depends on it is reported as "needs input".
use:
  # commercial: true
  # monthly_active_users: 2000000
  # monthly_active_users_at_release: {llama3.1: 0}   # users in the month before a license's release date
  # annual_revenue_usd: 5000000
  # distribution: saas            # internal | saas | weights
  # regions: [EU, US]
  # purposes: [chat-assistant]
  # production: true              # live use with end users (false: research, evaluation, testing only)
  # registered: [stabilityai]     # licensors you registered with for commercial use (Hub organisations)
  # trains_on_outputs: false      # you train or improve other models on the models' outputs (distillation)

# policy: policy.yaml             # your organisation's policy, relative to this file
# rules: [./legal/rules]          # extra license rule folders, relative to this file

models:
  - id: example-org/example-model # replace with the Hub ids you use
  # - id: meta-llama/Llama-3.1-8B-Instruct
  #   revision: 0e9e39f249a16976918f6564b8830bc894c89659   # pin a commit
  # - path: ./models/my-adapter   # a local model folder
  # - id: acme/private-model      # a private model, declared by hand
  #   private: true
  #   license: apache-2.0
  #   base_model: [mistralai/Mistral-7B-v0.1]
  #   base_model_relation: finetune   # finetune | adapter | quantized | merge | distillation
"""


def starter_manifest() -> str:
    """The commented manifest `auditor init` writes."""
    return _STARTER
