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


def normalise_declared(declared: DeclaredLicense, rules: RuleSet) -> Normalised:
    """All licenses a model declares, by rule id."""
    if declared.is_empty:
        return Normalised(rule_ids=[], missing=True)
    found: dict[str, str] = {}  # rule id -> the field that named it
    groups: list[list[str]] = []
    unknown: list[str] = []
    saw_placeholder = False

    values = [(v, "license") for v in declared.license] + [(v, "tag") for v in declared.tag_licenses]
    for value, where in values:
        if fold(value) in _PLACEHOLDERS:
            saw_placeholder = True
            continue
        rule_id = _lookup_name(value, rules)
        if rule_id is not None:
            found.setdefault(rule_id, where)
            continue
        expr = _expression(value, rules)
        if expr is not None:
            and_ids, or_groups, bad = expr
            for rid in and_ids:
                found.setdefault(rid, where)
            groups.extend(g for g in or_groups if g not in groups)
            unknown.extend(f"{where}: {b!r}" for b in bad)
            continue
        unknown.append(f"{where}: {value!r}")

    named_by_name_or_link: list[str] = []
    if declared.license_name:
        rule_id = _lookup_name(declared.license_name, rules)
        if rule_id is None:
            unknown.append(f"license_name: {declared.license_name!r}")
        else:
            named_by_name_or_link.append(rule_id)
            found.setdefault(rule_id, "license_name")
    if declared.license_link:
        rule_id = _lookup_link(declared.license_link, rules)
        if rule_id is not None:
            named_by_name_or_link.append(rule_id)
            found.setdefault(rule_id, "license_link")

    conflicts: list[str] = []
    from_tag = {rid for rid, where in found.items() if where in ("license", "tag")}
    if named_by_name_or_link and from_tag and not from_tag & set(named_by_name_or_link):
        conflicts.append(
            f"license {sorted(from_tag)} and license_name/license_link {sorted(set(named_by_name_or_link))} "
            "name different licenses; both are applied"
        )
    if saw_placeholder and not found and not groups:
        # `other` and nothing resolvable: the generic rule applies, and the raw values are reported.
        other = _lookup_name("other", rules)
        if other is not None:
            found[other] = "license"
    # Dedupe `unknown` while keeping order; keep values exactly as written (they are quoted in findings).
    unique_unknown = list(dict.fromkeys(unknown))
    return Normalised(
        rule_ids=sorted(found),
        alternatives=groups,
        unrecognised=unique_unknown,
        conflicts=conflicts,
    )
