"""Country and region without the IP address: a load balancer's geo headers, else the
browser's IANA time zone; continent and sub-continent from the UN M49 table.

Pure. A load balancer locates the client's address and adds ``{client_region}`` (a CLDR
region code, ``DE``) and ``{client_region_subdivision}`` (``USCA``, written ``US-CA`` in
ISO 3166-2) as request headers; ingest reads them when the deployment has one. Without
one, tzdata's ``zone.tab`` gives exactly one country per time zone (wrong for a traveller
whose browser keeps the home zone, and never a region).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from loyjoy_relay.core.context.m49 import region_of
from loyjoy_relay.core.context.model import LocationContext
from loyjoy_relay.core.context.time_zones import ZONE_COUNTRY

LocationSource = Literal["load_balancer", "time_zone"]
_COUNTRY = re.compile(r"^[A-Z]{2}$")
# The subdivision the load balancer sends: the country code, then 1-3 letters or digits.
_SUBDIVISION = re.compile(r"^([A-Z]{2})-?([A-Z0-9]{1,3})$")
# CLDR's codes for "unknown region" and private use; never a country.
_NOT_COUNTRIES = frozenset({"ZZ", "XX", "AA", "QO", "EU", "UN"})


def location_from_headers(country: str | None, subdivision: str | None) -> LocationContext | None:
    """The location a load balancer's geo headers give, or None when they give no country.

    A subdivision is kept only when it lies in that country (``USCA`` → ``US-CA``).
    """
    code = (country or "").strip().upper()
    if not _COUNTRY.match(code) or code in _NOT_COUNTRIES or region_of(code) is None:
        return None
    found = _SUBDIVISION.match((subdivision or "").strip().upper())
    region = f"{code}-{found.group(2)}" if found and found.group(1) == code else None
    return LocationContext(country_id=code, region_id=region)


def location_from_time_zone(zone: str | None) -> LocationContext | None:
    """The country of an IANA time zone (``Europe/Berlin`` → ``DE``), or None."""
    country = ZONE_COUNTRY.get(zone or "")
    return LocationContext(country_id=country) if country else None


@dataclass(frozen=True, slots=True)
class Located:
    """A location with where it came from, and its M49 sub-continent and continent."""

    country_id: str
    region_id: str | None
    subcontinent_id: str | None
    continent_id: str | None
    source: LocationSource

    def describe(self) -> str:
        """``DE-BY (load balancer)``, ``DE (time zone)``: for reasons and the live view."""
        return f"{self.region_id or self.country_id} ({self.source.replace('_', ' ')})"


def locate(header_location: LocationContext | None, time_zone: str | None) -> Located | None:
    """The best location known: the load balancer's, else the time zone's; with M49."""
    source: LocationSource = "load_balancer"
    location = header_location
    if location is None:
        source, location = "time_zone", location_from_time_zone(time_zone)
    if location is None:
        return None
    m49 = region_of(location.country_id)
    return Located(
        country_id=location.country_id,
        region_id=location.region_id,
        subcontinent_id=m49.subcontinent_id if m49 else None,
        continent_id=m49.continent_id if m49 else None,
        source=source,
    )
