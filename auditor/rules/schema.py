"""Schema of a license rule file (`license_rules/*.yaml`).

A rule file is data reviewed like law: each term cites the clause it encodes. The engine reads
only these fields; it never names a license itself.
"""

from __future__ import annotations

import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from auditor.vocab import (
    COUNTED_OVER_REVENUE_WORDS,
    COUNTED_OVER_WORDS,
    DISTRIBUTIONS,
    CountedOver,
    Distribution,
    LicenseKind,
    MeasuredAt,
    RegionQuestion,
    Relation,
    VocabError,
    check_rule_purpose,
    parse_licensor,
    parse_region,
)

__all__ = ["LicenseKind"]

Comparison = Literal["greater_than", "at_least"]
Metric = Literal["monthly_active_users", "annual_revenue_usd"]
DistributionMode = Distribution
_ALL_MODES: tuple[DistributionMode, ...] = DISTRIBUTIONS
RelationName = Relation
_SHARED_WEIGHTS: tuple[DistributionMode, ...] = ("weights",)


def _vocab(check: Any) -> Any:
    def run(value: str) -> str:
        try:
            return str(check(value))
        except VocabError as err:
            raise PydanticCustomError("vocab", str(err)) from None

    return run


PurposeKey = Annotated[str, AfterValidator(_vocab(check_rule_purpose))]
RegionCode = Annotated[str, AfterValidator(_vocab(parse_region))]
LicensorName = Annotated[str, AfterValidator(_vocab(parse_licensor))]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Citation(_Strict):
    """The clause a term encodes: a section and a short verbatim quote."""

    section: str = Field(min_length=1)
    quote: str = Field(min_length=1)


class Aliases(_Strict):
    """Spellings that normalise to this rule. Compared case-insensitively, spaces/underscores folded."""

    tags: list[str] = Field(default_factory=list)  # Hub `license:` tag values
    names: list[str] = Field(default_factory=list)  # `license_name` values
    links: list[str] = Field(default_factory=list)  # `license_link` URLs (prefix match, scheme-less)
    spdx: list[str] = Field(default_factory=list)  # SPDX ids / LicenseRefs
    # `license` / `license_name` values that several texts of one family use (one Hub name for several versions
    # or releases). The card's `license_link` or a curated license fact (`lineage/*.yaml` with `model:`) picks
    # the text; when neither does, the rule with `shared_default: true` (the stricter reading) applies and an
    # `ambiguous-license` finding names every text the value could be.
    shared: list[str] = Field(default_factory=list)
    shared_default: bool = False  # this text is the stricter reading of its `shared` values


class ResearchOnly(_Strict):
    """The grant covers only research, evaluation or other non-production use: production use (live use
    where the model or its outputs interact with or affect end users, paid or free) is outside it, even when
    it is not commercial. The engine tests the declared `production`."""

    allowed: str = Field(min_length=1)  # plain words: the uses the text allows
    cite: Citation


class Commercial(_Strict):
    allowed: bool
    registration_required: bool = False  # e.g. must register with the licensor before commercial use
    note: str = ""
    cite: Citation
    # Whom to register with: Hub organisation names a user declares in `registered:` (any one of them
    # satisfies the term). Empty: the rule's `derivative_licensing.licensor_orgs`.
    register_with: list[LicensorName] = Field(default_factory=list)
    research_only: ResearchOnly | None = None


class Exemption(_Strict):
    """Who a term does not bind, in plain words, with the clause that says so."""

    who: str = Field(min_length=1)
    cite: Citation


class Threshold(_Strict):
    metric: Metric
    limit: int = Field(gt=0)
    comparison: Comparison = "greater_than"
    only_if_commercial: bool = False  # the clause applies only to commercial use
    measured: str  # plain words: when and over whom it is measured
    consequence: str  # what happens past it
    # When the count is taken: `ongoing`, or once, in the calendar month before `release_date` (ISO date).
    measured_at: MeasuredAt = "ongoing"
    release_date: datetime.date | None = None
    counted_over: CountedOver = "licensee"  # whose users (or revenue) are counted
    exemption: Exemption | None = None  # who the threshold does not bind (Llama §1.b.ii: integrated end users)
    cite: Citation

    @model_validator(mode="after")
    def _measured_as_cited(self) -> Threshold:
        """A release-date test names its date, and the clause says so; so does a count over affiliates."""
        quote = self.cite.quote.lower()
        if (self.measured_at == "release_date") != (self.release_date is not None):
            raise ValueError("measured_at: release_date needs release_date (and release_date needs it)")
        if self.measured_at == "release_date" and "release date" not in quote:
            raise ValueError("measured_at: release_date, but the cited clause does not mention the release date")
        if self.measured_at == "release_date" and self.metric != "monthly_active_users":
            raise ValueError("measured_at: release_date is asked only of monthly_active_users "
                             "(declared as monthly_active_users_at_release)")
        if self.counted_over == "licensee_and_affiliates" and "affiliate" not in quote:
            raise ValueError("counted_over: licensee_and_affiliates, but the cited clause does not mention affiliates")
        return self

    @property
    def declared_field(self) -> str:
        """The declared-use field that answers this threshold."""
        return "monthly_active_users_at_release" if self.measured_at == "release_date" else self.metric

    def when_and_whom(self, license_name: str) -> str:
        """What is measured when and over whom, in plain words."""
        words = COUNTED_OVER_WORDS if self.metric == "monthly_active_users" else COUNTED_OVER_REVENUE_WORDS
        whom = words[self.counted_over]
        if self.release_date is not None:
            return (f"once, in the calendar month before the release date of the {license_name} "
                    f"({self.release_date.isoformat()}), {whom}")
        return f"at any time, {whom}"


class Territory(_Strict):
    """Rights withheld from parties domiciled in these regions."""

    regions: list[RegionCode] = Field(min_length=1)  # e.g. ["EU"]
    # What the clause tests: where the licensee is domiciled, or where the product is offered or used.
    tests: RegionQuestion = "domicile"
    # The restriction applies only to models matching these predicates (empty = every model):
    applies_to_pipeline_tags: list[str] = Field(default_factory=list)
    applies_to_id_patterns: list[str] = Field(default_factory=list)  # fnmatch globs, case-insensitive
    scope_note: str = ""
    exempt: str = ""  # who is exempt, in plain words
    exempt_cite: Citation | None = None  # the clause that exempts them
    cite: Citation


class ImpliedByDistribution(_Strict):
    """Declared distributions that are this purpose whatever purposes are declared, because the text defines
    the purpose so (e.g. a text that defines hosting as offering the model to third parties as a managed
    service, which a SaaS is). `cite` is that definition; `exempt` says in plain words what the text exempts
    (a user whose use is exempt waives the finding with that reason)."""

    distributions: list[DistributionMode] = Field(min_length=1)
    exempt: str = ""
    cite: Citation


class FieldOfUse(_Strict):
    """A prohibited purpose. `purpose` is a short key users declare (e.g. `military`)."""

    purpose: PurposeKey
    description: str
    cite: Citation
    implied_by_distribution: ImpliedByDistribution | None = None


class AcceptableUsePolicy(_Strict):
    name: str
    url: str
    must_pass_downstream: bool  # must be imposed on downstream users as an enforceable provision
    cite: Citation


class OutputsTraining(_Strict):
    """May outputs be used to train or improve other models?"""

    allowed: Literal["yes", "no", "conditional"]
    condition: str = ""
    cite: Citation


class FlowDown(_Strict):
    """Do the terms bind derivatives of each kind? (True = the child keeps these terms.)"""

    finetune: bool
    adapter: bool
    quantized: bool
    merge: bool
    distillation: bool = False  # a model trained on outputs counts as a derivative
    cite: Citation


class DerivativeLicensing(_Strict):
    """What license a derivative may declare for itself.

    - `any`: an adaptation may use any license (permissive parents), keeping notices (`relabelled`, info).
    - `listed`: the child must declare this license or one of `allowed` (rule-id globs), else `license-conflict`.
    - `none`: no adaptation may be shared, whatever it declares (`no-derivatives` in the `barred_when` modes).
    """

    policy: Literal["any", "listed", "none"]
    allowed: list[str] = Field(default_factory=list)
    # Hub namespaces of the licensor itself: its own releases may relicense its own material.
    licensor_orgs: list[str] = Field(default_factory=list)
    # What the cited clause asks of a derivative, in plain words; a `license-conflict` or `no-derivatives`
    # finding says it after "<license> <section>: ". Empty: a neutral sentence is used.
    requires: str = ""
    # `none`: the declared distributions in which an adaptation is outside the license (where the text's
    # "Share" reaches, or every mode if the license grants no right to make adaptations at all).
    barred_when: list[DistributionMode] = Field(default_factory=lambda: list(_SHARED_WEIGHTS))
    # The clause that keeps a copy (a quantization, a re-upload) under this license: a copy declaring
    # another license is a `license-conflict` (laundering), an adaptation that may and does is `relabelled`.
    copies: Citation | None = None
    note: str = ""
    cite: Citation


class MergeIncompatibility(_Strict):
    """Licenses this one cannot be merged with, how sure that is, and the clause that says so."""

    licenses: list[str] = Field(min_length=1)  # rule-id globs
    # `warning` where the text does not decide (the finding asks for a review), `error` where it does.
    severity: Literal["error", "warning"] = "error"
    reason: str = Field(min_length=1)  # what the clause forbids, in plain words
    cite: Citation


class Obligation(_Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    text: str  # what the user must do, exact text to display where the license gives one
    when: list[DistributionMode] = Field(default_factory=lambda: list(_ALL_MODES))
    cite: Citation


class Redistribution(_Strict):
    allowed: bool
    conditions: list[str] = Field(default_factory=list)
    cite: Citation


class LicenseRule(_Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9.+-]*$")
    name: str
    version: str = ""
    url: str
    # The full license text, bundled beside the rule files (`texts/<id>.txt`, relative to the rule's folder):
    # SPDX `hasExtractedLicensingInfos`, CycloneDX license text and THIRD_PARTY_NOTICES ship it.
    text_file: str | None = Field(default=None, pattern=r"^texts/[a-z0-9][a-z0-9.+-]*\.txt$")
    # Where that text was taken from, verbatim: a URL or `github:owner/repo/path@commit`. Required with text_file.
    text_source: str | None = Field(default=None, min_length=1, max_length=500, pattern=r"^\S+( \S+)*$")
    # Copyright lines quoted verbatim from that text (checked against it at load): THIRD_PARTY_NOTICES ships them.
    copyright: list[Annotated[str, Field(min_length=1, max_length=500)]] = Field(default_factory=list)
    spdx: str  # SPDX id or LicenseRef-…
    kind: LicenseKind
    summary: str  # one paragraph, plain language
    aliases: Aliases = Field(default_factory=Aliases)
    commercial: Commercial
    thresholds: list[Threshold] = Field(default_factory=list)
    territory: list[Territory] = Field(default_factory=list)
    field_of_use: list[FieldOfUse] = Field(default_factory=list)
    acceptable_use_policy: AcceptableUsePolicy | None = None
    outputs_training: OutputsTraining | None = None
    flows_down: FlowDown
    derivative_licensing: DerivativeLicensing
    # Rule-id globs (an `error` citing derivative_licensing), or entries with their own severity and clause.
    merge_incompatible_with: list[str | MergeIncompatibility] = Field(default_factory=list)
    redistribution: Redistribution
    obligations: list[Obligation] = Field(default_factory=list)
    not_encoded: list[str] = Field(default_factory=list)  # terms the rule could not encode, and why
    reviewed: str = ""  # who/when reviewed against which text

    def merge_exclusions(self) -> list[MergeIncompatibility]:
        """Every merge incompatibility as an entry: a plain glob is an error citing derivative_licensing."""
        return [entry if isinstance(entry, MergeIncompatibility) else MergeIncompatibility.model_construct(
                    licenses=[entry], severity="error", reason="", cite=self.derivative_licensing.cite)
                for entry in self.merge_incompatible_with]

    def merge_globs(self) -> list[str]:
        return [glob for entry in self.merge_exclusions() for glob in entry.licenses]

    @model_validator(mode="after")
    def _text_has_a_source(self) -> LicenseRule:
        if (self.text_file is None) != (self.text_source is None):
            raise ValueError("text_file and text_source go together: a bundled license text names where it was "
                             "taken from (text_source: a URL or github:owner/repo/path@commit), and a source "
                             "names the text_file it fills")
        return self

    @model_validator(mode="after")
    def _registration_names_a_licensor(self) -> LicenseRule:
        if self.commercial.registration_required and not self.registration_licensors:
            raise ValueError("commercial.registration_required needs the licensor to register with: "
                             "commercial.register_with (Hub organisations) or derivative_licensing.licensor_orgs")
        return self

    @model_validator(mode="after")
    def _copyright_is_quoted_from_the_text(self) -> LicenseRule:
        if self.copyright and self.text_file is None:
            raise ValueError("copyright lines are quoted from the license text: add text_file (texts/<id>.txt) "
                             "or remove copyright")
        return self

    @property
    def registration_licensors(self) -> list[str]:
        """Whom commercial use must be registered with (lower case Hub organisations)."""
        orgs = self.commercial.register_with or self.derivative_licensing.licensor_orgs
        return sorted({org.lower() for org in orgs})

    @field_validator("obligations")
    @classmethod
    def _unique_obligations(cls, value: list[Obligation]) -> list[Obligation]:
        ids = [o.id for o in value]
        if len(ids) != len(set(ids)):
            raise ValueError("obligation ids must be unique within a rule file")
        return value


class LicenseFact(_Strict):
    """A curated fact naming the text a model's shared license name means (its licensor says which in the
    repository's LICENSE, not in the card's metadata)."""

    model: str = Field(min_length=3, pattern=r"^[^/\s]+/[^/\s]+$")  # Hub repo id
    license: str = Field(min_length=1)  # rule id of the text
    statement: str = Field(min_length=1)  # the licensor's own words that identify the text
    source: str = Field(min_length=1)  # where it is (URL or repo@commit:path)


class LineageFact(_Strict):
    """A curated lineage fact the Hub does not carry (the licensor documents it in prose)."""

    child: str
    parent: str
    relation: RelationName
    # The parent's license as the licensor states it (rule id), used when the parent itself can't be read.
    parent_license: str | None = None
    statement: str  # the licensor's own sentence
    source: str  # where it is (URL or repo@commit:path)
