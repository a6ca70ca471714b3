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
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict

from auditor.scan._values import Confidence, Target, classify, hub_ref

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

    @property
    def where(self) -> str:
        return f"{self.file}:cell {self.cell}:{self.line}" if self.cell else f"{self.file}:{self.line}"


@dataclass
class ScanReport:
    hits: list[ScanHit] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # files not read, with why


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
    return _CONFIDENCE.get(kind.split(":", 1)[0], "medium")


def scan_file(path: Path, root: Path, *, include_api: bool = False, report: ScanReport | None = None) -> list[ScanHit]:
    """Model references in one file (`file` is relative to `root`)."""
    from auditor.scan._python import Found

    reader = _reader_for(path.name)
    if reader is None:
        return []
    text, why = _read_text(path)
    base = root if root.is_dir() else root.parent
    rel = path.relative_to(base).as_posix()
    if text is None:
        if report is not None:
            report.skipped.append(f"{rel}: {why}")
        return []
    if _is_own_file(path, text, reader):
        return []
    lines = text.splitlines()
    hits: list[ScanHit] = []
    for found in _found(reader, path.name, text):
        assert isinstance(found, Found)
        named = classify(found.value, found.target, path.parent, base, include_api=include_api)
        if named is None:
            continue
        snippet = lines[found.line - 1].strip()[:200] if found.cell is None and 0 < found.line <= len(lines) else ""
        hits.append(ScanHit(ref=named.ref, file=rel, line=found.line, kind=found.kind, snippet=snippet,
                            revision=found.revision, target=named.target, confidence=_confidence(found.kind),
                            cell=found.cell))
    return hits


def _candidate_files(root: Path) -> Iterator[Path]:
    if root.is_file():
        yield root
        return
    for current, dirs, files in os.walk(root):  # os.walk does not follow symlinked folders: no loops
        here = Path(current)
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and not (here / d / "pyvenv.cfg").exists())
        for name in sorted(files):
            path = here / name
            if _reader_for(name) is not None and not path.is_symlink():
                yield path


def scan(root: Path, *, include_api: bool = False) -> ScanReport:
    """Every model reference under `root` (a folder or one file), deduplicated and sorted."""
    report = ScanReport()
    unique: dict[tuple[str, str, int, int | None], ScanHit] = {}
    for path in _candidate_files(root):
        for hit in scan_file(path, root, include_api=include_api, report=report):
            unique.setdefault((hit.ref, hit.file, hit.line, hit.cell), hit)
    report.hits = sorted(unique.values(), key=lambda h: (h.file, h.cell or 0, h.line, h.ref, h.kind))
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
        out.append(f"  - {MANIFEST_FIELD[first.target]}: {yaml_scalar(first.ref)}")
        revisions = {h.revision for h in found if h.revision}
        if len(revisions) == 1:
            out.append(f"    revision: {json.dumps(revisions.pop())}")
    return "\n".join(out) + "\n"
