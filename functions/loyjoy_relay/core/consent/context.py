"""How much derived context an outgoing event carries: GA4's ``user_location`` and ``device``.

Pure. The facts come from the client batch's request context (a load balancer's location,
the device read from the user agent and client hints) and from the event itself (its
time zone, language and screen); the rules' ``ga4_context`` says, per outcome, which of
GA4's fields they may fill (by default everything for ``forward``; the country, with its
continent and sub-continent, and the device category for ``anonymize``). Only coarse,
table-made or strictly patterned values exist here, so nothing in them can identify the
visitor; ``device`` is sent only with its category (GA4's minimum).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from loyjoy_relay.core.consent.rules import Action, BotPolicy
from loyjoy_relay.core.context.location import locate
from loyjoy_relay.core.context.model import RequestContext
from loyjoy_relay.core.events import LoyJoyEvent

# The MP reference's order, so a body's bytes do not depend on the order of the rules' lists.
LOCATION_ORDER = ("country_id", "region_id", "subcontinent_id", "continent_id")
DEVICE_ORDER = (
    "category",
    "language",
    "screen_resolution",
    "operating_system",
    "operating_system_version",
    "browser",
    "browser_version",
)
# A BCP 47 language tag as browsers report it (de-DE, en, zh-Hant-TW); other text is not sent.
_LANGUAGE = re.compile(r"^[A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8}){0,3}$")


@dataclass(frozen=True, slots=True)
class OutgoingContext:
    """The ``user_location`` and ``device`` of a request (None when not sent), and a
    sentence saying what was sent and where it came from."""

    user_location: dict[str, str] | None
    device: dict[str, str] | None
    note: str

    def key(self) -> tuple[object, ...]:
        """A hashable form, to group events that share a request."""
        return tuple(
            tuple(sorted(value.items())) if value else None
            for value in (self.user_location, self.device)
        )


NO_CONTEXT = OutgoingContext(None, None, "")


def outgoing_context(
    action: Action, policy: BotPolicy, context: RequestContext | None, event: LoyJoyEvent
) -> OutgoingContext:
    """What of the derived context an event sent as ``action`` carries under ``policy``."""
    if action == "drop":
        return NO_CONTEXT
    allowed = policy.ga4_context.forward if action == "forward" else policy.ga4_context.anonymize
    located = locate(context.location if context else None, event.time_zone)
    location: dict[str, str] = {}
    if located is not None:
        values = {
            "country_id": located.country_id,
            "region_id": located.region_id,
            "subcontinent_id": located.subcontinent_id,
            "continent_id": located.continent_id,
        }
        location = _pick(values, allowed.user_location, LOCATION_ORDER)
    facts: dict[str, Any] = dict(context.device.model_dump()) if context and context.device else {}
    language = event.language if event.language and _LANGUAGE.match(event.language) else None
    facts.update(language=language, screen_resolution=event.screen_resolution)
    device = _pick(facts, allowed.device, DEVICE_ORDER) if facts.get("category") else {}
    if "category" not in device:
        device = {}
    parts = []
    if location and located is not None:
        where = "/".join(location[name] for name in LOCATION_ORDER if name in location)
        parts.append(f"user_location {where} ({located.source.replace('_', ' ')})")
    if device:
        parts.append("device " + " ".join(device[name] for name in device if name != "language"))
    note = "context: " + ("; ".join(parts) if parts else "none")
    return OutgoingContext(location or None, device or None, note)


def _pick(values: dict[str, Any], allowed: Sequence[str], order: tuple[str, ...]) -> dict[str, str]:
    chosen = set(allowed)
    return {name: values[name] for name in order if name in chosen and values.get(name)}
