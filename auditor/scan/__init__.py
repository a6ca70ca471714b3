"""Find the models a codebase loads (`auditor scan`).

Reads files only; never imports or executes them. Python (and notebooks' code cells) is parsed with
`ast`; YAML with the safe loader; JSON and TOML with the standard library; shell scripts, Dockerfiles,
Makefiles, `.env` files and Ollama Modelfiles line by line. Each reference is reported with its file and
line, the pattern that matched, what it names (a Hub repo, a local model file or folder, an Ollama model)
and a confidence. Hosted-API model names (`gpt-4o`, `openai/gpt-4o`) are left out unless asked.
Files that are the auditor's own (manifests, policies, locks, snapshots) are not scanned: a waiver or a
curated `base_model` there is no model the code loads.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict

from auditor.scan._python import Found, Unparseable, Unresolved
from auditor.scan._values import Confidence, Named, Target, classify, hub_ref, is_api_model, ollama_name
from auditor.sources.repo_id import is_repo_id

MAX_FILE_BYTES = 2 * 1024 * 1024
SKIP_DIRS = frozenset({".git", ".hg", ".svn", ".venv", "node_modules", "__pycache__", ".mypy_cache", ".ruff_cache",
                       ".pytest_cache", ".tox", ".nox"})
# The auditor's own files: never proposed as models the code loads.
OWN_FILES = frozenset({"auditor.lock", "snapshot.json"})

Reader = Literal["python", "yaml", "json", "toml", "notebook", "modelfile", "commands"]

# How sure a pattern is that the value is a model the code loads.
_CONFIDENCE: dict[str, Confidence] = {"python": "high", "notebook": "high", "modelfile": "high", "shell": "high",
                                      "docker": "high", "env": "medium", "yaml": "medium", "json": "medium",
                                      "toml": "medium", "make": "high"}
_LOW_KINDS = ("option-default",)  # a default the caller may override
_MEDIUM_KINDS = ("env-default",)  # the default of an environment variable the deployment may set


def normalise_ref(value: str) -> str | None:
    """The Hub repo id a value names, or None when it does not look like one."""
    return hub_ref(value)


class ScanHit(BaseModel):
    """One place a model is referenced."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    ref: str  # Hub repo id (owner/name), path relative to the scanned root, or Ollama name[:tag]
    file: str  # path relative to the scanned root, posix
    line: int  # 1-based (within the cell, for a notebook)
    kind: str  # the pattern: "python:from_pretrained", "yaml:--model", "modelfile:FROM", "shell:ollama-pull"…
    snippet: str  # the source line, stripped
    revision: str | None = None  # a revision pinned next to the reference, when one is
    target: Target = "hub"
    confidence: Confidence = "high"
    cell: int | None = None  # the notebook cell, 1-based
    note: str | None = None  # e.g. "the default of the environment variable MODEL; the deployed value may differ"

    @property
    def where(self) -> str:
        return _where(self.file, self.line, self.cell)


def _where(file: str, line: int | None, cell: int | None) -> str:
    at = f"{file}:cell {cell}" if cell else file
    return f"{at}:{line}" if line is not None else at


class UnresolvedLoad(BaseModel):
    """A known loading call whose model the scan cannot name (a variable, an f-string, an attribute, a call, a
    legacy id without an owner): never dropped, `scan --check` fails on it until the line is acknowledged."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    file: str
    line: int
    call: str  # the call's source, shortened
    reason: str  # why the model is not known, and what to write
    snippet: str
    cell: int | None = None

    @property
    def where(self) -> str:
        return _where(self.file, self.line, self.cell)

    def message(self) -> str:
        return (f"{self.where}: `{self.call}` loads a model the scan cannot name: {self.reason}. List the model in "
                f"the manifest and mark the line `{ACK_LOADS} owner/name`, or `{ACK_IGNORE}` when it loads no model "
                "to audit")


class ScanSkip(BaseModel):
    """A file (or notebook cell) not read: too large, binary, not UTF-8, or it does not parse."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    file: str
    reason: str
    line: int | None = None  # where the parser stopped, when it says
    cell: int | None = None
    unparseable: bool = False  # read but not parsed: `scan --check` has no answer for it (exit 2)

    def __str__(self) -> str:
        return f"{_where(self.file, self.line, self.cell)}: {self.reason}"


@dataclass
class ScanReport:
    hits: list[ScanHit] = field(default_factory=list)
    skipped: list[ScanSkip] = field(default_factory=list)  # files not read, with why
    unresolved: list[UnresolvedLoad] = field(default_factory=list)

    @property
    def unparseable(self) -> list[ScanSkip]:
        return [s for s in self.skipped if s.unparseable]


# Acknowledgement comments on (or above) a loading call's line: the only two directives.
ACK_LOADS = "# auditor: loads"
ACK_IGNORE = "# auditor: ignore"
_DIRECTIVE_VERBS = ("loads", "ignore")
LEGACY_REASON = ("a legacy id without an owner: the Hub redirects it; write owner/name (see the model page)")
# sentence-transformers resolves a bare name to `sentence-transformers/<name>`, except the legacy
# transformers ids it lists: see sentence_transformers/SentenceTransformer.py, `SentenceTransformer.__init__`
# ("A model from sentence-transformers": a name with no "/" that is not in `basic_transformer_models` is
# prefixed with `__MODEL_HUB_ORGANIZATION__`, "sentence-transformers" in sentence_transformers/__init__.py).
ST_ORGANIZATION = "sentence-transformers"
ST_LEGACY_FILE = Path(__file__).with_name("st_legacy_models.txt")
_ST_CALLS = ("SentenceTransformer",)


def _reader_for(name: str) -> Reader | None:
    lower = name.lower()
    by_suffix: dict[str, Reader] = {".py": "python", ".yaml": "yaml", ".yml": "yaml", ".json": "json",
                                    ".toml": "toml", ".ipynb": "notebook", ".sh": "commands", ".bash": "commands",
                                    ".env": "commands", ".mk": "commands"}
    for suffix, reader in by_suffix.items():
        if lower.endswith(suffix):
            return reader
    if lower == "modelfile" or lower.startswith("modelfile.") or lower.endswith(".modelfile"):
        return "modelfile"
    if lower in ("dockerfile", "containerfile", "makefile", "procfile", ".env") or \
            lower.startswith(("dockerfile.", ".env.")) or lower.endswith(".dockerfile"):
        return "commands"
    return None


def _prefix(name: str) -> str:
    lower = name.lower()
    if "dockerfile" in lower or "containerfile" in lower:
        return "docker"
    if lower.startswith(".env") or lower.endswith(".env"):
        return "env"
    if lower in ("makefile", "procfile") or lower.endswith(".mk"):
        return "make"
    return "shell"


def _read_text(path: Path) -> tuple[str | None, str]:
    """The file's text, or None and why it was not read (too large, binary, not UTF-8, unreadable)."""
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            return None, f"{size} bytes, over the {MAX_FILE_BYTES}-byte limit"
        raw = path.read_bytes()
    except OSError as exc:
        return None, f"cannot read ({exc.strerror})"
    if b"\x00" in raw[:8192]:
        return None, "binary"
    try:
        return raw.decode("utf-8"), ""
    except UnicodeDecodeError:
        return None, "not UTF-8"


def _is_own_file(path: Path, text: str, reader: Reader) -> bool:
    """An auditor manifest or policy: a YAML mapping with `models:` and `use:`, or with `waivers:`/`deny:`."""
    if path.name in OWN_FILES:
        return True
    if reader != "yaml":
        return False
    import yaml

    try:
        data = yaml.safe_load(text)
    except (yaml.YAMLError, RecursionError):
        return False
    if not isinstance(data, dict):
        return False
    keys = set(data)
    manifest = "models" in keys and bool(keys & {"use", "product", "policy"})
    policy = "waivers" in keys and bool(keys & {"allow", "deny", "review", "severity"})
    return manifest or policy


def _found(reader: Reader, name: str, text: str) -> Iterable[object]:
    from auditor.scan import _commands, _configs, _python

    if reader == "commands":
        return _commands.command_refs(text, _prefix(name))
    readers = {"python": _python.python_refs, "yaml": _configs.yaml_refs, "json": _configs.json_refs,
               "toml": _configs.toml_refs, "notebook": _configs.notebook_refs, "modelfile": _configs.modelfile_refs}
    return readers[reader](text)


def _confidence(kind: str) -> Confidence:
    if kind.endswith(_LOW_KINDS):
        return "low"
    if kind.endswith(_MEDIUM_KINDS):
        return "medium"
    return _CONFIDENCE.get(kind.split(":", 1)[0], "medium")


@cache
def st_legacy_models() -> frozenset[str]:
    """The bare legacy ids sentence-transformers does NOT prefix with its organisation (lower case)."""
    lines = ST_LEGACY_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip().lower() for line in lines if line.strip() and not line.startswith("#"))


def _is_bare_id(value: str) -> bool:
    """A legacy Hub id without an owner (`gpt2`, `bert-base-uncased`): one part of a repo id."""
    return "/" not in value and is_repo_id(f"owner/{value.strip()}") and value == value.strip()


@dataclass(frozen=True)
class _FileContext:
    rel: str
    folder: Path
    base: Path
    lines: list[str]
    include_api: bool


def _snippet(ctx: _FileContext, line: int, cell: int | None) -> str:
    return ctx.lines[line - 1].strip()[:200] if cell is None and 0 < line <= len(ctx.lines) else ""


def _hit(ctx: _FileContext, found: Found, named: Named, *, kind: str | None = None,
         note: str | None = None) -> ScanHit:
    chosen = kind or found.kind
    return ScanHit(ref=named.ref, file=ctx.rel, line=found.line, kind=chosen, snippet=_snippet(ctx, found.line, found.cell),
                   revision=found.revision, target=named.target, confidence=_confidence(chosen), cell=found.cell,
                   note=note or found.note)


def _unresolved(ctx: _FileContext, line: int, cell: int | None, call: str, reason: str) -> UnresolvedLoad:
    return UnresolvedLoad(file=ctx.rel, line=line, call=call, reason=reason, snippet=_snippet(ctx, line, cell),
                          cell=cell)


def _directive_problem(directive: str) -> str:
    verb = directive.split(maxsplit=1)[0] if directive.split() else ""
    if not verb:
        return f"the comment `# auditor:` is empty: write `{ACK_LOADS} owner/name` or `{ACK_IGNORE}`"
    if verb.lower() not in _DIRECTIVE_VERBS:
        from auditor.vocab import suggest

        close = suggest(verb, _DIRECTIVE_VERBS)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        return f"the comment `# auditor: {directive[:80]}` is not understood.{hint} Write `{ACK_LOADS} owner/name` " \
               f"or `{ACK_IGNORE}`"
    return f"the comment `# auditor: {directive[:80]}` names no Hub repo id: write `{ACK_LOADS} owner/name` " \
           "(one id)" if verb.lower() == "loads" else \
           f"the comment `# auditor: {directive[:80]}` takes nothing after `ignore`"


def _acknowledged(ctx: _FileContext, directive: str, line: int, cell: int | None,
                  target: Target | None) -> ScanHit | str | None:
    """What an acknowledgement comment makes of an unresolved load: the reference it names, None (reviewed:
    no model to audit) or, when the comment is not understood, why (the load stays unresolved)."""
    parts = directive.split()
    if [p.lower() for p in parts] == ["ignore"]:
        return None
    if len(parts) == 2 and parts[0].lower() == "loads":
        named = _named_by_comment(parts[1], target)
        if named is not None:
            found = Found(parts[1], line, "python:acknowledged", cell=cell,
                          note=f"named by the comment `{ACK_LOADS} {parts[1]}`")
            return _hit(ctx, found, named)
    return _directive_problem(directive)


def _named_by_comment(value: str, target: Target | None) -> Named | None:
    if target == "ollama":
        name = ollama_name(value)
        return Named("ollama", name) if name else None
    repo = hub_ref(value)
    return Named("hub", repo) if repo is not None and "/" in value else None


def _why_unnamed(found: Found, include_api: bool) -> str | None:
    """Why a loading call's literal names nothing we can audit; None when it is left out on purpose (a
    hosted-API model name without --include-api)."""
    if is_api_model(found.value) and not include_api:
        return None
    if _is_bare_id(found.value):
        return f"{found.value!r} is {LEGACY_REASON}"
    return (f"{found.value[:120]!r} names no Hub repo (owner/name), no local model under the scan root and "
            "no Ollama model")


def _sentence_transformers(found: Found) -> Named | None:
    if found.kind.split(":", 1)[1] in _ST_CALLS and _is_bare_id(found.value) \
            and found.value.lower() not in st_legacy_models():
        return Named("hub", f"{ST_ORGANIZATION}/{found.value}")
    return None


def _resolve_one(ctx: _FileContext, found: Found | Unresolved) -> ScanHit | UnresolvedLoad | None:
    """A hit, an unresolved load, or nothing (not a model, or acknowledged as none)."""
    if isinstance(found, Found):
        named = classify(found.value, found.target, ctx.folder, ctx.base, include_api=ctx.include_api)
        if named is not None:
            return _hit(ctx, found, named)
        if not found.strict:
            return None
        st = _sentence_transformers(found)
        if st is not None:
            return _hit(ctx, found, st, note=f"sentence-transformers resolves {found.value!r} to {st.ref}")
        reason = _why_unnamed(found, ctx.include_api)
        if reason is None:
            return None
    else:
        reason = found.reason
    if found.directive is not None:
        acknowledged = _acknowledged(ctx, found.directive, found.line, found.cell, found.target)
        if not isinstance(acknowledged, str):
            return acknowledged
        reason = f"{reason}; {acknowledged}"
    return _unresolved(ctx, found.line, found.cell, found.call, reason)


def scan_file(path: Path, root: Path, *, include_api: bool = False, report: ScanReport | None = None) -> list[ScanHit]:
    """Model references in one file (`file` is relative to `root`); unresolved loads and files not read go to
    `report`."""
    reader = _reader_for(path.name)
    if reader is None:
        return []
    text, why = _read_text(path)
    base = root if root.is_dir() else root.parent
    rel = path.relative_to(base).as_posix()
    if text is None:
        if report is not None:
            report.skipped.append(ScanSkip(file=rel, reason=why))
        return []
    if _is_own_file(path, text, reader):
        return []
    ctx = _FileContext(rel, path.parent, base, text.splitlines(), include_api)
    hits: list[ScanHit] = []
    for found in _found(reader, path.name, text):
        if isinstance(found, Unparseable):
            if report is not None:
                report.skipped.append(ScanSkip(file=rel, reason=found.reason, line=found.line, cell=found.cell,
                                               unparseable=True))
            continue
        assert isinstance(found, Found | Unresolved)
        result = _resolve_one(ctx, found)
        if isinstance(result, ScanHit):
            hits.append(result)
        elif isinstance(result, UnresolvedLoad) and report is not None:
            report.unresolved.append(result)
    return hits


def _excluded(rel: str, exclude: tuple[str, ...]) -> bool:
    from fnmatch import fnmatchcase

    return any(fnmatchcase(rel, pattern) or fnmatchcase(rel, pattern.rstrip("/") + "/*") for pattern in exclude)


def _candidate_files(root: Path, exclude: tuple[str, ...] = ()) -> Iterator[Path]:
    if root.is_file():
        yield root
        return
    for current, dirs, files in os.walk(root):  # os.walk does not follow symlinked folders: no loops
        here = Path(current)
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and not (here / d / "pyvenv.cfg").exists())
        for name in sorted(files):
            path = here / name
            if _reader_for(name) is not None and not path.is_symlink() \
                    and not _excluded(path.relative_to(root).as_posix(), exclude):
                yield path


def scan(root: Path, *, include_api: bool = False, exclude: Iterable[str] = ()) -> ScanReport:
    """Every model reference under `root` (a folder or one file), deduplicated and sorted; `exclude`: glob
    patterns of paths relative to `root` not to read (`charts/*/templates`)."""
    report = ScanReport()
    unique: dict[tuple[str, str, int, int | None], ScanHit] = {}
    for path in _candidate_files(root, tuple(exclude)):
        for hit in scan_file(path, root, include_api=include_api, report=report):
            unique.setdefault((hit.ref, hit.file, hit.line, hit.cell), hit)
    report.hits = sorted(unique.values(), key=lambda h: (h.file, h.cell or 0, h.line, h.ref, h.kind))
    loads = {(u.file, u.cell or 0, u.line, u.call): u for u in report.unresolved}
    report.unresolved = [loads[key] for key in sorted(loads)]
    return report


def scan_path(root: Path, *, include_api: bool = False) -> list[ScanHit]:
    return scan(root, include_api=include_api).hits


# --------------------------------------------------------------------------- proposal


def entry_key(hit: ScanHit) -> tuple[str, str]:
    return (hit.target, hit.ref.lower() if hit.target != "path" else hit.ref)


MANIFEST_FIELD: dict[Target, str] = {"hub": "id", "path": "path", "ollama": "ollama"}
# The registered source kind that audits each kind of reference.
KIND_OF_TARGET: dict[Target, str] = {"hub": "hub", "path": "local", "ollama": "ollama"}


def grouped(hits: Iterable[ScanHit]) -> dict[tuple[str, str], list[ScanHit]]:
    by_ref: dict[tuple[str, str], list[ScanHit]] = {}
    for hit in hits:
        by_ref.setdefault(entry_key(hit), []).append(hit)
    return dict(sorted(by_ref.items()))


def places(found: list[ScanHit], max_places: int = 5) -> str:
    ordered = sorted(found, key=lambda h: (h.file, h.cell or 0, h.line))
    more = f" and {len(ordered) - max_places} more" if len(ordered) > max_places else ""
    return ", ".join(h.where for h in ordered[:max_places]) + more


def yaml_scalar(value: str) -> str:
    """A value as a YAML scalar: plain when that reads back the same, else double-quoted."""
    import json
    import re

    return value if re.fullmatch(r"[A-Za-z0-9][\w./:+-]*", value) and ": " not in value else json.dumps(value)


def proposed_manifest_entries(hits: Iterable[ScanHit], max_places: int = 5) -> str:
    """A `models:` YAML snippet with one entry per distinct model, commented with where it was found."""
    import json

    groups = grouped(hits)
    if not groups:
        return "# No model references found.\nmodels: []\n"
    from auditor.sources import registry

    kinds = set(registry.ref_kinds())
    out = ["models:"]
    for found in groups.values():
        first = found[0]
        out.append(f"  # found in {places(found, max_places)}")
        if KIND_OF_TARGET[first.target] not in kinds:
            out.append(f"  # {first.target} model {first.ref}: this version cannot audit {first.target} models")
            continue
        out.extend(_comment_safe(f"  # {note}") for note in sorted({h.note for h in found if h.note}))
        out.append(f"  - {MANIFEST_FIELD[first.target]}: {yaml_scalar(first.ref)}")
        revisions = {h.revision for h in found if h.revision}
        if len(revisions) == 1:
            out.append(f"    revision: {json.dumps(revisions.pop())}")
    return "\n".join(out) + "\n"


def _comment_safe(text: str) -> str:
    """One line of a YAML comment: no line breaks or control characters from the scanned code."""
    return "".join(ch if ch.isprintable() else " " for ch in text)


def unresolved_comment_block(report: ScanReport) -> str:
    """A YAML comment block, after the proposed entries: the loads the scan cannot name and the files it could
    not read, each with what to do."""
    out: list[str] = []
    if report.unresolved:
        out += ["", "# Unresolved loads: the code loads a model here, but the scan cannot name it. List the model",
                f"# under `models:` and mark the line `{ACK_LOADS} owner/name` (it then counts as that",
                f"# reference), or `{ACK_IGNORE}` when it loads no model to audit."]
        out += [_comment_safe(f"#   {u.where}: `{u.call}`: {u.reason}") for u in report.unresolved]
    if report.skipped:
        out += ["", "# Skipped files (not read: their models, if any, are not above):"]
        out += [_comment_safe(f"#   {s}") for s in report.skipped]
    return "\n".join(out) + "\n" if out else ""
