"""The small interfaces every source implements: `Source` (fetch one model, count requests) and
`KindHandler` (everything else a reference kind declares: how it is named and how it is shown).

`auditor.sources.registry` lists the kinds; `BaseKind` is a handler with the defaults most kinds keep.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from auditor.model import ModelFacts, ModelRef, NodeRecord, Unresolved

if TYPE_CHECKING:
    from auditor.sources.registry import SourceSpec


class Stats(Protocol):
    """What a source counts during a crawl (the result's `requests` / `cache_hits`)."""

    @property
    def requests(self) -> int: ...  # network requests made

    @property
    def cache_hits(self) -> int: ...  # answers read from the on-disk cache instead


class Source(Stats, Protocol):
    """Fetch one model's facts. Never raises for a model that can't be read: returns `Unresolved`."""

    name: str

    def fetch(self, ref: ModelRef) -> ModelFacts | Unresolved: ...


class WrappedSource:
    """A source in front of another one (recording, pinning to commits…): the same name, counts and kinds
    served as the source it wraps; subclasses change `fetch`."""

    def __init__(self, inner: Source) -> None:
        self.inner = inner
        self.name = inner.name

    @property
    def requests(self) -> int:
        return self.inner.requests

    @property
    def cache_hits(self) -> int:
        return self.inner.cache_hits

    def serves(self, kind: str) -> bool:
        """The kinds the wrapped source reads (all, unless it says otherwise)."""
        serves = getattr(self.inner, "serves", None)
        return True if serves is None else bool(serves(kind))

    def fetch(self, ref: ModelRef) -> ModelFacts | Unresolved:
        return self.inner.fetch(ref)


@dataclass(frozen=True)
class SourceOptions:
    """The options shared by every source (`--snapshot`, `--endpoint`, `--no-cache`, …)."""

    snapshot: Path | None = None
    endpoint: str | None = None
    cache_dir: Path | None = None
    no_cache: bool = False
    refresh: bool = False
    ttl_seconds: int | None = None
    rule_dirs: tuple[Path, ...] = ()  # organisation rule folders (a source matching license texts reads them)


@dataclass(frozen=True)
class PackageUrl:
    """A package URL (purl) for SBOMs: `pkg:<type>/<namespace>/<name>@<version>`."""

    type: str
    namespace: str | None
    name: str
    version: str | None = None

    def __str__(self) -> str:
        path = f"{self.namespace}/{self.name}" if self.namespace else self.name
        return f"pkg:{self.type}/{path}" + (f"@{self.version}" if self.version else "")


class KindHandler(Protocol):
    """What a registered reference kind does (its `SourceSpec.target`). Stateless; built per use."""

    spec: SourceSpec

    def parse_ref(self, text: str, base_dir: Path | None) -> ModelRef | None:
        """A CLI reference of this kind, or None when `text` is not one (the next kind is asked)."""
        ...

    def parent_ref(self, parent: str) -> ModelRef | None:
        """A parent named by a lineage claim (`ParentClaim.parent`), or None when it is not of this kind."""
        ...

    def manifest_problem(self, value: str) -> str | None:
        """Why a manifest value for this kind's key is unusable (one sentence and the fix), or None."""
        ...

    def manifest_ref(self, value: str, revision: str | None, base_dir: Path | None) -> ModelRef:
        """The reference a manifest entry names (`base_dir`: the manifest's folder)."""
        ...

    def stable_ref(self, ref: ModelRef) -> ModelRef:
        """The reference as an audit result names it (the same on every machine)."""
        ...

    def build(self, options: SourceOptions) -> Source:
        """The source answering references of this kind."""
        ...

    def display_url(self, node: NodeRecord) -> str | None:
        """Where a reader can see a node this kind read (an http(s) URL), or None."""
        ...

    def owner(self, node: NodeRecord) -> str | None:
        """The node's owner (an SBOM supplier) when its card names no author, or None."""
        ...

    def purl(self, node: NodeRecord) -> PackageUrl | None:
        """The node's package URL, or None."""
        ...


class BaseKind:
    """A handler with the defaults: manifest values taken as written, no parents, no URL, no owner.

    A kind overrides `parse_ref` and `build`, and whichever of the others it knows better.
    """

    def __init__(self, spec: SourceSpec) -> None:
        self.spec = spec

    def parse_ref(self, text: str, base_dir: Path | None) -> ModelRef | None:
        raise NotImplementedError

    def parent_ref(self, parent: str) -> ModelRef | None:
        return None

    def manifest_problem(self, value: str) -> str | None:
        return None

    def manifest_ref(self, value: str, revision: str | None, base_dir: Path | None) -> ModelRef:
        return ModelRef(kind=self.spec.kind, id=value, revision=revision)

    def stable_ref(self, ref: ModelRef) -> ModelRef:
        return ref

    def build(self, options: SourceOptions) -> Source:
        raise NotImplementedError

    def display_url(self, node: NodeRecord) -> str | None:
        return None

    def owner(self, node: NodeRecord) -> str | None:
        return None

    def purl(self, node: NodeRecord) -> PackageUrl | None:
        return None


def now_iso() -> str:
    """The current UTC time, or `SOURCE_DATE_EPOCH` when set (reproducible runs)."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.strip().isdigit():
        moment = dt.datetime.fromtimestamp(int(epoch), tz=dt.UTC)
    else:
        moment = dt.datetime.now(tz=dt.UTC).replace(microsecond=0)
    return moment.isoformat().replace("+00:00", "Z")
