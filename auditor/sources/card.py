"""Turn raw, untrusted card metadata (front matter, Hub tags, config files) into facts with evidence.

Everything here is pure: dicts in, value types out. Any shape is accepted; odd values are kept as
evidence or ignored, never raised on.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from auditor.model import DeclaredLicense, Evidence, ParentClaim, Relation, SourceKind
from auditor.sources.repo_id import MAX_PART, is_repo_id, normalise_repo_ref
from auditor.vocab import RELATION_ALIASES

__all__ = [
    "adapter_parent",
    "as_str_list",
    "config_parent",
    "dataset_claims_from_card",
    "dataset_ref",
    "declared_license",
    "gate_flags",
    "is_repo_id",
    "parent_claims_from_card",
    "relation_of",
    "split_front_matter",
]


def relation_of(value: object) -> Relation:
    if isinstance(value, str):
        return RELATION_ALIASES.get(value.strip().lower(), "unknown")
    return "unknown"


def as_str_list(value: object) -> list[str]:
    """A card value that may be a string, a list, or junk, as a list of non-empty strings."""
    if value is None:
        return []
    if isinstance(value, str):
        return [value.strip()] if value.strip() else []
    if isinstance(value, list | tuple):
        return [str(v).strip() for v in value if isinstance(v, str | int | float) and str(v).strip()]
    if isinstance(value, int | float | bool):
        return [str(value)]
    return []


def _opt_str(value: object) -> str | None:
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


def declared_license(
    card: Mapping[str, Any],
    tags: Iterable[str],
    *,
    source: SourceKind,
    location: str,
    revision: str | None,
) -> DeclaredLicense:
    """What the card and tags say about the license, raw, each value with its evidence."""

    def ev(field: str, value: str) -> Evidence:
        return Evidence(source=source, field=field, value=value, location=location, revision=revision)

    licenses = as_str_list(card.get("license"))
    name = _opt_str(card.get("license_name"))
    link = _opt_str(card.get("license_link"))
    tag_licenses = sorted({t.split(":", 1)[1] for t in tags if t.startswith("license:") and t != "license:"})
    evidence = [ev("cardData.license", v) for v in licenses]
    if name:
        evidence.append(ev("cardData.license_name", name))
    if link:
        evidence.append(ev("cardData.license_link", link))
    evidence.extend(ev("tags", f"license:{t}") for t in tag_licenses)
    return DeclaredLicense(
        license=licenses, license_name=name, license_link=link, tag_licenses=tag_licenses, evidence=evidence
    )


def parent_claims_from_card(
    card: Mapping[str, Any],
    tags: Iterable[str],
    *,
    source: SourceKind,
    location: str,
    revision: str | None,
) -> tuple[list[ParentClaim], list[str]]:
    """Parent claims from `base_model`, `base_model_relation` and `base_model:*` tags.

    Returns the claims and notes about unusable values (kept for the report). The datasets the card names
    (`datasets:`, `dataset:` tags) come last, as `trained-on` claims (`dataset_claims_from_card`).
    """
    claims, notes = _model_claims(card, tags, source=source, location=location, revision=revision)
    data_claims, data_notes = dataset_claims_from_card(card, tags, source=source, location=location, revision=revision)
    return [*claims, *data_claims], [*notes, *data_notes]


def _model_claims(
    card: Mapping[str, Any],
    tags: Iterable[str],
    *,
    source: SourceKind,
    location: str,
    revision: str | None,
) -> tuple[list[ParentClaim], list[str]]:
    claims: list[ParentClaim] = []
    notes: list[str] = []
    card_relation = relation_of(card.get("base_model_relation"))
    for raw in as_str_list(card.get("base_model")):
        parent, note = normalise_repo_ref(raw)
        if parent is None:
            notes.append(f"cardData.base_model: {note}")
            continue
        claims.append(
            ParentClaim(
                parent=parent,
                relation=card_relation,
                evidence=Evidence(
                    source=source,
                    field="cardData.base_model",
                    value=raw,
                    location=location,
                    revision=revision,
                    note=note,
                ),
            )
        )
    for tag in tags:
        if not tag.startswith("base_model:"):
            continue
        rest = tag[len("base_model:") :]
        relation: Relation = "unknown"
        head, _, tail = rest.partition(":")
        if tail and relation_of(head) != "unknown":
            relation, rest = relation_of(head), tail
        if not is_repo_id(rest):
            notes.append(f"tags: not a Hub repo id in {tag!r}")
            continue
        claims.append(
            ParentClaim(
                parent=rest,
                relation=relation,
                evidence=Evidence(source=source, field="tags", value=tag, location=location, revision=revision),
            )
        )
    return claims, notes


# A dataset is named as the Hub's own URLs name it: `datasets/<owner>/<name>` (or `datasets/<name>` for the Hub's
# older canonical datasets without an owner, e.g. `wikipedia`), so a dataset and a model with the same id are
# distinct nodes.
DATASET_PREFIX = "datasets/"
MAX_DATASETS = 64  # `datasets:` entries followed per card; more are noted, not crawled
_DATASET_NAME_RE = re.compile(rf"^[A-Za-z0-9_](?:[A-Za-z0-9_.-]{{0,{MAX_PART - 2}}}[A-Za-z0-9_])?$")
_DATASET_URL_RE = re.compile(r"^(?:https?://)?(?:www\.)?(?:huggingface\.co|hf\.co)/datasets/(?P<id>[\w.-]+(?:/[\w.-]+)?)"
                             r"(?:/(?:tree|blob|resolve|viewer)/.*)?/?$")


def _dataset_name(value: str) -> bool:
    return bool(_DATASET_NAME_RE.match(value)) and ".." not in value and "--" not in value


def dataset_ref(raw: str) -> tuple[str | None, str]:
    """A card's dataset value (`owner/name`, `name`, `datasets/owner/name`, a Hub dataset URL) to the node id
    `datasets/<id>`, or None with a note saying why it names no Hub dataset."""
    value = raw.strip()
    match = _DATASET_URL_RE.match(value)
    note = f"normalised from URL {value!r}" if match else ""
    bare = match.group("id") if match else value.removeprefix(DATASET_PREFIX)
    if is_repo_id(bare) or _dataset_name(bare):
        return DATASET_PREFIX + bare, note
    return None, f"not a Hub dataset id: {value[:200]!r}"


def dataset_claims_from_card(
    card: Mapping[str, Any],
    tags: Iterable[str],
    *,
    source: SourceKind,
    location: str,
    revision: str | None,
) -> tuple[list[ParentClaim], list[str]]:
    """`trained-on` claims from the card's `datasets:` list and the `dataset:<id>` tags the Hub derives from it,
    and notes about values that name no dataset (kept for the report)."""
    raw_values = [("cardData.datasets", v, v) for v in as_str_list(card.get("datasets"))]
    raw_values += [("tags", t, t[len("dataset:"):]) for t in tags if t.startswith("dataset:")]
    claims: list[ParentClaim] = []
    notes: list[str] = []
    for field, shown, value in raw_values:
        parent, note = dataset_ref(value)
        if parent is None:
            notes.append(f"{field}: {note}")
            continue
        if parent not in {c.parent for c in claims} and len({c.parent for c in claims}) >= MAX_DATASETS:
            notes.append(f"{field}: more than {MAX_DATASETS} datasets; {shown[:200]!r} and the rest not followed")
            break
        claims.append(ParentClaim(parent=parent, relation="trained-on", evidence=Evidence(
            source=source, field=field, value=shown[:500], location=location, revision=revision, note=note)))
    return claims, notes


def adapter_parent(config: Mapping[str, Any], *, location: str) -> ParentClaim | None:
    """`adapter_config.json` (PEFT): `base_model_name_or_path` names the adapter's base."""
    raw = _opt_str(config.get("base_model_name_or_path"))
    if raw is None:
        return None
    return ParentClaim(
        parent=raw,
        relation="adapter",
        evidence=Evidence(
            source="local", field="adapter_config.json:base_model_name_or_path", value=raw, location=location
        ),
    )


def config_parent(config: Mapping[str, Any], *, location: str) -> ParentClaim | None:
    """`config.json` `_name_or_path`: weak evidence (often the path the model was saved from)."""
    raw = _opt_str(config.get("_name_or_path"))
    if raw is None:
        return None
    return ParentClaim(
        parent=raw,
        relation="unknown",
        evidence=Evidence(
            source="local",
            field="config.json:_name_or_path",
            value=raw,
            location=location,
            weak=True,
            note="weak evidence: _name_or_path records where weights were loaded from",
        ),
    )


def gate_flags(card: Mapping[str, Any]) -> bool | None:
    value = card.get("extra_gated_eu_disallowed")
    return value if isinstance(value, bool) else None


def split_front_matter(text: str) -> str | None:
    """The YAML front matter of a README (between the first two `---` lines), or None."""
    lines = text.lstrip("\ufeff").splitlines()
    if not lines or lines[0].strip() != "---":
        return None
    for i in range(1, len(lines)):
        if lines[i].strip() in ("---", "..."):
            return "\n".join(lines[1:i])
    return None
