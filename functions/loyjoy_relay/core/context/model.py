"""The derived context a client batch carries: coarse values only.

Ingest derives it from the request (the ``User-Agent`` and client-hint headers, a load
balancer's geo headers); the relay reads it back from the message. Every value is one of a
few words or a short code with a strict pattern, so nothing of the raw user agent, and
nothing of the IP address, can ride along (DESIGN.md, "Consent semantics").
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, StringConstraints

DeviceCategory = Literal["desktop", "mobile", "tablet", "smart TV"]
# A browser or operating system family: a short name, never a free text of the user agent.
FAMILY_PATTERN = r"^[A-Za-z][A-Za-z0-9 ._()+-]{0,39}$"
Family = Annotated[str, StringConstraints(pattern=FAMILY_PATTERN)]
# Only the major version: finer versions add to a fingerprint and little to a report.
MajorVersion = Annotated[str, StringConstraints(pattern=r"^[0-9]{1,5}$")]
CountryCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]
RegionCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}-[A-Z0-9]{1,3}$")]

_MODEL = ConfigDict(extra="ignore", strict=True, frozen=True)


class DeviceContext(BaseModel):
    """The device a request came from: its category, OS and browser families."""

    model_config = _MODEL

    category: DeviceCategory | None = None
    operating_system: Family | None = None
    operating_system_version: MajorVersion | None = None
    browser: Family | None = None
    browser_version: MajorVersion | None = None


class LocationContext(BaseModel):
    """Where a request came from, as a load balancer located its address: a country and,
    when known, its ISO 3166-2 subdivision."""

    model_config = _MODEL

    country_id: CountryCode
    region_id: RegionCode | None = None


class RequestContext(BaseModel):
    """What ingest derived from one request, for all of that client's events in it."""

    model_config = _MODEL

    device: DeviceContext | None = None
    location: LocationContext | None = None

    @property
    def empty(self) -> bool:
        """True when nothing was derived."""
        return self.device is None and self.location is None
