"""Regions: ISO 3166-1 codes and names (pycountry), the EU and EEA groups, ambiguous names refused."""

from __future__ import annotations

import pytest

from auditor.vocab import VocabError, parse_region, parse_regions, regions_overlap

# The 27 EU member states since 2020-02-01 (europa.eu, "EU countries"), written out independently.
EU27 = ["AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE", "IT", "LV", "LT", "LU",
        "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE"]


def test_the_list_has_27_distinct_states() -> None:
    assert len(set(EU27)) == 27


@pytest.mark.parametrize("code", EU27)
def test_every_member_state_is_in_the_eu(code: str) -> None:
    assert regions_overlap([code], ["EU"]) == [code]


@pytest.mark.parametrize("code", ["GB", "CH", "NO", "US", "IS"])
def test_non_members_are_not(code: str) -> None:
    assert regions_overlap([code], ["EU"]) == []


@pytest.mark.parametrize(("written", "code"), [
    ("Germany", "DE"), ("germany", "DE"), ("de", "DE"), ("DEU", "DE"), (" de ", "DE"), ("el", "GR"),
    ("European Union", "EU"), ("eu", "EU"), ("EEA", "EEA"), ("UK", "GB"), ("United Kingdom", "GB"),
    ("United States", "US"), ("USA", "US"), ("South Korea", "KR"), ("France", "FR"),
])
def test_names_and_codes_in_any_case(written: str, code: str) -> None:
    assert parse_region(written) == code


@pytest.mark.parametrize("written", ["Europe", "europe", "EMEA", "Asia", "worldwide"])
def test_ambiguous_names_are_refused_with_the_choices(written: str) -> None:
    with pytest.raises(VocabError, match="ambiguous: choose"):
        parse_region(written)


def test_unknown_region_suggests_the_closest() -> None:
    with pytest.raises(VocabError, match="Did you mean 'Germany'"):
        parse_region("Germny")
    with pytest.raises(VocabError, match="auditor vocab regions"):
        parse_region("XX")


def test_comma_lists_split_everywhere() -> None:
    assert parse_regions(["EU, US", "Germany"]) == ["DE", "EU", "US"]
    assert parse_regions("EU,US") == ["EU", "US"]


def test_a_declared_group_overlaps_conservatively() -> None:
    assert regions_overlap(["EEA"], ["EU"]) == ["EEA"]
    assert regions_overlap(["EU"], ["DE"]) == ["EU"]
    assert regions_overlap(["NO"], ["EU"]) == []
    assert regions_overlap(["NO"], ["EEA"]) == ["NO"]
