"""A toy source kind, `zoo`, to prove that a new source is one module plus one registration line.

This is the whole module a newcomer writes (CONTRIBUTING-sources.md walks through the same steps for a
hypothetical `gguf` kind). Its registration line is `ZOO` below; `tests/test_source_registry.py`
adds it to a copy of the registry and audits through it, from the manifest and the CLI to the reports.

The zoo is an in-memory catalogue: `zoo:NAME` references, manifest entries `- zoo: NAME`.
"""

from __future__ import annotations

import re
from pathlib import Path
from types import MappingProxyType

from auditor.model import DeclaredLicense, Evidence, ModelFacts, ModelRef, NodeRecord, ParentClaim, Unresolved
from auditor.sources.base import BaseKind, Source, SourceOptions, now_iso
from auditor.sources.registry import SourceSpec

PREFIX = "zoo:"
_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
CATALOGUE = MappingProxyType({
    "tiny-chat": {"license": "apache-2.0", "base_model": "zoo:tiny-base"},  # its parent is in the zoo
    "tiny-base": {"license": "apache-2.0", "base_model": "Qwen/Qwen2.5-7B"},  # its parent is on the Hub
})

# The registration line (in a real source: one more `SourceSpec(...)` in auditor/sources/registry.py).
ZOO = SourceSpec("zoo", "zoo", "tests.toy_source:ZooKind", "zoo", "tiny-chat", "a zoo model (zoo:NAME)",
                 "A model of the zoo catalogue, by name")


class ZooSource:
    """Reads the catalogue. Never raises for a model it can't read: returns `Unresolved`."""

    name = "zoo"

    def __init__(self) -> None:
        self.requests = 0
        self.cache_hits = 0

    def fetch(self, ref: ModelRef) -> ModelFacts | Unresolved:
        self.requests += 1
        entry = CATALOGUE.get(ref.id.removeprefix(PREFIX))
        if entry is None:
            return Unresolved(id=ref.id, requested=ref.key, source="zoo", code="not-found",
                              reason="not in the zoo", retrieved_at=now_iso())
        location = f"https://zoo.example/models/{ref.id.removeprefix(PREFIX)}"

        def evidence(field: str, value: str) -> Evidence:
            return Evidence(source="zoo", field=field, value=value, location=location)

        return ModelFacts(
            id=ref.id, requested=ref.key, source="zoo", retrieved_at=now_iso(), url=location,
            declared=DeclaredLicense(license=[entry["license"]], evidence=[evidence("license", entry["license"])]),
            parents=[ParentClaim(parent=entry["base_model"], relation="finetune",
                                 evidence=evidence("base_model", entry["base_model"]))],
        )


class ZooKind(BaseKind):
    """What the registry declares for the kind: naming, building, showing."""

    def _ref(self, text: str) -> ModelRef | None:
        name = text.strip().removeprefix(PREFIX)
        return ModelRef(kind=self.spec.kind, id=PREFIX + name) if _NAME.match(name) else None

    def parse_ref(self, text: str, base_dir: Path | None) -> ModelRef | None:
        return self._ref(text) if text.startswith(PREFIX) else None

    def parent_ref(self, parent: str) -> ModelRef | None:
        return self._ref(parent) if parent.startswith(PREFIX) else None

    def manifest_problem(self, value: str) -> str | None:
        if self._ref(value) is None:
            return f"'{value}' is not a zoo model name. Write it in lower case, e.g. tiny-chat"
        return None

    def manifest_ref(self, value: str, revision: str | None, base_dir: Path | None) -> ModelRef:
        ref = self._ref(value)
        assert ref is not None  # manifest_problem said so
        return ref

    def build(self, options: SourceOptions) -> Source:
        return ZooSource()

    def display_url(self, node: NodeRecord) -> str | None:
        return f"https://zoo.example/models/{node.id.removeprefix(PREFIX)}"

    def owner(self, node: NodeRecord) -> str | None:
        return "Zoo Keepers"
