"""Region codes: a declared region matches a rule's region directly or by membership (geography, not law)."""

from __future__ import annotations

from collections.abc import Iterable

# ISO 3166-1 alpha-2 codes of the European Union's member states (27, since 2020-02-01).
_MEMBERS: dict[str, frozenset[str]] = {
    "EU": frozenset(
        ["AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE", "IT", "LV", "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE"]
    ),
}
_ALIASES = {"EUROPEAN UNION": "EU", "EL": "GR", "UK": "GB"}


def _norm(code: str) -> str:
    upper = code.strip().upper()
    return _ALIASES.get(upper, upper)


def matches(declared: Iterable[str], rule_regions: Iterable[str]) -> list[str]:
    """The declared regions that fall inside any of the rule's regions."""
    hits = []
    targets = [_norm(r) for r in rule_regions]
    for region in declared:
        code = _norm(region)
        if any(code == t or code in _MEMBERS.get(t, frozenset()) for t in targets):
            hits.append(region)
    return hits
