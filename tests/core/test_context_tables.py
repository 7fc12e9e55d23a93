"""The geography tables: time zone → country (from tzdata) and country → UN M49 regions."""

from __future__ import annotations

import pytest
from loyjoy_relay.core.context.m49 import CONTINENTS, COUNTRY_REGION, Region, region_of
from loyjoy_relay.core.context.time_zones import ZONE_COUNTRY

from infra import time_zone_countries


def test_the_committed_zone_table_is_what_the_pinned_tzdata_gives() -> None:
    """Regenerating the zone table from the installed tzdata changes nothing."""
    assert time_zone_countries.zone_countries() == ZONE_COUNTRY


@pytest.mark.parametrize(
    ("zone", "country"),
    [
        ("Europe/Berlin", "DE"),
        ("Europe/Busingen", "DE"),
        ("Europe/Vienna", "AT"),
        ("America/New_York", "US"),
        ("Asia/Calcutta", "IN"),  # the legacy name Chrome reports
        ("Europe/Kiev", "UA"),
        ("Australia/Sydney", "AU"),
    ],
)
def test_zones_map_to_their_country(zone: str, country: str) -> None:
    """Canonical zones and the legacy links browsers report both give the country."""
    assert ZONE_COUNTRY[zone] == country


def test_zones_shared_by_several_countries_are_left_out() -> None:
    """A zone that is not one country's (UTC, Etc/GMT+1) gives no country."""
    assert "UTC" not in ZONE_COUNTRY
    assert "Etc/GMT+1" not in ZONE_COUNTRY


def test_every_country_a_zone_names_has_an_m49_region() -> None:
    """Each country reachable from a time zone (but Antarctica) has a sub-region."""
    assert sorted({c for c in ZONE_COUNTRY.values() if c not in COUNTRY_REGION}) == ["AQ"]


@pytest.mark.parametrize(
    ("country", "region"),
    [
        ("DE", Region("155", "150")),
        ("GB", Region("154", "150")),
        ("GR", Region("039", "150")),
        ("US", Region("021", "019")),
        ("BR", Region("005", "019")),
        ("KE", Region("014", "002")),
        ("JP", Region("030", "142")),
        ("NZ", Region("053", "009")),
        ("de", Region("155", "150")),
    ],
)
def test_countries_have_their_m49_sub_region_and_continent(country: str, region: Region) -> None:
    """Spot checks against the UN M49 table, in GA4's subcontinent granularity."""
    assert region_of(country) == region


def test_regions_are_well_formed() -> None:
    """Every country code is two letters; every continent is one of M49's five."""
    assert all(len(c) == 2 and c.isupper() for c in COUNTRY_REGION)
    assert {r.continent_id for r in COUNTRY_REGION.values()} == set(CONTINENTS)
    assert region_of("ZZ") is None
