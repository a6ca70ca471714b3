"""Keep the manifest in step with the code: which scanned references it does not list (`scan --check`),
and adding them (`scan --update`, a round-trip edit that keeps comments and order: ruamel.yaml)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from auditor.errors import AuditorError
from auditor.scan import KIND_OF_TARGET, MANIFEST_FIELD, ScanHit, grouped, places

__all__ = ["Missing", "grouped", "missing", "update"]



@dataclass(frozen=True)
class Missing:
    target: str
    ref: str
    hits: list[ScanHit]
    auditable: bool  # this version has a source kind for it (else it can only be reported)

    def line(self) -> str:
        what = {"hub": "Hub model", "path": "local model", "ollama": "Ollama model"}[self.target]
        return f"{self.hits[0].where}: {what} {self.ref} is loaded here but not listed in the manifest"


def _listed(manifest: Path) -> set[tuple[str, str]]:
    from auditor.manifest import load_manifest

    keys = set()
    for entry in load_manifest(manifest).models:
        ref = entry.ref
        keys.add((ref.kind, str(Path(ref.id).resolve()) if ref.kind == "local" else ref.id.lower()))
    return keys


def _key(hit: ScanHit, root: Path) -> tuple[str, str]:
    kind = KIND_OF_TARGET[hit.target]
    if hit.target == "path":
        return kind, str((root / hit.ref).resolve())
    return kind, hit.ref.lower()


def missing(hits: Iterable[ScanHit], root: Path, manifest: Path) -> list[Missing]:
    from auditor.sources import registry

    listed = _listed(manifest)
    kinds = set(registry.ref_kinds())
    base = root if root.is_dir() else root.parent
    out = []
    for (target, _), found in grouped(hits).items():
        kind, key = _key(found[0], base)
        if (kind, key) not in listed:
            out.append(Missing(target, found[0].ref, found, kind in kinds))
    return out


def _entry_value(item: Missing, root: Path, manifest: Path) -> str:
    if item.target != "path":
        return item.ref
    absolute = (root / item.ref).resolve()
    try:
        return absolute.relative_to(manifest.parent.resolve()).as_posix()
    except ValueError:
        import os

        return Path(os.path.relpath(absolute, manifest.parent.resolve())).as_posix()


def update(manifest: Path, items: list[Missing], root: Path) -> tuple[int, list[Missing]]:
    """Append each auditable missing reference to `models:`, keeping the file's comments and order; return
    how many were added and the references this version cannot audit (left out, to report)."""
    from ruamel.yaml import YAML, YAMLError
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    base = root if root.is_dir() else root.parent
    from ruamel.yaml.util import load_yaml_guess_indent

    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    try:
        text = manifest.read_text(encoding="utf-8")
        _, indent, block_seq_indent = load_yaml_guess_indent(text)
        document = yaml.load(text)
    except (OSError, YAMLError) as exc:
        raise AuditorError(f"{manifest}: cannot update the manifest ({str(exc).splitlines()[0]})") from None
    if not isinstance(document, CommentedMap):
        raise AuditorError(f"{manifest}:1: the manifest must be a mapping with a `models:` list")
    models = document.get("models")
    if models is None:
        models = document["models"] = CommentedSeq()
    if not isinstance(models, CommentedSeq):
        raise AuditorError(f"{manifest}: models: must be a list to add entries to it")
    yaml.indent(mapping=2, sequence=indent or 2, offset=block_seq_indent or 0)
    added, unsupported = 0, []
    for item in items:
        if not item.auditable:
            unsupported.append(item)
            continue
        entry = CommentedMap()
        entry[MANIFEST_FIELD[item.hits[0].target]] = _entry_value(item, base, manifest)
        models.append(entry)
        models.yaml_set_comment_before_after_key(len(models) - 1, before=f"found by auditor scan in "
                                                                          f"{places(item.hits)}", indent=2)
        added += 1
    if added:
        with manifest.open("w", encoding="utf-8") as handle:
            yaml.dump(document, handle)
    return added, unsupported
