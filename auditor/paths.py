"""Where the bundled data lives, installed (wheel) or in a source checkout."""

from __future__ import annotations

from pathlib import Path

_HERE = Path(__file__).resolve().parent


def _first_dir(*candidates: Path) -> Path:
    for cand in candidates:
        if cand.is_dir():
            return cand
    return candidates[-1]


def bundled_rules_dir() -> Path:
    """The `license_rules/` folder shipped with the package."""
    return _first_dir(_HERE / "_rules_data", _HERE.parent / "license_rules")


def bundled_lineage_facts_dir() -> Path:
    """Curated lineage facts (`license_rules/lineage/`)."""
    return bundled_rules_dir() / "lineage"


def templates_dir() -> Path:
    """The jinja2 templates for the HTML report (`reports/`)."""
    return _first_dir(_HERE / "_templates", _HERE.parent / "reports")
