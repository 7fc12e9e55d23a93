"""What ingest derives from a request besides its body: coarse context, never the raw facts.

From the request's headers: the device (``User-Agent`` and ``Sec-CH-UA*`` client hints,
read by :class:`~loyjoy_relay.adapters.user_agents.DeviceReader`) and, when the
deployment has a load balancer in front of ingest (``GEO_COUNTRY_HEADER``,
``GEO_REGION_HEADER``), the client's country and subdivision. Only the derived
:class:`~loyjoy_relay.core.context.model.RequestContext` is published; the IP address is
never read, and the user agent only in memory.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from loyjoy_relay.adapters.user_agents import DeviceReader, Headers
from loyjoy_relay.core.context.location import location_from_headers
from loyjoy_relay.core.context.model import RequestContext


@dataclass(frozen=True, slots=True)
class RequestFacts:
    """A request's derived context (what is published) and whether it looks automated (a
    crawler or headless browser; never published)."""

    context: RequestContext | None
    is_bot: bool
    is_crawler: bool = False


@dataclass
class RequestContextReader:
    """Reads the derived context of ingest requests; one per instance (its cache is shared)."""

    country_header: str | None = None
    region_header: str | None = None
    devices: DeviceReader = field(default_factory=DeviceReader)

    def read(self, headers: Headers) -> RequestFacts:
        """The facts of one request's headers."""
        device = self.devices.read(headers)
        location = None
        if self.country_header is not None:
            region = headers.get(self.region_header) if self.region_header else None
            location = location_from_headers(headers.get(self.country_header), region)
        context = RequestContext(device=device.device, location=location)
        return RequestFacts(None if context.empty else context, device.is_bot, device.is_crawler)
