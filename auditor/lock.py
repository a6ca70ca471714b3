"""`auditor.lock`: the lineage an audit read, pinned to commit shas.

Licenses change under a model's feet; a lock makes an audit repeatable. `auditor lock` writes, next to
the manifest, every node's id, the commit sha read, its declared license values and its parents (with
relation and evidence), plus digests of the manifest and the rule set: sorted, deterministic JSON (no
timestamps), documented by `auditor schema lock`. `auditor audit` then reads each Hub node at its
locked sha (cacheable forever); `auditor lock --check` reads the Hub again and says what moved.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from auditor.errors import AuditorError
from auditor.model import LineageGraph, ModelFacts, ModelRef, NodeRecord, Unresolved
from auditor.sources.base import Source, WrappedSource

LOCK_NAME = "auditor.lock"
MAX_LOCK_BYTES = 20_000_000  # ~40k nodes
SHA_HEX = r"^[0-9a-f]{40}$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LockedParent(_Strict):
    id: str
    relation: str
    evidence: list[str]  # where the edge was read: "hub:cardData.base_model", "manifest:base_model"…


class LockedNode(_Strict):
    id: str
    source: str  # the kind that read it: hub, local, snapshot, manifest…
    sha: str | None = Field(default=None, pattern=SHA_HEX)  # the commit read (Hub nodes)
    requested: list[str] = Field(default_factory=list)  # the references that led here, when not the id
    license: list[str] = Field(default_factory=list)
    license_name: str | None = None
    license_link: str | None = None
    tag_licenses: list[str] = Field(default_factory=list)
    parents: list[LockedParent] = Field(default_factory=list)
    unresolved: str | None = None  # why it could not be read (code: reason)


class LockFile(_Strict):
    lock_version: Literal["1"] = "1"
    manifest: str  # the manifest's file name
    manifest_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    rules_version: str
    rules_digest: str
    nodes: list[LockedNode]

    def pins(self) -> dict[str, str]:
        """Reference → sha for every node read at a known commit."""
        pins: dict[str, str] = {}
        for node in self.nodes:
            if node.sha is not None and node.unresolved is None:
                for key in (node.id, *node.requested):
                    pins[key] = node.sha
        return pins


def default_path(manifest: Path) -> Path:
    return manifest.parent / LOCK_NAME


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _parents(graph: LineageGraph) -> dict[str, list[LockedParent]]:
    parents: dict[str, list[LockedParent]] = {}
    for edge in graph.edges:
        evidence = sorted({f"{e.source}:{e.field}" for e in edge.evidence})
        parents.setdefault(edge.child, []).append(LockedParent(id=edge.parent, relation=edge.relation,
                                                               evidence=evidence))
    return {child: sorted(items, key=lambda p: (p.id, p.relation)) for child, items in parents.items()}


def _node(record: NodeRecord, parents: list[LockedParent]) -> LockedNode:
    facts = record.facts
    if facts is None:
        unresolved = record.unresolved
        reason = f"{unresolved.code}: {unresolved.reason}" if unresolved is not None else "not read"
        requested = [unresolved.requested] if unresolved is not None and unresolved.requested != record.id else []
        return LockedNode(id=record.id, source=unresolved.source if unresolved else "unknown", requested=requested,
                          parents=parents, unresolved=reason)
    declared = facts.declared
    sha = facts.sha if facts.sha and len(facts.sha) == 40 else None
    return LockedNode(
        id=record.id, source=facts.source, sha=sha,
        requested=[facts.requested] if facts.requested != record.id else [],
        license=sorted(declared.license), license_name=declared.license_name, license_link=declared.license_link,
        tag_licenses=sorted(declared.tag_licenses), parents=parents,
    )


def build_lock(graph: LineageGraph, manifest: Path, rules_version: str, rules_digest: str) -> LockFile:
    parents = _parents(graph)
    nodes = [_node(record, parents.get(record.id, [])) for record in sorted(graph.nodes, key=lambda n: n.id)]
    return LockFile(manifest=manifest.name, manifest_sha256=file_sha256(manifest), rules_version=rules_version,
                    rules_digest=rules_digest, nodes=nodes)


def dumps(lock: LockFile) -> str:
    return json.dumps(lock.model_dump(mode="json"), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def load_lock(path: Path) -> LockFile:
    """A lock file, validated: a located one-line error otherwise."""
    try:
        size = path.stat().st_size
        if size > MAX_LOCK_BYTES:
            raise AuditorError(f"{path}: {size} bytes is over the {MAX_LOCK_BYTES}-byte limit for a lock file")
        return LockFile.model_validate_json(path.read_bytes())
    except OSError as exc:
        raise AuditorError(f"{path}: cannot read the lock file ({exc.strerror})") from None
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(top level)"
        raise AuditorError(f"{path}: {where}: {first['msg']}. Rewrite it with `auditor lock`.") from None


# --------------------------------------------------------------------------- reading at the locked shas


def _pinnable(kind: str) -> bool:
    """A kind whose source reads a given commit (Hub models, Hub datasets…); a local folder has none."""
    from auditor.sources import registry

    spec = registry.registered().get(kind)
    return spec is not None and spec.revisions


class PinnedSource(WrappedSource):
    """Reads each locked node at its locked commit (every kind that has commits: Hub models and datasets);
    everything else as the inner source would."""

    def __init__(self, inner: Source, pins: dict[str, str]) -> None:
        super().__init__(inner)
        self.pins = pins

    def fetch(self, ref: ModelRef) -> ModelFacts | Unresolved:
        sha = self.pins.get(ref.key) if ref.revision is None and _pinnable(ref.kind) else None
        if sha is None:
            return self.inner.fetch(ref)
        answer = self.inner.fetch(ref.model_copy(update={"revision": sha}))
        # Answer for the reference as asked, so the audit maps it to its manifest entry.
        return answer.model_copy(update={"requested": ref.key})


# --------------------------------------------------------------------------- what moved


@dataclass(frozen=True)
class Moved:
    subject: str
    what: str
    before: str
    after: str

    def line(self) -> str:
        return f"{self.subject}: {self.what} {self.before} → {self.after}"


def _licenses(node: LockedNode) -> str:
    return ", ".join([*node.license, *filter(None, [node.license_name])]) or "(none)"


def _parents_text(node: LockedNode) -> str:
    return ", ".join(f"{p.id} ({p.relation})" for p in node.parents) or "(none)"


def _node_moves(old: LockedNode, new: LockedNode) -> list[Moved]:
    moves = []
    if old.sha != new.sha:
        moves.append(Moved(new.id, "commit", old.sha or "(none)", new.sha or "(none)"))
    if _licenses(old) != _licenses(new) or old.license_link != new.license_link:
        moves.append(Moved(new.id, "license", _licenses(old), _licenses(new)))
    if _parents_text(old) != _parents_text(new):
        moves.append(Moved(new.id, "parents", _parents_text(old), _parents_text(new)))
    if (old.unresolved is None) != (new.unresolved is None):
        moves.append(Moved(new.id, "readable", "no" if old.unresolved else "yes", "no" if new.unresolved else "yes"))
    return moves


def compare(old: LockFile, new: LockFile) -> list[Moved]:
    """What differs between a lock and the lineage as read now."""
    moves = []
    if old.manifest_sha256 != new.manifest_sha256:
        moves.append(Moved(old.manifest, "manifest", "as locked", "changed since (run `auditor lock`)"))
    if old.rules_digest != new.rules_digest:
        moves.append(Moved("rules", "rule set", old.rules_version, new.rules_version))
    before = {n.id: n for n in old.nodes}
    after = {n.id: n for n in new.nodes}
    moves += [Moved(i, "model", "(not in the lock)", "now in the lineage") for i in sorted(after.keys() - before.keys())]
    moves += [Moved(i, "model", "in the lock", "no longer in the lineage") for i in sorted(before.keys() - after.keys())]
    for node_id in sorted(before.keys() & after.keys()):
        moves += _node_moves(before[node_id], after[node_id])
    return moves
