"""Turn raw, untrusted card metadata (front matter, Hub tags, config files) into facts with evidence.

Everything here is pure: dicts in, value types out. Any shape is accepted; odd values are kept as
evidence or ignored, never raised on.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from auditor.model import DeclaredLicense, Evidence, ParentClaim, Relation, SourceKind
from auditor.sources.repo_id import is_repo_id, normalise_repo_ref
from auditor.vocab import RELATION_ALIASES

__all__ = [
    "adapter_parent",
    "as_str_list",
    "config_parent",
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

    Returns the claims and notes about unusable values (kept for the report).
    """
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
