"""The registry of metadata sources, keyed by reference kind.

A reference kind (`ModelRef.kind`: `hub`, `local`, …) is served by one source. Its registration (a
`SourceSpec` line in `_REGISTERED` below) declares, as plain data:

- `kind`: the reference kind, also the `source` its facts and evidence carry;
- `manifest_key`: the key of a manifest entry that names a model of this kind (`id`, `path`, …);
- the texts the manifest schema, CLI help and messages show (`label`, `example`, `ref_help`,
  `manifest_help`), and whether a reference may pin a `revision`;
- `snapshot`: with `--snapshot`, recorded answers stand in for this kind's source;
- `precedence`: CLI references are offered to the kinds in increasing precedence (an existing folder
  named like `owner/name` is a folder, so `local` comes before `hub`);
- `product_files`: models of this kind are files of the audited product (an SBOM names the product's
  maintainers as their supplier when the card names no author);
- `target`: "module:Class" of its `KindHandler` (`auditor.sources.base`): how a CLI reference, a
  manifest value or a parent claim becomes a `ModelRef`, how the source is built from the shared
  `SourceOptions`, and how reports show a node read by it (display URL, owner, package URL). The
  module is imported on first use, never when the registry is built.

Adding a source is one new module plus one registration line (CONTRIBUTING-sources.md walks
through it). The manifest's entry keys, `ModelRef.kind` validation, `RoutingSource`, `build_source`
and the reports all read this registry.

Importing this module stays cheap: the standard library only, so `auditor --help` stays fast and
`auditor.model` can validate kinds against it.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, cast

if TYPE_CHECKING:
    from auditor.sources.base import KindHandler

# Evidence sources that are no reference kind: recorded answers, and facts declared in the manifest.
SNAPSHOT_SOURCE = "snapshot"
MANIFEST_SOURCE = "manifest"


@dataclass(frozen=True)
class SourceSpec:
    """One registered reference kind (see the module docstring for each field)."""

    kind: str
    manifest_key: str
    target: str  # "module.path:HandlerClass"
    label: str  # "Hub", "local": in messages ("a Hub model", "this local `path` entry")
    example: str  # a value as written: "owner/name", "./folder"
    ref_help: str  # how the CLI names one: "a Hub repo id (owner/name)"
    manifest_help: str  # the manifest key's description in `auditor schema manifest`
    revisions: bool = False
    snapshot: bool = False
    precedence: int = 0
    product_files: bool = False

    def handler(self) -> KindHandler:
        """Import the kind's handler class and return an instance bound to this spec."""
        module_name, _, class_name = self.target.partition(":")
        cls = getattr(importlib.import_module(module_name), class_name)
        return cast("KindHandler", cls(self))


# The registry: one line per reference kind. The order is the order of the manifest's entry keys and
# of the kinds in messages; `precedence` orders CLI reference parsing.
_REGISTERED: tuple[SourceSpec, ...] = (
    SourceSpec("hub", "id", "auditor.sources.hub_kind:HubKind", "Hub", "owner/name",
               "a Hub repo id (owner/name)", "Hub repo id, owner/name", revisions=True, snapshot=True,
               precedence=20),
    SourceSpec("local", "path", "auditor.sources.local:LocalKind", "local", "./folder",
               "an existing model folder", "Local model folder, relative to the manifest", precedence=10,
               product_files=True),
    SourceSpec("gguf", "gguf", "auditor.sources.gguf:GgufKind", "GGUF", "./model.gguf",
               "a GGUF file (PATH.gguf or gguf:PATH)", "A GGUF model file, relative to the manifest (a `path` "
               "naming a .gguf file is one too)", product_files=True),
    SourceSpec("ollama", "ollama", "auditor.sources.ollama:OllamaKind", "Ollama", "llama3.1:8b",
               "an Ollama tag (ollama:NAME[:TAG])", "An Ollama model tag in the local store ($OLLAMA_MODELS, "
               "default ~/.ollama/models), e.g. llama3.1:8b"),
    SourceSpec("dataset", "dataset", "auditor.sources.hub_dataset:DatasetKind", "Hub dataset",
               "datasets/owner/name", "a Hub dataset (datasets/owner/name)",
               "Hub dataset id (owner/name): data a model was trained on", revisions=True, snapshot=True),
)

_RESERVED_KINDS = frozenset({SNAPSHOT_SOURCE, MANIFEST_SOURCE, "curated"})


def build_registry(specs: Iterable[SourceSpec]) -> Mapping[str, SourceSpec]:
    """A read-only registry keyed by kind; a kind or manifest key registered twice, or a kind that is
    an evidence source of its own (`snapshot`, `manifest`, `curated`), is a programming error."""
    by_kind: dict[str, SourceSpec] = {}
    keys: set[str] = set()
    for spec in specs:
        if spec.kind in by_kind or spec.kind in _RESERVED_KINDS or spec.manifest_key in keys:
            raise ValueError(f"source kind {spec.kind!r} (manifest key {spec.manifest_key!r}) is registered twice "
                             "or reserved")
        by_kind[spec.kind] = spec
        keys.add(spec.manifest_key)
    return MappingProxyType(by_kind)


SOURCES: Mapping[str, SourceSpec] = build_registry(_REGISTERED)


def registered() -> Mapping[str, SourceSpec]:
    """The registry (read through this module at call time, so a test may run against a copy)."""
    return SOURCES


def ref_kinds() -> tuple[str, ...]:
    """Every registered reference kind, in registry order."""
    return tuple(registered())


def evidence_sources() -> tuple[str, ...]:
    """Every value `ModelFacts.source` / `Unresolved.source` may take: the kinds, then the snapshot
    and the manifest."""
    return (*registered(), SNAPSHOT_SOURCE, MANIFEST_SOURCE)


def spec_for(kind: str) -> SourceSpec:
    """The registration of `kind` (KeyError naming the registered kinds otherwise)."""
    try:
        return registered()[kind]
    except KeyError:
        raise KeyError(f"unknown reference kind {kind!r} (registered: {', '.join(registered())})") from None


def in_parse_order() -> list[SourceSpec]:
    """The kinds in the order a CLI reference is offered to them (precedence, then registry order)."""
    return sorted(registered().values(), key=lambda spec: spec.precedence)


def kinds_of_source(source: str) -> list[SourceSpec]:
    """The kinds a node read by evidence source `source` may be: its own kind, the kinds a snapshot
    stands in for, or, for a model declared in the manifest, any kind (in registry order)."""
    registry = registered()
    if source in registry:
        return [registry[source]]
    if source == SNAPSHOT_SOURCE:
        return [spec for spec in registry.values() if spec.snapshot]
    if source == MANIFEST_SOURCE:
        return list(registry.values())
    return []


def ref_forms(joiner: str = " or ") -> str:
    """What a reference may be, for help texts and errors: `a Hub repo id (owner/name) or an existing
    model folder`."""
    return joiner.join(spec.ref_help for spec in registered().values())
