"""Shared value types of the pipeline.

Every stage speaks these types: sources produce `ModelFacts` or `Unresolved`, the crawler
produces a `LineageGraph`, the engine produces an `AuditResult`, reporters render it.
All are pydantic models so they serialise to stable JSON (the snapshot and result formats).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Relation = Literal["finetune", "adapter", "quantized", "merge", "unknown"]
RELATIONS: tuple[str, ...] = ("finetune", "adapter", "quantized", "merge", "unknown")

SourceKind = Literal["hub", "local", "snapshot", "manifest"]

UnresolvedCode = Literal[
    "not-found",
    "gated",
    "private",
    "disabled",
    "revision-not-found",
    "malformed",
    "unreachable",
    "rate-limited",
    "invalid-ref",
    "depth-limit",
]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ModelRef(_Frozen):
    """A reference to a model: a Hub repo id (optionally pinned) or a local folder."""

    kind: Literal["hub", "local"]
    id: str  # Hub repo id, or the folder path as given
    revision: str | None = None

    @property
    def key(self) -> str:
        return f"{self.id}@{self.revision}" if self.revision else self.id


class Evidence(_Frozen):
    """Where one fact came from."""

    source: SourceKind | Literal["curated"]
    field: str  # e.g. "cardData.base_model", "tags", "adapter_config.json:base_model_name_or_path"
    value: str  # the raw value as read (stringified)
    location: str = ""  # URL, file path or rule-file path
    revision: str | None = None  # the sha the value was read at, when known
    weak: bool = False  # weak evidence (config.json _name_or_path)
    note: str = ""


class ParentClaim(_Frozen):
    """One claim that this model derives from `parent` (child -> parent)."""

    parent: str  # Hub repo id or local path
    relation: Relation = "unknown"
    evidence: Evidence


class DeclaredLicense(_Frozen):
    """What a model declares about its license, raw and uninterpreted."""

    license: list[str] = Field(default_factory=list)  # card `license` (string or list)
    license_name: str | None = None
    license_link: str | None = None
    tag_licenses: list[str] = Field(default_factory=list)  # from `license:<x>` tags
    evidence: list[Evidence] = Field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        return not (self.license or self.license_name or self.license_link or self.tag_licenses)


class ModelFacts(_Frozen):
    """Everything a source could read about one model, with evidence."""

    id: str  # canonical id (the Hub's returned id after a redirect; folder path for local)
    requested: str  # the reference as requested
    source: SourceKind
    revision: str | None = None  # requested revision
    sha: str | None = None  # commit sha actually read
    author: str | None = None
    last_modified: str | None = None
    retrieved_at: str | None = None
    gated: str | None = None  # "auto" | "manual" | None (False normalised to None)
    private: bool | None = None
    disabled: bool | None = None
    pipeline_tag: str | None = None
    library_name: str | None = None
    tags: list[str] = Field(default_factory=list)
    declared: DeclaredLicense = Field(default_factory=DeclaredLicense)
    parents: list[ParentClaim] = Field(default_factory=list)
    gate_eu_disallowed: bool | None = None
    url: str | None = None
    lineage_notes: list[str] = Field(default_factory=list)  # unusable lineage values, kept for review


class Unresolved(_Frozen):
    """A model that could not be read. Failure is data."""

    id: str
    requested: str
    source: SourceKind
    code: UnresolvedCode
    reason: str
    revision: str | None = None
    retrieved_at: str | None = None


class NodeRecord(_Frozen):
    id: str
    facts: ModelFacts | None = None
    unresolved: Unresolved | None = None
    depth: int = 0  # shortest distance from a root


class EdgeRecord(_Frozen):
    child: str
    parent: str
    relation: Relation
    evidence: list[Evidence]
    weak: bool = False  # only weak evidence supports this edge


class Disagreement(_Frozen):
    model: str
    message: str


class LineageGraph(_Frozen):
    """Serialisable form of the lineage graph (edges child -> parent)."""

    roots: list[str]
    nodes: list[NodeRecord]
    edges: list[EdgeRecord]
    cycles: list[list[str]] = Field(default_factory=list)
    disagreements: list[Disagreement] = Field(default_factory=list)
    requests: int = 0  # network requests made by the crawl
    cache_hits: int = 0


# --------------------------------------------------------------------------- declared use


Distribution = Literal["internal", "saas", "weights"]


class DeclaredUse(_Frozen):
    """The user's intended use. `None` means undeclared (a term that depends on it yields needs-input)."""

    commercial: bool | None = None
    monthly_active_users: int | None = Field(default=None, ge=0)
    annual_revenue_usd: int | None = Field(default=None, ge=0)
    distribution: Distribution | None = None
    regions: list[str] | None = None
    purposes: list[str] | None = None


# --------------------------------------------------------------------------- audit result

Severity = Literal["error", "warning", "info"]
Verdict = Literal["pass", "review", "fail"]


class Clause(_Frozen):
    section: str
    quote: str


class Finding(_Frozen):
    code: str
    severity: Severity
    model: str
    message: str
    license: str | None = None  # rule id
    clause: Clause | None = None
    via: list[str] = Field(default_factory=list)  # path from the model to the license's holder
    remedy: str = ""
    field: str | None = None  # the declared-use field for needs-input
    waived: bool = False
    waiver: str | None = None  # justification / approver when waived


class Obligation(_Frozen):
    id: str
    license: str
    text: str
    clause: Clause | None = None
    models: list[str] = Field(default_factory=list)


class EffectiveLicense(_Frozen):
    license: str  # rule id
    name: str
    spdx: str
    kind: str
    via: list[str]  # path of model ids from the model to the holder of this license
    own: bool  # declared by the model itself
    url: str = ""  # the license text


class ModelAudit(_Frozen):
    id: str
    verdict: Verdict
    declared: list[str]  # rule ids the model itself declares
    effective_licenses: list[EffectiveLicense]
    lineage: list[str]  # ancestor ids
    findings: list[Finding]
    obligations: list[Obligation]
    resolved: bool
    requested_as: str | None = None
    manifest_line: int | None = None


class RuleSetInfo(_Frozen):
    version: str
    digest: str
    licenses: int


class AuditResult(_Frozen):
    schema_version: str = "1.0"
    tool: str = "model-license-auditor"
    tool_version: str
    generated_at: str
    verdict: Verdict
    complete: bool
    use: DeclaredUse
    product: str | None = None
    manifest: str | None = None
    models: list[ModelAudit]
    obligations: list[Obligation]
    graph: LineageGraph
    rules: RuleSetInfo
    policy: str | None = None
    # Rule ids each graph node declares (after normalisation; curated where the node can't be read).
    node_licenses: dict[str, list[str]] = Field(default_factory=dict)
