"""EU membership: the 27 member states (ISO 3166-1 alpha-2) match a rule that names the EU."""

from __future__ import annotations

import pytest

from auditor.regions import matches

# The 27 EU member states since 2020-02-01 (europa.eu, "EU countries"), written out independently.
EU27 = ["AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE", "IT", "LV", "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE"]


def test_the_list_has_27_distinct_states() -> None:
    assert len(set(EU27)) == 27


@pytest.mark.parametrize("code", EU27)
def test_every_member_state_is_in_the_eu(code: str) -> None:
    assert matches([code], ["EU"]) == [code]


@pytest.mark.parametrize("code", ["GB", "UK", "CH", "NO", "US", "IS"])
def test_non_members_are_not(code: str) -> None:
    assert matches([code], ["EU"]) == []


def test_aliases_and_case() -> None:
    assert matches(["el", "European Union", " de "], ["EU"]) == ["el", "European Union", " de "]
