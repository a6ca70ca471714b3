"""Shared value types of the pipeline.

Every stage speaks these types: sources produce `ModelFacts` or `Unresolved`, the crawler
produces a `LineageGraph`, the engine produces an `AuditResult`, reporters render it.
All are pydantic models so they serialise to stable JSON (the snapshot and result formats).
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    WithJsonSchema,
    model_validator,
)
from pydantic_core import PydanticCustomError

from auditor import vocab
from auditor.sources import registry
from auditor.vocab import RELATIONS, Distribution, Relation, Severity, Verdict

__all__ = ["RELATIONS", "Distribution", "Relation", "Severity", "Verdict"]


# Reference kinds and evidence sources are open: each registered source (auditor/sources/registry.py)
# adds its kind. They are plain strings validated against the registry when a value is built (a kind
# no source serves is an error, never a silent miss); a `Literal` would need editing for every new
# source. The JSON schema still lists the registered values.
def _check_ref_kind(value: str) -> str:
    if value not in registry.registered():
        known = ", ".join(registry.ref_kinds())
        raise PydanticCustomError("ref_kind", "unknown reference kind '{value}' (registered: {known})",
                                  {"value": value, "known": known})
    return value


def _check_source(value: str) -> str:
    if value not in registry.registered() and value not in (registry.SNAPSHOT_SOURCE, registry.MANIFEST_SOURCE):
        known = ", ".join(registry.evidence_sources())
        raise PydanticCustomError("source_kind", "unknown source '{value}' (registered: {known})",
                                  {"value": value, "known": known})
    return value


def _check_evidence_source(value: str) -> str:
    return value if value == "curated" else _check_source(value)


# A registered reference kind: `hub`, `local`, …
RefKind = Annotated[
    str, AfterValidator(_check_ref_kind), WithJsonSchema({"type": "string", "enum": list(registry.ref_kinds())})
]
# Where facts were read: a reference kind, the recorded `snapshot`, or the `manifest` (declared by hand).
SourceKind = Annotated[
    str, AfterValidator(_check_source), WithJsonSchema({"type": "string", "enum": list(registry.evidence_sources())})
]
# Where one fact came from: a `SourceKind`, or `curated` lineage kept beside the rules.
EvidenceSource = Annotated[
    str,
    AfterValidator(_check_evidence_source),
    WithJsonSchema({"type": "string", "enum": [*registry.evidence_sources(), "curated"]}),
]

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


class _Sorted(_Frozen):
    """A model written many times in `audit.json` (graph nodes and edges, the result's findings…).

    Its fields hold only plain values, lists of them and other `_Sorted` models (no mapping), and its
    attributes are kept in sorted order: its JSON has sorted keys as serialised, so `audit.json` writes it
    with pydantic's encoder directly, without a sorted Python copy (`KEYS_SORTED`, read by
    `reports._common.write_canonical_json`; tests/test_model_parts.py checks the field types).
    """

    KEYS_SORTED: ClassVar[bool] = True
    SORTED_FIELDS: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        cls.SORTED_FIELDS = tuple(sorted(cls.model_fields))

    def model_post_init(self, context: Any, /) -> None:
        """After validation (or `model_construct`): the attributes in sorted order."""
        values = self.__dict__
        object.__setattr__(self, "__dict__", {name: values[name] for name in self.SORTED_FIELDS})


class ModelRef(_Frozen):
    """A reference to a model: its kind (a registered source: a Hub repo id, optionally pinned, a local
    folder, …) and its id within that kind."""

    kind: RefKind
    id: str  # Hub repo id, or the folder path as given
    revision: str | None = None

    @property
    def key(self) -> str:
        return f"{self.id}@{self.revision}" if self.revision else self.id


class Evidence(_Sorted):
    """Where one fact came from."""

    source: EvidenceSource
    field: str  # e.g. "cardData.base_model", "tags", "adapter_config.json:base_model_name_or_path"
    value: str  # the raw value as read (stringified)
    location: str = ""  # URL, file path or rule-file path
    revision: str | None = None  # the sha the value was read at, when known
    weak: bool = False  # weak evidence (config.json _name_or_path)
    note: str = ""


class ParentClaim(_Sorted):
    """One claim that this model derives from `parent` (child -> parent)."""

    parent: str  # Hub repo id or local path
    relation: Relation = "unknown"
    evidence: Evidence
    # Set when the file that names the parent could not be read: the parent is then unknown, and the
    # crawl records an unresolved node with this reason (never "all claimed parents audited").
    unreadable: str | None = None


class DeclaredLicense(_Sorted):
    """What a model declares about its license, raw and uninterpreted."""

    license: list[str] = Field(default_factory=list)  # card `license` (string or list)
    license_name: str | None = None
    license_link: str | None = None
    tag_licenses: list[str] = Field(default_factory=list)  # from `license:<x>` tags
    evidence: list[Evidence] = Field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        return not (self.license or self.license_name or self.license_link or self.tag_licenses)


class ModelFacts(_Sorted):
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


class Unresolved(_Sorted):
    """A model that could not be read. Failure is data."""

    id: str
    requested: str
    source: SourceKind
    code: UnresolvedCode
    reason: str
    revision: str | None = None
    retrieved_at: str | None = None


class NodeRecord(_Sorted):
    id: str
    facts: ModelFacts | None = None
    unresolved: Unresolved | None = None
    depth: int = 0  # shortest distance from a root


class EdgeRecord(_Sorted):
    child: str
    parent: str
    relation: Relation
    evidence: list[Evidence]
    weak: bool = False  # only weak evidence supports this edge


class Disagreement(_Sorted):
    model: str
    message: str
    # "disagreement": sources name different parents (all audited); "unusable": a lineage value that
    # names no model could be followed, so a parent may be missing.
    kind: Literal["disagreement", "unusable"] = "disagreement"


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


def _vocab_item(check: Any) -> Any:
    def run(value: Any) -> Any:
        if not isinstance(value, str):
            return value  # the str type check reports it
        try:
            return check(value)
        except vocab.VocabError as err:
            raise PydanticCustomError("vocab", str(err)) from None

    return run


def _split(value: Any) -> Any:
    if isinstance(value, str):
        return vocab.split_list(value)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return vocab.split_list(value)
    return value


def _check_purpose(value: str) -> str:
    vocab.parse_purpose(value)
    return value


def _some_region(values: list[str]) -> list[str]:
    """An empty region list answers nothing (every organisation is domiciled somewhere): refused."""
    if not values:
        raise PydanticCustomError(
            "vocab", "an empty list of regions answers nothing. Give at least one ISO code, a country name, EU or "
                     "EEA, or remove the key to be asked")
    return sorted(set(values))


RegionList = Annotated[
    list[Annotated[str, BeforeValidator(_vocab_item(vocab.parse_region))]],
    BeforeValidator(_split),
    AfterValidator(_some_region),
]
PurposeList = Annotated[
    list[Annotated[str, BeforeValidator(_vocab_item(_check_purpose))]],
    BeforeValidator(_split),
    AfterValidator(vocab.parse_purposes),
]
def _split_keeping_empty(value: Any) -> Any:
    """Like `_split`, but an empty item stays (and is refused by the item check, not silently dropped)."""
    items = [value] if isinstance(value, str) else value
    if isinstance(items, list) and all(isinstance(v, str) for v in items):
        return [part.strip() for item in items for part in item.split(",")]
    return value


LicensorList = Annotated[
    list[Annotated[str, BeforeValidator(_vocab_item(vocab.parse_licensor))]],
    BeforeValidator(_split_keeping_empty),
    AfterValidator(lambda v: sorted(set(v))),
]


# Users at a license's release date: one count for every license that asks (`0`, or the highest count in
# the calendar month before any of their release dates), or one per license rule id (`{llama3.1: N}`).
_MAU_SHAPE = "give a number, or a number per license rule id (e.g. {llama3.1: 0})"


def _user_count(value: Any, where: str) -> int:
    if isinstance(value, str) and value.strip().replace("_", "").isdigit():
        value = int(value.strip().replace("_", ""))
    if isinstance(value, bool) or not isinstance(value, int):
        raise PydanticCustomError("vocab", f"{where}{value!r} is not a user count: {_MAU_SHAPE}")
    if value < 0:
        raise PydanticCustomError("vocab", f"{where}a user count cannot be negative")
    return value


def _mau_at_release(value: Any) -> Any:
    if value is None:
        return None
    if not isinstance(value, dict):
        return _user_count(value, "")
    if not value:
        raise PydanticCustomError("vocab", "empty mapping: " + _MAU_SHAPE)
    counts: dict[str, int] = {}
    for key, count in value.items():
        try:
            rule_id = vocab.parse_rule_id(str(key))
        except vocab.VocabError as err:
            raise PydanticCustomError("vocab", str(err)) from None
        counts[rule_id] = _user_count(count, f"{rule_id}: ")
    return counts


MauAtRelease = Annotated[int | dict[str, int] | None, BeforeValidator(_mau_at_release)]


def _declares_production_purpose(purposes: Any) -> bool:
    """Do the raw `purposes` name the production purpose (or an alias of it)? Invalid values are left to
    the field's own validation."""
    if not isinstance(purposes, str | list):
        return False
    try:
        return vocab.PRODUCTION_PURPOSE in vocab.parse_purposes(purposes)
    except (vocab.VocabError, TypeError, AttributeError):
        return False


def _production_from_purposes(data: Any) -> Any:
    """`purposes: [production]` says `production: true`; with `production: false` it is a contradiction."""
    if not isinstance(data, dict) or not _declares_production_purpose(data.get("purposes")):
        return data
    if data.get("production") is False:
        raise PydanticCustomError(
            "vocab", "production: false contradicts the purpose 'production' declared in `purposes`. Remove one",
            {"field": "production"})
    return data if data.get("production") is True else {**data, "production": True}


class DeclaredUse(_Frozen):
    """The user's intended use. `None` means undeclared (a term that depends on it yields needs-input).

    Regions are ISO 3166-1 codes or EU/EEA (names in any case are accepted and normalised);
    purposes are keys of the published list (`auditor vocab purposes`; aliases are expanded).
    """

    commercial: bool | None = None
    monthly_active_users: int | None = Field(
        default=None, ge=0, description="Today's monthly active users, for licenses that test their user limit at "
        "any time (Qwen, Tongyi Qianwen §4: per product or service). Licenses that count once, before their "
        "release date, ask `monthly_active_users_at_release`")
    annual_revenue_usd: int | None = Field(default=None, ge=0)
    distribution: Annotated[Distribution | None, BeforeValidator(_vocab_item(vocab.check_distribution))] = None
    domicile: RegionList | None = Field(
        default=None, description="Where your organisation is domiciled / has its principal place of business")
    markets: RegionList | None = Field(
        default=None, description="Where the product is offered or used")
    regions: RegionList | None = Field(
        default=None, description="Shorthand: sets both domicile and markets when they are not given")
    purposes: PurposeList | None = None
    production: bool | None = Field(
        default=None, description="true: production use, live and real-world, where the model or its outputs "
        "interact with or affect end users (customers, the public, or your staff in their daily work), paid or "
        "free; false: only research, evaluation or testing outside production. Research-only and "
        "non-production licenses ask this")
    registered: LicensorList | None = Field(
        default=None, description="The licensors you have registered with for commercial use, by Hub "
        "organisation (the owner in owner/model); [] means none. Licenses that grant commercial use only "
        "after registration ask this")
    trains_on_outputs: bool | None = Field(
        default=None, description="true: you use the model's outputs (generated text, images, synthetic data, "
        "distillation targets) to train, fine-tune or otherwise improve another model; false: you do not. "
        "Licenses that forbid it or allow it on conditions ask this; undeclared, their terms are listed as "
        "obligations")
    monthly_active_users_at_release: MauAtRelease = Field(
        default=None, description="Monthly active users in the calendar month before a license's version release "
        "date, for licenses that test their user limit once, then (Llama §2: counted with your affiliates; Tencent "
        "Hunyuan Section 4). One number answers for every such license; a mapping answers per license rule id, "
        "e.g. {llama3.1: 0}. `monthly_active_users` is today's count, asked by licenses that test at any time")

    _production = model_validator(mode="before")(_production_from_purposes)

    def users_at_release(self, rule_id: str) -> int | None:
        """The declared monthly active users before `rule_id`'s release date (None: not declared for it)."""
        declared = self.monthly_active_users_at_release
        if isinstance(declared, dict):
            return declared.get(rule_id)
        return declared

    def regions_for(self, question: str) -> list[str] | None:
        """The declared regions a territory term tests: `domicile` or `market` (`regions` stands in for
        whichever is not declared)."""
        declared = self.domicile if question == "domicile" else self.markets
        return declared if declared is not None else self.regions


# --------------------------------------------------------------------------- audit result


class _Part(_Sorted):
    """A part of the audit result (a finding, an obligation, an effective license, an audited model…).

    The engine builds hundreds of thousands of them from values it has already checked: `of` and `built`
    make one without validating again and without `model_construct`'s per-field alias and default handling,
    and every instance of a class shares one fields-set (all fields are always given).
    """

    FIELD_SET: ClassVar[set[str]] = set()

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        cls.FIELD_SET = set(cls.SORTED_FIELDS)

    @classmethod
    def of(cls, values: dict[str, Any]) -> Self:
        """An instance holding `values`: every field, each already of its declared type, in any order."""
        if values.keys() != cls.FIELD_SET:
            missing, extra = sorted(cls.FIELD_SET - values.keys()), sorted(values.keys() - cls.FIELD_SET)
            raise TypeError(f"{cls.__name__}.of: missing {missing}, unknown {extra}")
        return cls.built({name: values[name] for name in cls.SORTED_FIELDS})

    @classmethod
    def built(cls, values: dict[str, Any]) -> Self:
        """`of` without its check, for the engine's hot paths: `values` must hold every field in `SORTED_FIELDS`
        order (its tests check each caller). The dict becomes the instance's own."""
        part = _new(cls)
        _set_dict(part, values)
        _set_fields_set(part, cls.FIELD_SET)
        _set_extra(part, None)
        _set_private(part, None)
        return part


_new = object.__new__
# BaseModel's slots, set through their descriptors (half the time of `object.__setattr__`, which looks each up).
_set_dict = BaseModel.__dict__["__dict__"].__set__
_set_fields_set = BaseModel.__dict__["__pydantic_fields_set__"].__set__
_set_extra = BaseModel.__dict__["__pydantic_extra__"].__set__
_set_private = BaseModel.__dict__["__pydantic_private__"].__set__


class Clause(_Part):
    section: str
    quote: str


class Finding(_Part):
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
    # When the policy changed the severity: the engine's own severity (reports say it was changed).
    default_severity: Severity | None = None


class Obligation(_Part):
    id: str
    license: str
    text: str
    clause: Clause | None = None
    models: list[str] = Field(default_factory=list)


class EffectiveLicense(_Part):
    license: str  # rule id
    name: str
    spdx: str
    kind: str
    via: list[str]  # path of model ids from the model to the holder of this license
    own: bool  # declared by the model itself
    url: str = ""  # the license text


def _obligation_ids(value: Any) -> Any:
    """A model's obligations as written before schema 1.2 (each in full, the same as the result's obligation of
    that id) read as their ids."""
    if not isinstance(value, list):
        return value
    return [item.get("id", item) if isinstance(item, dict) else item.id if isinstance(item, Obligation) else item
            for item in value]


class ModelAudit(_Part):
    id: str
    verdict: Verdict
    declared: list[str]  # rule ids the model itself declares
    effective_licenses: list[EffectiveLicense]
    lineage: list[str]  # ancestor ids
    findings: list[Finding]
    # Ids of the result's obligations (`AuditResult.obligations`) that bind the model, sorted (schema 1.2; older
    # results listed each obligation in full here, and read as their ids).
    obligations: Annotated[list[str], BeforeValidator(_obligation_ids)]
    resolved: bool
    requested_as: str | None = None
    manifest_line: int | None = None
    # Schema 1.3: true when `findings` holds only the model's own: the findings about the nodes of its `lineage`
    # (the result's `lineage_findings`) and about the terms of its `effective_licenses` (`license_findings`) are the
    # model's too (read whole with `auditor.findings.resolved`). False (and in older results): `findings` is every
    # finding of the model.
    inherits_findings: bool = False


class Notice(_Frozen):
    """A problem with the audit's inputs that is no finding about a model (e.g. a waiver that matches
    no audited model), located in its file."""

    file: str
    line: int
    message: str


class RuleSetInfo(_Frozen):
    version: str
    digest: str
    licenses: int


class CatalogueLicense(_Frozen):
    """A license the result mentions, as its rule stated it when the audit ran: enough for every report to
    name it, link it and ship its full text without reading a rule file (an organisation's own rule folder
    included). The text is stored once per license, not per model."""

    id: str  # rule id
    name: str
    spdx: str
    kind: str
    url: str = ""
    version: str = ""
    text: str | None = None  # the full license text, when the rule bundles one (`text_file`)
    text_file: str | None = None  # where the rule kept it (`texts/<id>.txt`), for the record
    text_sha256: str | None = None  # SHA-256 (hex) of the text's UTF-8 bytes
    copyright: list[str] = Field(default_factory=list)  # copyright lines quoted verbatim from the text


# Results written before the license catalogue existed: reports fall back to the bundled rule files.
LEGACY_SCHEMA_VERSIONS = frozenset({"1.0"})


class AuditResult(_Frozen):
    # 1.2: each model's obligations are ids of `obligations` (in 1.0 and 1.1, each model listed them in full).
    # 1.3: the findings about a lineage node, and those about a license's terms, are kept once, in `lineage_findings`
    # and `license_findings`, not copied into the `findings` of every model that has them (`ModelAudit.inherits_findings`).
    schema_version: str = "1.3"
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
    notices: list[Notice] = Field(default_factory=list)
    # Every rule id the result mentions (declared by a node, effective, in a finding or obligation), as the
    # rules said at audit time: reports read licenses from here only (schema 1.1; empty in 1.0 results).
    license_catalogue: dict[str, CatalogueLicense] = Field(default_factory=dict)
    # Schema 1.3: node id -> the findings about that node (`model` is the node, `via` starts at it), once per node,
    # for every audited model whose `lineage` holds the node and that `inherits_findings`: such a model has each of
    # them with itself as `model` and its path to the node before `via` (auditor/findings.py says how).
    lineage_findings: dict[str, list[Finding]] = Field(default_factory=dict)
    # Schema 1.3: rule id -> the findings about that license's terms under the declared use, once per license, for
    # every model that holds it (`effective_licenses`) and `inherits_findings`: `model` and `via` are empty and the
    # `message` goes on from the license's label (its name, and the path when inherited: auditor/findings.py).
    license_findings: dict[str, list[Finding]] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _obligations_named(self) -> Self:
        """Every obligation id a model names is one of the result's obligations."""
        known = {ob.id for ob in self.obligations}
        for i, model in enumerate(self.models):
            unknown = [oid for oid in model.obligations if oid not in known]
            if unknown:
                raise PydanticCustomError(
                    "obligation_id", "models.{i}.obligations: '{oid}' names no obligation of the result's "
                    "`obligations` (give its id, as listed there)", {"i": i, "oid": unknown[0]})
        return self
