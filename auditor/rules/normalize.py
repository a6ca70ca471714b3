"""Map what cards really say (tags, license_name, license_link, SPDX expressions, lists) to rule ids.

Nothing is guessed: a value no rule claims is returned in `unrecognised`, quoted as written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from auditor.model import DeclaredLicense

if TYPE_CHECKING:
    from auditor.rules.loader import RuleSet
    from auditor.rules.schema import LicenseRule

# Values that mean "see elsewhere", not a license (the Hub's `other` is resolved through license_name).
_PLACEHOLDERS = {"other"}
_EXPR_RE = re.compile(r"\s(?:or|and|with)\s|[()]", re.IGNORECASE)


def fold(value: str) -> str:
    """Case, spacing and underscores folded: `Apache 2.0`, `apache_2.0` -> `apache-2.0`."""
    return re.sub(r"[\s_]+", "-", value.strip().lower()).strip("-")


def fold_link(url: str) -> str:
    """A link without scheme, `www.`, query, fragment or trailing slash, lower-cased."""
    text = url.strip().lower()
    text = re.sub(r"^[a-z]+://", "", text)
    text = re.sub(r"^www\.", "", text)
    text = re.split(r"[?#]", text, maxsplit=1)[0]
    return text.rstrip("/")


@dataclass(frozen=True)
class Normalised:
    rule_ids: list[str]  # every license that applies (AND)
    alternatives: list[list[str]] = field(default_factory=list)  # OR groups: the licensee picks one
    unrecognised: list[str] = field(default_factory=list)  # raw values no rule claims
    conflicts: list[str] = field(default_factory=list)  # fields that name different licenses
    missing: bool = False  # the model declares nothing at all


def build_index(rules: dict[str, LicenseRule]) -> tuple[dict[str, str], dict[str, str]]:
    """Folded alias -> rule id, and folded link -> rule id (first claim wins; validated unique)."""
    names: dict[str, str] = {}
    links: dict[str, str] = {}
    for rule in rules.values():
        for alias in [rule.id, *rule.aliases.tags, *rule.aliases.names, *rule.aliases.spdx, rule.spdx]:
            names.setdefault(fold(alias), rule.id)
        for link in [*rule.aliases.links]:
            links.setdefault(fold_link(link), rule.id)
    return names, links


def _lookup_name(value: str, rules: RuleSet) -> str | None:
    return rules.index[0].get(fold(value))


def _lookup_link(value: str, rules: RuleSet) -> str | None:
    if "/" not in value or ("." not in value.split("/", 1)[0] and "://" not in value):
        return None  # a relative link such as `LICENSE` names no license
    links = rules.index[1]
    key = fold_link(value)
    for candidate, rule_id in sorted(links.items(), key=lambda kv: -len(kv[0])):
        if key.startswith(candidate):
            return rule_id
    return None


def _expression(value: str, rules: RuleSet) -> tuple[list[str], list[list[str]], list[str]] | None:
    """An SPDX-style expression: (AND ids, OR groups, unrecognised), or None if not an expression."""
    if not _EXPR_RE.search(value):
        return None
    from license_expression import ExpressionError, Licensing

    try:
        parsed = Licensing().parse(value, simple=True)
    except ExpressionError:
        return None
    if parsed is None:
        return None
    and_ids: list[str] = []
    groups: list[list[str]] = []
    unknown: list[str] = []

    def ids_of(node: object) -> list[str]:
        keys = [str(s.key) for s in getattr(node, "symbols", [])] or [str(node)]
        out = []
        for key in keys:
            rule_id = _lookup_name(key, rules)
            if rule_id is None:
                unknown.append(key)
            else:
                out.append(rule_id)
        return out

    operator = type(parsed).__name__
    if operator == "OR":
        groups.append(sorted(set(ids_of(parsed))))
    elif operator == "AND":
        for arg in getattr(parsed, "args", []):
            if type(arg).__name__ == "OR":
                groups.append(sorted(set(ids_of(arg))))
            else:
                and_ids.extend(ids_of(arg))
    else:
        and_ids.extend(ids_of(parsed))
    return and_ids, [g for g in groups if g], unknown


@dataclass
class _Reading:
    """What the fields of one declaration name, as they are read."""

    found: dict[str, str] = field(default_factory=dict)  # rule id -> the field that named it
    groups: list[list[str]] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    saw_placeholder: bool = False
    named_by_name_or_link: list[str] = field(default_factory=list)


def _read_value(value: str, where: str, rules: RuleSet, reading: _Reading) -> None:
    """One `license` value or `license:` tag: an id, an SPDX expression, a placeholder or unknown."""
    if fold(value) in _PLACEHOLDERS:
        reading.saw_placeholder = True
        return
    rule_id = _lookup_name(value, rules)
    if rule_id is not None:
        reading.found.setdefault(rule_id, where)
        return
    expr = _expression(value, rules)
    if expr is None:
        reading.unknown.append(f"{where}: {value!r}")
        return
    and_ids, or_groups, bad = expr
    for rid in and_ids:
        reading.found.setdefault(rid, where)
    reading.groups.extend(g for g in or_groups if g not in reading.groups)
    reading.unknown.extend(f"{where}: {b!r}" for b in bad)


def _read_name_and_link(declared: DeclaredLicense, rules: RuleSet, reading: _Reading) -> None:
    if declared.license_name:
        rule_id = _lookup_name(declared.license_name, rules)
        if rule_id is None:
            reading.unknown.append(f"license_name: {declared.license_name!r}")
        else:
            reading.named_by_name_or_link.append(rule_id)
            reading.found.setdefault(rule_id, "license_name")
    if declared.license_link:
        rule_id = _lookup_link(declared.license_link, rules)
        if rule_id is not None:
            reading.named_by_name_or_link.append(rule_id)
            reading.found.setdefault(rule_id, "license_link")


def _conflicts(reading: _Reading) -> list[str]:
    from_tag = {rid for rid, where in reading.found.items() if where in ("license", "tag")}
    named = set(reading.named_by_name_or_link)
    if named and from_tag and not from_tag & named:
        return [f"license {sorted(from_tag)} and license_name/license_link {sorted(named)} "
                "name different licenses; both are applied"]
    return []


def normalise_declared(declared: DeclaredLicense, rules: RuleSet) -> Normalised:
    """All licenses a model declares, by rule id."""
    if declared.is_empty:
        return Normalised(rule_ids=[], missing=True)
    reading = _Reading()
    for value, where in [(v, "license") for v in declared.license] + [(v, "tag") for v in declared.tag_licenses]:
        _read_value(value, where, rules, reading)
    _read_name_and_link(declared, rules, reading)
    conflicts = _conflicts(reading)
    found, groups = reading.found, reading.groups
    if reading.saw_placeholder and not found and not groups:
        # The Hub's placeholder and nothing resolvable: the generic rule applies, and the raw values are reported.
        placeholder = _lookup_name(next(iter(_PLACEHOLDERS)), rules)
        if placeholder is not None:
            found[placeholder] = "license"
    # Dedupe `unknown` while keeping order; keep values exactly as written (they are quoted in findings).
    unique_unknown = list(dict.fromkeys(reading.unknown))
    return Normalised(
        rule_ids=sorted(found),
        alternatives=groups,
        unrecognised=unique_unknown,
        conflicts=conflicts,
    )
