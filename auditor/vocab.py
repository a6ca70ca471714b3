"""The one vocabulary every stage speaks: codes, severities, relations, distributions, license kinds,
verdicts, exit codes, regions and purposes.

Nothing else in the package declares these values again. Manifest, CLI options, policy files and
rule files are validated against this module; a value outside it is a located error that names the
closest valid values ("did you mean") and the command that lists them (`auditor vocab …`).
Everything here is immutable (tuples, frozen dataclasses, read-only mappings).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal, get_args

# --------------------------------------------------------------------------- small closed sets

Severity = Literal["error", "warning", "info"]
SEVERITIES: tuple[Severity, ...] = get_args(Severity)
SEVERITY_RANK: Mapping[str, int] = MappingProxyType({"info": 0, "warning": 1, "error": 2})

Verdict = Literal["pass", "review", "fail"]
VERDICTS: tuple[Verdict, ...] = get_args(Verdict)

Relation = Literal["finetune", "adapter", "quantized", "merge", "distillation", "trained-on", "unknown"]
RELATIONS: tuple[Relation, ...] = get_args(Relation)
# What a manifest may declare (an unknown relation is what the Hub leaves unsaid, never declared).
# `distillation` (trained on the parent's outputs, not its weights) is never on a card: a manifest declares it.
# `trained-on` is not declarable as a `base_model_relation`: its parent is a dataset (`datasets/org/name`, read
# from the card's `datasets:` list), never the model a manifest's `base_model` names.
DeclarableRelation = Literal["finetune", "adapter", "quantized", "merge", "distillation"]
# Spellings seen in card metadata, folded to a relation. `trained-on` has none: a card's `base_model_relation`
# names how a model derives from a model, so no spelling there may turn a base model into training data.
RELATION_ALIASES: Mapping[str, Relation] = MappingProxyType({
    "finetune": "finetune", "fine-tune": "finetune", "finetuned": "finetune",
    "adapter": "adapter", "lora": "adapter",
    "quantized": "quantized", "quantization": "quantized",
    "merge": "merge", "merged": "merge",
    "distillation": "distillation", "distilled": "distillation",
})

# What a derivative is to its parent, by relation: a copy is the parent's material itself (a quantization is
# the same weights in another format, as a re-upload is), an adaptation changes it (fine-tune, adapter, merge).
# A relation the metadata leaves unsaid could be either. Relabelling a copy misstates its terms; an adaptation
# may carry its own license where the parent's allows it.
# `data`: the parent is training data (a dataset), no model: none of its material is in the weights as a copy
# or an adaptation of a model, and no model license's terms travel along the edge.
RelationNature = Literal["copy", "adaptation", "either", "data"]
RELATION_NATURE: Mapping[str, RelationNature] = MappingProxyType({
    "finetune": "adaptation", "adapter": "adaptation", "merge": "adaptation", "quantized": "copy",
    "distillation": "adaptation", "trained-on": "data", "unknown": "either",
})
RELATION_MEANINGS: Mapping[str, str] = MappingProxyType({
    "finetune": "trained further from the parent's weights: an adaptation of the parent",
    "adapter": "weights (e.g. LoRA) that modify the parent when applied to it: an adaptation of the parent",
    "quantized": "the parent's weights at a lower precision or in another format: a copy of the parent",
    "merge": "weights combined from several parents: an adaptation of each",
    "distillation": "trained on the parent's outputs (distillation, synthetic data), not on its weights: the "
                    "parent's terms bind it only where its license says so (`flows_down.distillation`)",
    "trained-on": "trained or fine-tuned on the parent, a dataset (the card's `datasets:`): no model ancestor; "
                  "the dataset's license is reported as `dataset-license` (whether it binds the weights is legally "
                  "unsettled)",
    "unknown": "the metadata does not say how it derives from the parent: a copy (quantization, re-upload) "
               "or an adaptation (fine-tune, adapter, merge)",
})
assert set(RELATION_NATURE) == set(RELATION_MEANINGS) == set(RELATIONS)

Distribution = Literal["internal", "saas", "weights"]
DISTRIBUTIONS: tuple[Distribution, ...] = get_args(Distribution)
DISTRIBUTION_MEANINGS: Mapping[str, str] = MappingProxyType({
    "internal": "used only inside your organisation; nothing is offered to others",
    "saas": "offered to others as a hosted service; the weights are not handed over",
    "weights": "the weights (or a derivative) are redistributed to others",
})

# Ordered from most to least permissive: within an OR expression the licensee picks the first.
LicenseKind = Literal[
    "permissive",  # Apache, MIT, BSD: free use, notice duties only
    "weak-copyleft",
    "community",  # custom terms, commercial with conditions
    "use-restricted",  # free use with use-based restrictions that flow down (OpenRAIL-M family)
    "copyleft",  # derivatives must keep the license
    "non-commercial",  # non-commercial, research-only
    "proprietary",
    "unknown",  # `other`, `unknown`, no license
]
LICENSE_KINDS: tuple[LicenseKind, ...] = get_args(LicenseKind)

FailOn = Literal["error", "warning", "never"]
FAIL_ON: tuple[FailOn, ...] = get_args(FailOn)

# What a territory term tests: where the licensee is domiciled, or where the product is offered/used.
RegionQuestion = Literal["domicile", "market"]
# Each question's declared-use field and the words for who it withholds rights from.
REGION_QUESTION_WORDS: dict[RegionQuestion, tuple[str, str]] = {
    "domicile": ("domicile", "are domiciled in"), "market": ("markets", "offer or use the product in")}

# When a threshold's count is taken: at any time (`ongoing`), or once, in the calendar month before the
# license's version release date (`release_date`: Llama §2, Tencent Hunyuan Section 4).
MeasuredAt = Literal["ongoing", "release_date"]
MEASURED_AT: tuple[MeasuredAt, ...] = get_args(MeasuredAt)

# Whose users a threshold counts: each product or service on its own (`product`: Qwen §4 "your product or
# service"), all the licensee's products (`licensee`), or those of the licensee and its affiliates together
# (`licensee_and_affiliates`: Llama §2).
CountedOver = Literal["product", "licensee", "licensee_and_affiliates"]
COUNTED_OVER: tuple[CountedOver, ...] = get_args(CountedOver)
# The same scopes for a revenue threshold (which counts money, not products' users).
COUNTED_OVER_REVENUE_WORDS: dict[CountedOver, str] = {
    "product": "counted for each product or service on its own",
    "licensee": "counted for you, the licensee",
    "licensee_and_affiliates": "counted for you and your affiliates together",
}
COUNTED_OVER_WORDS: dict[CountedOver, str] = {
    "product": "counted for each product or service on its own",
    "licensee": "counted over all products and services made available by or for you",
    "licensee_and_affiliates": "counted with your affiliates (all products and services made available by or for "
                               "you or your affiliates)",
}


class ExitCode(enum.IntEnum):
    """The process exit codes of every command."""

    OK = 0  # passed (or --fail-on never)
    FINDINGS = 1  # a finding at or above --fail-on
    USAGE = 2  # bad input or usage: the message names the file, line, field and fix
    INCOMPLETE = 3  # undecided (a model not read, or a needs-input term), and nothing worse was found
    INTERNAL = 4  # a bug in the auditor (never caused by input)
    INTERRUPTED = 130
    BROKEN_PIPE = 141  # the reader of stdout went away


# --------------------------------------------------------------------------- finding codes


@dataclass(frozen=True)
class CodeInfo:
    """A finding code: what it means, its default severity, and how to fix it."""

    code: str
    severity: Severity
    meaning: str
    remedy: str


FindingCode = Literal[
    "non-commercial", "research-only", "user-threshold", "revenue-threshold", "territory", "field-of-use",
    "registration", "outputs-training", "redistribution", "no-derivatives", "license-conflict", "relabelled",
    "incompatible-merge", "dataset-license",
    "unknown-license", "missing-license", "ambiguous-license",
    "needs-input", "unresolved", "cycle", "lineage-disagreement", "policy-deny", "policy-review",
    "waiver-expired",
]

_CODES: tuple[CodeInfo, ...] = (
    CodeInfo("non-commercial", "error", "A license on the path forbids commercial use, and the use is commercial.",
             "Use another model, obtain a commercial license from the licensor, or declare non-commercial use."),
    CodeInfo("research-only", "error", "A license on the path allows only research, evaluation or other "
             "non-production use, and the use is production (live use with end users).",
             "Keep the model to research, evaluation or testing outside production, obtain a production license "
             "from the licensor, or use another model."),
    CodeInfo("user-threshold", "error", "The declared monthly active users are past a license's limit.",
             "Request a license from the licensor (the finding says when and over whom the users are counted), "
             "or use another model."),
    CodeInfo("revenue-threshold", "error", "The declared annual revenue is past a license's limit.",
             "Obtain an enterprise/commercial license from the licensor, or use another model."),
    CodeInfo("territory", "error", "A license withholds rights in a region you declared (domicile or market).",
             "The license grants no rights to parties in this region: use another model or seek legal advice."),
    CodeInfo("field-of-use", "error", "A declared purpose is one a license prohibits.",
             "Drop the prohibited purpose or use a model whose license permits it."),
    CodeInfo("registration", "error", "A license grants commercial use only after registering with the licensor, "
             "and the use is commercial without a declared registration.",
             "Register with the licensor before commercial use, keep the confirmation, and declare it "
             "(`registered:` in the manifest's `use`)."),
    CodeInfo("outputs-training", "error", "A license forbids using its model's outputs to train or improve other "
             "models, and you declared that you do (a license that allows it on conditions gives a warning "
             "quoting them).",
             "Do not train or improve other models on this model's outputs (or meet the quoted conditions), "
             "obtain permission from the licensor, or generate the training data with another model."),
    CodeInfo("redistribution", "error", "A license forbids redistributing the weights, and you redistribute them.",
             "Do not redistribute the weights, or obtain permission from the licensor."),
    CodeInfo("no-derivatives", "error", "A license forbids sharing adaptations of its model, and the model you "
             "share is one (whatever license it declares).",
             "Share only the unmodified model (or keep the adaptation to yourself where the license allows it), "
             "or obtain permission from the licensor."),
    CodeInfo("license-conflict", "warning", "A model declares a license its ancestors' terms do not allow, or a "
             "copy of a model declares another license than the model it copies.",
             "Treat the model as governed by its ancestors' terms and ask its publisher to fix the card."),
    CodeInfo("relabelled", "info", "An adaptation declares another license than its parent, as the parent's "
             "license allows; the parent's terms still apply to the material it inherits.",
             "Nothing blocks the release: keep meeting the parent's terms (listed among the effective licenses and "
             "obligations) alongside the declared license."),
    CodeInfo("incompatible-merge", "error", "A merge combines models whose licenses cannot both be met.",
             "Do not ship the merge: its parents' licenses cannot both be satisfied."),
    CodeInfo("dataset-license", "warning", "A dataset the model was trained on (its card's `datasets:`) has a "
             "license whose terms the declared use would breach if they bind the weights, or no identified license; "
             "whether a dataset's license binds weights trained on it is legally unsettled.",
             "Have the dataset's terms reviewed for this use (or train on other data); your policy may set this "
             "code's severity (`severity: {dataset-license: error}` to block, `info` to note only)."),
    CodeInfo("unknown-license", "error", "A declared license value matches no rule: its terms are unknown.",
             "Read the repository's LICENSE, then add a rule file (auditor rules validate), fix the card, "
             "or lower the severity in your policy after a legal review."),
    CodeInfo("missing-license", "error", "A model declares no license: no rights are granted.",
             "Ask the publisher for a license; until then, no rights are granted."),
    CodeInfo("ambiguous-license", "warning", "A license name several texts share (versions, releases) and neither "
             "the card's license_link nor a curated fact says which: the stricter text is applied.",
             "Read the repository's LICENSE and record which text it is: a license fact (`model`, `license`, "
             "`statement`, `source`) in your rules folder's `lineage/`, or a license_link on the card."),
    CodeInfo("needs-input", "warning", "A license term depends on a use field you did not declare.",
             "Declare this field in the manifest's `use` section (or on the command line)."),
    CodeInfo("unresolved", "warning", "A model or a file naming a parent could not be read: its terms are unknown.",
             "Make the model readable (network, HF_TOKEN for gated/private repos, fix the id or the file) and "
             "audit again."),
    CodeInfo("cycle", "warning", "The lineage metadata forms a cycle.",
             "Fix the base_model metadata: a model cannot derive from itself."),
    CodeInfo("lineage-disagreement", "info", "Sources of lineage evidence disagree; every claimed parent is audited.",
             "Check the model's metadata; every claimed parent was audited."),
    CodeInfo("policy-deny", "error", "Your policy denies a license on the path.",
             "Your organisation's policy denies this license: use another model or obtain an exception."),
    CodeInfo("policy-review", "warning", "Your policy requires review of a license on the path (or does not list it).",
             "Your organisation's policy requires a legal review of this license before release."),
    CodeInfo("waiver-expired", "info", "A waiver matched a finding but has expired; the finding applies again.",
             "Renew the waiver (new expiry date and approval) or fix the finding."),
)
CODES: Mapping[str, CodeInfo] = MappingProxyType({c.code: c for c in _CODES})
assert set(CODES) == set(get_args(FindingCode)), "FindingCode and CODES must list the same codes"


def remedy(code: str) -> str:
    info = CODES.get(code)
    return info.remedy if info is not None else ""


# --------------------------------------------------------------------------- errors and suggestions


class VocabError(ValueError):
    """A value outside the vocabulary. The message says what was given, the closest values and where to look."""

    def __init__(self, message: str, *, value: str = "", suggestions: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.value = value
        self.suggestions = suggestions


def suggest(value: str, choices: Iterable[str], *, limit: int = 3, cutoff: float = 70.0) -> list[str]:
    """The closest valid values (rapidfuzz), best first."""
    from rapidfuzz import fuzz, process, utils

    pool = sorted(set(choices))
    found = process.extract(value, pool, scorer=fuzz.WRatio, processor=utils.default_process, limit=limit,
                            score_cutoff=cutoff)
    return [choice for choice, _score, _index in found]


def unknown_value(kind: str, value: str, choices: Iterable[str], listing: str) -> VocabError:
    pool = list(dict.fromkeys(choices))
    close = suggest(value, pool)
    hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
    if len(pool) <= 8:
        hint += f" Allowed: {', '.join(pool)}."
    return VocabError(f"unknown {kind} {value!r}.{hint} See `auditor vocab {listing}` for the list",
                      value=value, suggestions=tuple(close))


def check_code(value: str) -> str:
    if value not in CODES:
        raise unknown_value("finding code", value, CODES, "codes")
    return value



def check_distribution(value: str) -> Distribution:
    folded = value.strip().lower()
    for name in DISTRIBUTIONS:
        if folded == name:
            return name
    raise unknown_value("distribution", value, DISTRIBUTIONS, "distributions")


def split_list(values: Iterable[str] | str) -> list[str]:
    """`["EU, US", "DE"]` or `"EU,US"` -> `["EU", "US", "DE"]` (comma lists split everywhere)."""
    items = [values] if isinstance(values, str) else list(values)
    return [part.strip() for item in items for part in str(item).split(",") if part.strip()]


# --------------------------------------------------------------------------- license ids in the declared use

# `monthly_active_users_at_release:` is answered per license, keyed by rule id (`llama3.1`). The set is open
# (rule folders add ids), so only the spelling is checked here; an audit checks the ids against its rules.
_RULE_ID_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-_.+")


def parse_rule_id(value: str) -> str:
    """A license rule id as `auditor rules list` shows it, folded to lower case (`Llama3.1` -> `llama3.1`)."""
    folded = str(value).strip().lower()
    if not folded or not folded[0].isalnum() or any(c not in _RULE_ID_CHARS for c in folded):
        raise VocabError(f"{str(value).strip()!r} is not a license rule id (letters, digits, '-', '_', '.', '+'; "
                         "e.g. llama3.1). See `auditor rules list`", value=value)
    return folded


# --------------------------------------------------------------------------- licensors

# A licensor as users name it in `registered:` (the licensors they registered with): a Hub organisation
# name. The set is open (rule files say whom they require registration with, `commercial.register_with`),
# so only the spelling is checked here; an audit checks the names against the rules it loaded.
_LICENSOR_MAX = 96


def parse_licensor(value: str) -> str:
    """A licensor's Hub organisation name, folded to lower case (`Example-Org` -> `example-org`)."""
    text = str(value).strip()
    if not text:
        raise VocabError("empty licensor name. Give the licensor's Hub organisation (the owner in owner/model)",
                         value=value)
    folded = text.lower()
    ok = len(folded) <= _LICENSOR_MAX and folded[0].isalnum() and folded.isascii()
    if not ok or any(not (c.isalnum() or c in "-_.") for c in folded):
        shown = text if len(text) <= 40 else text[:40] + "…"
        raise VocabError(f"licensor {shown!r} is not a Hub organisation name (letters, digits, '-', '_', '.'; at "
                         f"most {_LICENSOR_MAX} characters), the owner in owner/model", value=value)
    return folded


# --------------------------------------------------------------------------- regions

# Groups of ISO 3166-1 alpha-2 codes. The EU list: 27 member states since 2020-02-01; the EEA adds
# Iceland, Liechtenstein and Norway.
_EU = ("AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE", "IT", "LV", "LT", "LU",
       "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE")
REGION_GROUPS: Mapping[str, frozenset[str]] = MappingProxyType({
    "EU": frozenset(_EU),
    "EEA": frozenset((*_EU, "IS", "LI", "NO")),
})
GROUP_NAMES: Mapping[str, str] = MappingProxyType({
    "EU": "European Union (27 member states)",
    "EEA": "European Economic Area (the EU plus Iceland, Liechtenstein and Norway)",
})
_GROUP_ALIASES: Mapping[str, str] = MappingProxyType({
    "EUROPEAN UNION": "EU", "EUROPEAN ECONOMIC AREA": "EEA",
})
# Codes in common use that ISO 3166-1 spells otherwise.
_CODE_ALIASES: Mapping[str, str] = MappingProxyType({
    "UK": "GB", "EL": "GR", "USA": "US", "U.S.": "US", "U.S.A.": "US", "AMERICA": "US", "BRITAIN": "GB",
    "GREAT BRITAIN": "GB", "ENGLAND": "GB", "SOUTH KOREA": "KR", "KOREA": "KR", "NORTH KOREA": "KP",
    "RUSSIA": "RU", "IRAN": "IR", "SYRIA": "SY", "TAIWAN": "TW", "VIETNAM": "VN", "TURKEY": "TR",
    "CZECHIA": "CZ", "HOLLAND": "NL",
})
# Names that are no single region: the user must choose.
_AMBIGUOUS: Mapping[str, str] = MappingProxyType({
    "EUROPE": "EU (the European Union), EEA (the EU plus IS, LI, NO), or a country code such as DE, GB, CH",
    "EMEA": "EU, EEA, or the country codes of each market",
    "ASIA": "the country codes, e.g. CN, JP, KR, IN, SG",
    "APAC": "the country codes, e.g. AU, CN, JP, KR, SG",
    "AMERICAS": "the country codes, e.g. US, CA, BR, MX",
    "NORTH AMERICA": "the country codes, e.g. US, CA, MX",
    "LATAM": "the country codes, e.g. BR, MX, AR",
    "AFRICA": "the country codes, e.g. ZA, NG, KE",
    "MIDDLE EAST": "the country codes, e.g. AE, SA, IL",
    "WORLDWIDE": "every country code where you operate, or the groups EU/EEA plus the others",
    "GLOBAL": "every country code where you operate, or the groups EU/EEA plus the others",
    "WORLD": "every country code where you operate, or the groups EU/EEA plus the others",
})


def _country_code(folded: str) -> str | None:
    """An ISO alpha-2 code for a code (alpha-2/alpha-3) or a country name, via pycountry."""
    import pycountry

    if len(folded) == 2:
        found = pycountry.countries.get(alpha_2=folded)
        return str(found.alpha_2) if found is not None else None
    if len(folded) == 3 and folded.isalpha():
        found = pycountry.countries.get(alpha_3=folded)
        if found is not None:
            return str(found.alpha_2)
    try:
        return str(pycountry.countries.lookup(folded).alpha_2)
    except LookupError:
        return None


def _region_names(short: bool) -> list[str]:
    """Suggestion pool: codes for a short input, names for a longer one."""
    import pycountry

    if short:
        return [*REGION_GROUPS, *(str(c.alpha_2) for c in pycountry.countries)]
    names = [*GROUP_NAMES.values(), *(k.title() for k in _CODE_ALIASES if len(k) > 3)]
    for country in pycountry.countries:
        names.append(str(country.name))
        names.extend(str(getattr(country, attr)) for attr in ("common_name",) if hasattr(country, attr))
    return names


def parse_region(value: str) -> str:
    """A region as written by a person -> an ISO 3166-1 alpha-2 code or a group (EU, EEA).

    Codes and names in any case ("Germany", "de", "DEU" -> DE). An ambiguous name ("Europe") or an
    unknown one raises `VocabError` with the choices.
    """
    text = " ".join(str(value).split())
    folded = text.upper()
    if not folded:
        raise VocabError("empty region. Give an ISO country code (e.g. DE, US) or EU/EEA", value=value)
    if folded in REGION_GROUPS:
        return folded
    if folded in _GROUP_ALIASES:
        return _GROUP_ALIASES[folded]
    if folded in _AMBIGUOUS:
        raise VocabError(f"region {text!r} is ambiguous: choose {_AMBIGUOUS[folded]}. "
                         "See `auditor vocab regions`", value=value)
    code = _CODE_ALIASES.get(folded) or _country_code(folded)
    if code is None:
        raise unknown_value("region", text, _region_names(len(folded) <= 3), "regions")
    return code


def region_spellings() -> list[str]:
    """Every canonical spelling `parse_region` accepts (codes, names, groups), for schemas."""
    import pycountry

    out = {*REGION_GROUPS, *GROUP_NAMES, *_GROUP_ALIASES, *_CODE_ALIASES}
    for country in pycountry.countries:
        out.update(str(getattr(country, attr)) for attr in ("alpha_2", "alpha_3", "name", "common_name")
                   if hasattr(country, attr))
    return sorted(out)


def parse_regions(values: Iterable[str] | str) -> list[str]:
    """Split comma lists and parse each; the result is sorted and without duplicates."""
    return sorted({parse_region(v) for v in split_list(values)})


def expand_region(code: str) -> frozenset[str]:
    """The country codes a region stands for (a group expands to its members)."""
    return REGION_GROUPS.get(code, frozenset([code]))


def regions_overlap(declared: Iterable[str], targets: Iterable[str]) -> list[str]:
    """The declared regions that share a country with any target region (conservative: a declared
    group such as EEA overlaps a rule's EU)."""
    target_set: set[str] = set()
    for target in targets:
        target_set |= expand_region(target)
    return sorted(r for r in declared if expand_region(r) & target_set)


# --------------------------------------------------------------------------- purposes


# The purpose that states the `production` question of the declared use (declaring it is `production: true`).
PRODUCTION_PURPOSE = "production"


@dataclass(frozen=True)
class Purpose:
    key: str
    meaning: str
    prohibited_somewhere: bool  # some license rule prohibits it (it may appear in `field_of_use`)
    aliases: tuple[str, ...] = ()


_PURPOSES: tuple[Purpose, ...] = (
    # Purposes some license prohibits (the keys rule files use in `field_of_use`).
    Purpose("automated-decision-making", "fully automated decisions with legal or similarly significant effects "
            "on people (credit, employment, housing, insurance…)", True,
            ("automated-decisions", "credit-scoring", "hiring", "eligibility-decisions")),
    Purpose("biometric-processing", "identifying or categorising people from biometric data", True,
            ("biometrics", "face-recognition", "facial-recognition", "biometric-identification")),
    Purpose("business-operations", "use by employees or contractors in a company's daily work, including "
            "internal tools, tests and proofs of concept", True, ("internal-business-use", "internal-tools")),
    Purpose("commercial-distribution", "supplying the model, a derivative or outputs in the course of a commercial "
            "activity, paid or free", True, ("commercial-redistribution",)),
    Purpose("critical-infrastructure", "operating critical infrastructure (energy, water, transport, "
            "telecommunications, heavy machinery)", True, ("infrastructure", "critical-systems")),
    Purpose("defamation-harassment", "defaming, harassing, abusing, threatening or bullying people", True,
            ("harassment", "defamation", "bullying")),
    Purpose("discrimination", "discriminating against people or groups (protected characteristics)", True, ()),
    Purpose("disinformation", "generating or spreading disinformation or fake news meant to harm", True,
            ("misinformation", "fake-news", "propaganda")),
    Purpose("exploit-vulnerabilities", "exploiting the vulnerabilities of a group of people (age, disability…) "
            "to distort their behaviour", True, ("manipulation",)),
    Purpose("harm-minors", "exploiting or harming minors, including soliciting or generating abuse material", True,
            ("child-exploitation", "csam")),
    Purpose("harmful-pii", "collecting, processing or disclosing personal data without legal basis, or to harm",
            True, ("pii", "personal-data-harvesting", "doxxing", "tracking-individuals")),
    Purpose("hosting", "offering shared instances or a managed service of the model to third parties", True,
            ("model-hosting", "managed-service", "api-hosting", "inference-service")),
    Purpose("impersonation", "impersonating a person or passing machine output off as a human", True,
            ("deepfakes", "deepfake", "voice-cloning")),
    Purpose("law-enforcement", "law enforcement, criminal justice, immigration or asylum decisions", True,
            ("policing", "predictive-policing", "criminal-justice", "immigration")),
    Purpose("malware", "creating malicious code or cyberattacks", True, ("cyberattack", "hacking", "offensive-security")),
    Purpose("medical-advice", "medical advice, diagnosis or treatment, and interpreting medical results", True,
            ("medical", "healthcare", "health", "diagnosis", "clinical", "medical-diagnosis")),
    Purpose("military", "military use or warfare", True,
            ("defense", "defence", "defense-industry", "warfare", "armed-forces", "weapons-development")),
    Purpose("nuclear", "nuclear industry or nuclear applications", True, ("nuclear-industry", "nuclear-energy")),
    Purpose("profiling-discrimination", "profiling people to predict behaviour or traits, or social scoring", True,
            ("profiling", "social-scoring")),
    Purpose("sexually-explicit-content", "generating sexually explicit content", True,
            ("adult-content", "nsfw", "pornography")),
    Purpose("surveillance", "surveillance or tracking of people", True, ("mass-surveillance", "monitoring-people")),
    Purpose("undisclosed-machine-generated", "presenting machine-generated content without disclosing it", True,
            ("undisclosed-ai-content", "ghostwriting")),
    Purpose("unlawful", "any use that violates applicable law", True, ("illegal", "illegal-activity")),
    Purpose("unlawful-content", "generating or distributing unlawful content", True, ("illegal-content",)),
    Purpose("weapons", "developing, producing or using weapons", True,
            ("weapons-development", "weapon-development", "arms", "defense", "defence")),
    # Common purposes no license prohibits (declared so audits can say they were considered).
    Purpose("chat-assistant", "a conversational assistant or chatbot", False, ("chatbot", "assistant", "chat")),
    Purpose("classification", "classifying or tagging text, images or audio", False, ("tagging", "categorisation")),
    Purpose("code-generation", "generating, completing or reviewing source code", False,
            ("coding-assistant", "code-completion", "code-assistant")),
    Purpose("content-moderation", "detecting unsafe or policy-violating content", False, ("moderation", "trust-and-safety")),
    Purpose("customer-support", "answering customers' questions", False, ("support", "customer-service", "helpdesk")),
    Purpose("data-extraction", "extracting structured data from documents", False,
            ("document-parsing", "information-extraction", "ocr")),
    Purpose("education", "teaching, tutoring or learning material", False, ("tutoring", "e-learning")),
    Purpose("embeddings", "computing embeddings for search, retrieval or clustering", False,
            ("retrieval", "rag", "semantic-search", "search")),
    Purpose("image-generation", "generating or editing images", False,
            ("text-to-image", "image-editing", "illustration", "art")),
    Purpose("marketing", "marketing and advertising material (copy, images, campaigns)", False,
            ("advertising", "marketing-images", "marketing-content", "ads")),
    # Declaring this purpose is declaring `production: true` (research-only terms test that field).
    Purpose(PRODUCTION_PURPOSE, "live, real-world use with end users (anything beyond research, evaluation and "
            "non-production testing); the same as declaring `production: true`", False,
            ("production-use", "production-deployment", "live-deployment")),
    Purpose("recommendation", "recommending items or content", False, ("recommender", "ranking")),
    Purpose("research", "research and evaluation, not in production", False,
            ("evaluation", "benchmarking", "academic", "academic-research")),
    Purpose("speech", "speech recognition or synthesis", False, ("asr", "tts", "transcription", "text-to-speech")),
    Purpose("summarisation", "summarising documents or conversations", False, ("summarization", "summaries")),
    Purpose("translation", "translating between languages", False, ("machine-translation",)),
    Purpose("writing-assistant", "drafting or editing text", False, ("content-generation", "copywriting", "writing")),
    Purpose("agents", "autonomous or tool-using agents acting for a user", False, ("agent", "agentic", "tool-use")),
)
PURPOSES: Mapping[str, Purpose] = MappingProxyType({p.key: p for p in _PURPOSES})


def _fold_purpose(value: str) -> str:
    return "-".join(str(value).strip().lower().replace("_", " ").replace("-", " ").split())


def _purpose_aliases() -> dict[str, tuple[str, ...]]:
    """alias -> every key it stands for (an alias such as `defense` maps to military and weapons)."""
    out: dict[str, list[str]] = {}
    for purpose in _PURPOSES:
        out.setdefault(purpose.key, []).append(purpose.key)
        for alias in purpose.aliases:
            out.setdefault(_fold_purpose(alias), []).append(purpose.key)
    return {alias: tuple(sorted(set(keys))) for alias, keys in out.items()}


def parse_purpose(value: str) -> list[str]:
    """A purpose as written (any case, spaces, underscores, an alias) -> its vocabulary key(s)."""
    folded = _fold_purpose(value)
    if not folded:
        raise VocabError("empty purpose. See `auditor vocab purposes` for the list", value=value)
    keys = _purpose_aliases().get(folded)
    if keys is None:
        choices = [*PURPOSES, *(_fold_purpose(a) for p in _PURPOSES for a in p.aliases)]
        raise unknown_value("purpose", str(value).strip(), choices, "purposes")
    return list(keys)


def parse_purposes(values: Iterable[str] | str) -> list[str]:
    return sorted({key for v in split_list(values) for key in parse_purpose(v)})


def check_rule_purpose(value: str) -> str:
    """A rule file's `field_of_use.purpose`: exactly a key of the list, of a prohibited purpose."""
    purpose = PURPOSES.get(value)
    if value == PRODUCTION_PURPOSE:
        raise VocabError("'production' is no prohibited purpose: a grant for research, evaluation or non-production "
                         "use only is `commercial.research_only` (it tests the declared `production`)", value=value)
    if purpose is None or not purpose.prohibited_somewhere:
        choices = [p.key for p in _PURPOSES if p.prohibited_somewhere]
        raise unknown_value("prohibited-purpose key", value, choices, "purposes")
    return value
