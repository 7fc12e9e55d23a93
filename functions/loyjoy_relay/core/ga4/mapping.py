"""LoyJoy event → GA4 event, as configured in ``ga4-mapping.yaml``.

Pure. The configuration is checked when it is loaded (:mod:`loyjoy_relay.adapters.mapping_file`),
so every name this module produces for a catalogue event already obeys GA4's rules, and a
name that is one of GA4's recommended events gets every parameter that event requires:
the mapping never produces what strict validation refuses.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from loyjoy_relay.core.events import LoyJoyEvent
from loyjoy_relay.core.ga4 import limits
from loyjoy_relay.core.ga4.model import Ga4Event, ParamValue
from loyjoy_relay.core.ga4.recommended import PARAM_TYPES, required_params_missing
from loyjoy_relay.core.ga4.routing import Ga4Property
from loyjoy_relay.errors import Ga4Rejected

DAY_MS = 86_400_000

# The event fields a mapping may turn into params (identifiers and consent never).
PARAM_FIELDS = (
    "bot_id",
    "process_id",
    "process_name",
    "sub_process_id",
    "sub_process_name",
    "label",
    "url",
    "page_location",
    "page_title",
    "page_referrer",
    "language",
    "event_id",
)
# Params every mapped event carries whatever the configuration.
ADDED_PARAMS = frozenset({"session_id", "engagement_time_msec"})
# Params no chat event can fill as GA4 requires: ``value`` needs a ``currency`` alongside,
# ``currency`` an ISO 4217 code, ``items`` an array of objects (events reference).
UNFILLABLE_PARAMS = frozenset({"value", "currency", "items"})


def text_param_problem(param: str) -> str | None:
    """Why a chat event's text field cannot be sent as param ``param``; None if it can."""
    if param in UNFILLABLE_PARAMS:
        return f"{param!r} cannot be filled from a chat event (GA4 needs {_NEEDS[param]})"
    expected = PARAM_TYPES.get(param)
    if expected in ("number", "boolean"):
        return f"{param!r} is a {expected} in GA4's events reference; chat fields are text"
    return None


def number_param_problem(param: str) -> str | None:
    """Why a family's number cannot be sent as param ``param``; None if it can."""
    if param in UNFILLABLE_PARAMS:
        return f"{param!r} cannot be filled from a chat event (GA4 needs {_NEEDS[param]})"
    if PARAM_TYPES.get(param) == "boolean":
        return f"{param!r} is a boolean in GA4's events reference, not a number"
    return None


_NEEDS = {
    "value": "a currency alongside it",
    "currency": "an ISO 4217 code",
    "items": "an array of items",
}


@dataclass(frozen=True, slots=True)
class Family:
    """Events ``<prefix><n>`` for n in [minimum, maximum] become ``event`` with ``param=n``."""

    prefix: str
    event: str
    param: str
    minimum: int
    maximum: int

    def number(self, evt: str) -> int | None:
        """The number ``evt`` carries when it belongs to this family, else None."""
        if not evt.startswith(self.prefix):
            return None
        suffix = evt[len(self.prefix) :]
        if not suffix.isascii() or not suffix.isdigit():
            return None
        value = int(suffix)
        return value if self.minimum <= value <= self.maximum else None


@dataclass(frozen=True, slots=True)
class Ga4Mapping:
    """The loaded mapping file: names, params, session and engagement, per-bot routing."""

    source: str
    prefix: str = ""
    renames: Mapping[str, str] = field(default_factory=dict)
    families: tuple[Family, ...] = ()
    params: Mapping[str, str] = field(default_factory=dict)
    engagement_time_msec: int = 100
    session_fallback: bool = True
    properties: Mapping[str, Ga4Property] = field(default_factory=dict)

    def event_name(self, evt: str) -> tuple[str, dict[str, ParamValue]]:
        """The GA4 name of ``evt`` and any params its family adds."""
        if evt in self.renames:
            return self.renames[evt], {}
        for family in self.families:
            number = family.number(evt)
            if number is not None:
                # A param the events reference types as text gets the number as text.
                text = PARAM_TYPES.get(family.param) == "string"
                return self.prefix + family.event, {family.param: str(number) if text else number}
        return self.prefix + evt, {}

    def missing_required_params(self, evt: str) -> list[str]:
        """The params GA4 requires of the event ``evt`` maps to that the mapping cannot
        guarantee (only a family's own param and the added ones are always there)."""
        name, params = self.event_name(evt)
        return required_params_missing(name, frozenset(params) | ADDED_PARAMS)

    def property_for(self, bot_id: str, default: Ga4Property) -> Ga4Property:
        """The property ``bot_id`` sends to: its own when configured, else ``default``."""
        return self.properties.get(bot_id, default)

    def map_event(self, event: LoyJoyEvent) -> Ga4Event:
        """The GA4 event for ``event``; a name GA4 would refuse raises Ga4Rejected."""
        name, params = self.event_name(event.evt)
        problem = limits.event_name_problem(name)
        if problem is not None:
            raise Ga4Rejected(f"event {event.evt!r} maps to GA4 name {name!r}: {problem[1]}")
        for field_name, param in self.params.items():
            value = getattr(event, field_name, None)
            if isinstance(value, str) and value:
                # whole: values are cut to GA4's limits after redaction (core.consent.privacy)
                params[param] = value
        session_id = _session_id(event, self.session_fallback)
        if session_id is not None:
            params["session_id"] = session_id
        params["engagement_time_msec"] = self.engagement_time_msec
        return Ga4Event(
            name=name,
            params=params,
            timestamp_micros=event.ts * 1000,
            source_event_id=event.event_id,
            bot_id=event.bot_id,
        )


def _session_id(event: LoyJoyEvent, fallback: bool) -> ParamValue | None:
    if event.session_id:
        # GA4's own session ids are numbers; "²".isdigit() is true too, so ASCII only.
        digits = event.session_id.isascii() and event.session_id.isdigit()
        return int(event.session_id) if digits else event.session_id
    if not fallback:
        return None
    # Without the page's GA4 session, one session per client and UTC day: a stable number
    # (the day's start in seconds, like GA4's own session ids) keeps a chat together.
    return event.ts // DAY_MS * DAY_MS // 1000
