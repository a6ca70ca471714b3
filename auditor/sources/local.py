"""A model folder on disk: README.md front matter, adapter_config.json, config.json."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from auditor import yamlio
from auditor.model import Evidence, ModelFacts, ModelRef, ParentClaim, Relation, Unresolved
from auditor.sources.base import BaseKind, Source, SourceOptions, now_iso
from auditor.sources.card import (
    adapter_parent,
    as_str_list,
    config_parent,
    declared_license,
    gate_flags,
    parent_claims_from_card,
    split_front_matter,
)
from auditor.sources.gguf import declared_in_files, has_magic
from auditor.sources.repo_id import is_repo_id

MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_GGUF_FILES = 32  # GGUF files of one folder linked as nodes of their own
GGUF_FIELD = "gguf file"


def _read_json(path: Path) -> tuple[dict[str, Any] | None, str | None]:
    if not path.is_file():
        return None, None
    if path.stat().st_size > MAX_FILE_BYTES:
        return None, f"{path.name}: larger than {MAX_FILE_BYTES} bytes, not read"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        return None, f"{path.name}: not valid JSON ({type(exc).__name__})"
    if not isinstance(data, dict):
        return None, f"{path.name}: not a JSON object"
    return data, None


def _unreadable_claim(folder: str, name: str, problem: str) -> ParentClaim:
    """A file that names a parent could not be read: its parent is unknown, never silently absent."""
    relation: Relation = "adapter" if name == "adapter_config.json" else "unknown"
    return ParentClaim(
        parent=f"{folder}/{name}",
        relation=relation,
        evidence=Evidence(source="local", field=name, value="(unreadable)", location=f"{folder}/{name}"),
        unreadable=f"{problem}; the parent it names is unknown",
    )


def _read_card(path: Path) -> tuple[dict[str, Any], str | None]:
    if not path.is_file():
        return {}, None
    try:
        text = path.read_text(encoding="utf-8", errors="replace")[:MAX_FILE_BYTES]
    except OSError as exc:
        return {}, f"README.md: unreadable ({exc.strerror})"
    front = split_front_matter(text)
    if front is None:
        return {}, None
    try:
        card, _ = yamlio.load(front, "README.md", yamlio.CARD_LIMITS)
    except yamlio.YamlError as err:
        return {}, f"README.md: front matter not read ({str(err).split(': ', 2)[-1]})"
    if card is not None and not isinstance(card, dict):
        return {}, "README.md: front matter is not a mapping of keys"
    return (card or {}), None


def _resolve_local_parent(claim: ParentClaim, folder: Path) -> ParentClaim:
    """A parent given as a path: make it absolute when it exists; a Hub id stays as is."""
    if is_repo_id(claim.parent) and not (folder / claim.parent).is_dir():
        return claim
    candidate = Path(claim.parent)
    candidate = candidate if candidate.is_absolute() else (folder / candidate)
    if candidate.is_dir():
        return claim.model_copy(update={"parent": str(candidate.resolve())})
    return claim


def gguf_claims(folder: Path) -> tuple[list[ParentClaim], list[str]]:
    """The GGUF files directly in the folder: each is a node of its own (its header read by the `gguf`
    kind), and the folder holds its material as a copy (`quantized`). More than `MAX_GGUF_FILES` is a note."""
    try:
        files = sorted(p for p in folder.glob("*") if p.suffix.lower() == ".gguf" and p.is_file())
    except OSError as exc:
        return [], [f"{folder}: GGUF files not listed ({exc.strerror})"]
    notes = [f"{folder}: {len(files)} GGUF files; only the first {MAX_GGUF_FILES} are read"] \
        if len(files) > MAX_GGUF_FILES else []
    claims = [
        ParentClaim(parent=path.resolve().as_posix(), relation="quantized",
                    evidence=Evidence(source="local", field=GGUF_FIELD, value=path.name, location=str(path)))
        for path in files[:MAX_GGUF_FILES]
    ]
    return claims, notes


def folder_digest(folder: Path) -> str:
    """A content hash of the metadata files read (stands in for a revision sha)."""
    digest = hashlib.sha256()
    for name in ("README.md", "adapter_config.json", "config.json"):
        path = folder / name
        if path.is_file() and path.stat().st_size <= MAX_FILE_BYTES:
            digest.update(name.encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:40]


class LocalSource:
    name = "local"

    def __init__(self) -> None:
        self.requests = 0
        self.cache_hits = 0

    def fetch(self, ref: ModelRef) -> ModelFacts | Unresolved:
        folder = Path(ref.id)
        if not folder.is_dir():
            return Unresolved(
                id=ref.id,
                requested=ref.key,
                source="local",
                code="not-found",
                reason=f"{ref.id}: no such model folder",
                retrieved_at=now_iso(),
            )
        location = str(folder)
        card, card_problem = _read_card(folder / "README.md")
        adapter_cfg, adapter_problem = _read_json(folder / "adapter_config.json")
        config, config_problem = _read_json(folder / "config.json")
        tags = as_str_list(card.get("tags"))
        sha = folder_digest(folder)
        declared = declared_license(card, tags, source="local", location=f"{location}/README.md", revision=sha)
        parents, notes = parent_claims_from_card(
            card, tags, source="local", location=f"{location}/README.md", revision=sha
        )
        for claim in (
            adapter_parent(adapter_cfg or {}, location=f"{location}/adapter_config.json"),
            config_parent(config or {}, location=f"{location}/config.json"),
        ):
            if claim is not None:
                parents.append(claim)
        parents = [_resolve_local_parent(p, folder) for p in parents]
        ggufs, gguf_notes = gguf_claims(folder)
        parents += ggufs
        notes += gguf_notes
        if declared.is_empty and ggufs:  # no card: the folder declares what its GGUF files' headers declare
            declared = declared_in_files([Path(c.parent) for c in ggufs])
        for name, problem in (("README.md", card_problem), ("adapter_config.json", adapter_problem),
                              ("config.json", config_problem)):
            if problem:
                parents.append(_unreadable_claim(location, name, problem))
        return ModelFacts(
            id=ref.id,
            requested=ref.key,
            source="local",
            sha=sha,
            author=None,
            retrieved_at=now_iso(),
            pipeline_tag=card.get("pipeline_tag") if isinstance(card.get("pipeline_tag"), str) else None,
            library_name=card.get("library_name") if isinstance(card.get("library_name"), str) else None,
            tags=sorted(set(tags)),
            declared=declared,
            parents=parents,
            gate_eu_disallowed=gate_flags(card),
            url=None,
            lineage_notes=notes,
        )


class LocalKind(BaseKind):
    """Model folders on disk (`./models/x`, `/abs/path`, `~/x`, or any existing folder)."""

    def parse_ref(self, text: str, base_dir: Path | None) -> ModelRef | None:
        raw = text.strip()
        path = Path(raw) if base_dir is None or Path(raw).is_absolute() else base_dir / raw
        if raw.startswith((".", "/", "~")) or path.is_dir():
            return ModelRef(kind=self.spec.kind, id=str(path.expanduser()))
        return None

    def parent_ref(self, parent: str) -> ModelRef | None:
        """A parent the local source resolved to an existing absolute folder."""
        path = Path(parent)
        return ModelRef(kind=self.spec.kind, id=parent) if path.is_absolute() and path.is_dir() else None

    def manifest_ref(self, value: str, revision: str | None, base_dir: Path | None) -> ModelRef:
        """The folder, resolved against the manifest's folder (an absolute path). A `.gguf` file (or any
        file with the GGUF magic) is a reference of the `gguf` kind."""
        path = Path(value).expanduser()
        if not path.is_absolute():
            path = (base_dir or Path.cwd()) / path
        if path.suffix.lower() == ".gguf" or has_magic(path):
            return ModelRef(kind="gguf", id=path.resolve().as_posix())
        return ModelRef(kind=self.spec.kind, id=path.resolve().as_posix(), revision=revision)

    def stable_ref(self, ref: ModelRef) -> ModelRef:
        """A folder inside the working directory is named by its relative path (stable across clones)."""
        try:
            return ref.model_copy(update={"id": Path(ref.id).relative_to(Path.cwd().resolve()).as_posix()})
        except ValueError:
            return ref

    def build(self, options: SourceOptions) -> Source:
        return LocalSource()
