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
class Ambiguity:
    """A shared license value that neither the card's link nor a curated fact resolved to one text."""

    value: str  # as written
    where: str  # the field that holds it
    candidates: list[str]  # every rule id of a text that uses the value (the default first)
    chosen: str  # the stricter reading, applied


@dataclass(frozen=True)
class Normalised:
    rule_ids: list[str]  # every license that applies (AND)
    alternatives: list[list[str]] = field(default_factory=list)  # OR groups: the licensee picks one
    unrecognised: list[str] = field(default_factory=list)  # raw values no rule claims
    conflicts: list[str] = field(default_factory=list)  # fields that name different licenses
    missing: bool = False  # the model declares nothing at all
    ambiguous: list[Ambiguity] = field(default_factory=list)  # shared names read as their stricter text
    selected_by: dict[str, str] = field(default_factory=dict)  # rule id -> what picked it among shared texts


def build_index(rules: dict[str, LicenseRule]) -> tuple[dict[str, str], dict[str, str]]:
    """Folded alias -> rule id, and folded link -> rule id (first claim wins; validated unique). A value in some
    rule's `aliases.shared` (even a rule id such as `tencent-hunyuan-community`) is left to `build_shared`."""
    names: dict[str, str] = {}
    links: dict[str, str] = {}
    for rule in rules.values():
        for alias in [rule.id, *rule.aliases.tags, *rule.aliases.names, *rule.aliases.spdx, rule.spdx]:
            names.setdefault(fold(alias), rule.id)
        for link in [*rule.aliases.links]:
            links.setdefault(fold_link(link), rule.id)
    for shared in build_shared(rules):  # a value several texts share is resolved among them, never by one id
        names.pop(shared, None)
    return names, links


def build_shared(rules: dict[str, LicenseRule]) -> dict[str, list[str]]:
    """Folded shared value -> every rule id that shares it, the `shared_default` one first."""
    out: dict[str, list[str]] = {}
    for rule in rules.values():
        for value in rule.aliases.shared:
            out.setdefault(fold(value), []).append(rule.id)
    for ids in out.values():
        ids.sort(key=lambda rid: (not rules[rid].aliases.shared_default, rid))
    return out


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
    shared: list[tuple[str, str, list[str]]] = field(default_factory=list)  # (value, field, candidate ids)


def _shared(value: str, where: str, rules: RuleSet, reading: _Reading) -> bool:
    """A value several texts share: kept for `_resolve_shared` (True), else False."""
    candidates = rules.shared.get(fold(value))
    if not candidates:
        return False
    reading.shared.append((value, where, candidates))
    return True


def _read_value(value: str, where: str, rules: RuleSet, reading: _Reading) -> None:
    """One `license` value or `license:` tag: an id, an SPDX expression, a placeholder or unknown."""
    if fold(value) in _PLACEHOLDERS:
        reading.saw_placeholder = True
        return
    rule_id = _lookup_name(value, rules)
    if rule_id is not None:
        reading.found.setdefault(rule_id, where)
        return
    if _shared(value, where, rules, reading):
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
        if rule_id is None and _shared(declared.license_name, "license_name", rules, reading):
            pass
        elif rule_id is None:
            reading.unknown.append(f"license_name: {declared.license_name!r}")
        else:
            reading.named_by_name_or_link.append(rule_id)
            reading.found.setdefault(rule_id, "license_name")
    if declared.license_link:
        rule_id = _lookup_link(declared.license_link, rules)
        if rule_id is not None:
            reading.named_by_name_or_link.append(rule_id)
            reading.found.setdefault(rule_id, "license_link")


def _resolve_shared(reading: _Reading, rules: RuleSet, model_id: str | None) -> tuple[list[Ambiguity], dict[str, str]]:
    """Each shared value to one text: the one the card's link names, else the one a curated license fact
    names for this model, else the stricter reading (the default), reported as ambiguous."""
    ambiguous: list[Ambiguity] = []
    selected: dict[str, str] = {}
    fact = rules.license_facts.get(model_id.lower()) if model_id else None
    for value, where, candidates in reading.shared:
        by_link = [rid for rid in candidates if rid in reading.named_by_name_or_link]
        if by_link:
            selected[by_link[0]] = "license_link"
            continue
        by_fact = fact if fact is not None and fact.license in candidates else None
        chosen = by_fact.license if by_fact is not None else candidates[0]
        reading.found.setdefault(chosen, where)
        if where == "license_name":
            reading.named_by_name_or_link.append(chosen)
        if by_fact is not None:
            selected[chosen] = f"curated license fact ({by_fact.source})"
            continue
        if all(a.value != value for a in ambiguous):
            ambiguous.append(Ambiguity(value=value, where=where, candidates=list(candidates), chosen=candidates[0]))
    return ambiguous, selected


def _conflicts(reading: _Reading) -> list[str]:
    from_tag = {rid for rid, where in reading.found.items() if where in ("license", "tag")}
    named = set(reading.named_by_name_or_link)
    if named and from_tag and not from_tag & named:
        return [f"license {sorted(from_tag)} and license_name/license_link {sorted(named)} "
                "name different licenses; both are applied"]
    return []


def normalise_declared(declared: DeclaredLicense, rules: RuleSet, model_id: str | None = None) -> Normalised:
    """All licenses a model declares, by rule id. `model_id` lets a curated license fact pick the text of a
    name several texts share."""
    if declared.is_empty:
        return Normalised(rule_ids=[], missing=True)
    reading = _Reading()
    for value, where in [(v, "license") for v in declared.license] + [(v, "tag") for v in declared.tag_licenses]:
        _read_value(value, where, rules, reading)
    _read_name_and_link(declared, rules, reading)
    ambiguous, selected = _resolve_shared(reading, rules, model_id)
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
        ambiguous=ambiguous,
        selected_by=selected,
    )
