"""The event contract (listener → ingest) and the client-batch message (ingest → relay).

Pure: the pydantic models the relay, ``explain`` and the dead letters read and write
events and messages with. Ingest checks requests against the same contract without
pydantic (:mod:`loyjoy_relay.core.contract`, whose names are re-exported here); a test
holds the two to the same verdicts and messages. Field names and meanings are a contract
(DESIGN.md, "The event contract"); anything outside them is dropped.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    model_validator,
)

from loyjoy_relay.core.context.model import RequestContext

# What ingest checks requests with (no pydantic there: see contract.py), re-exported.
from loyjoy_relay.core.contract import (
    EVENT_ID_PATTERN,
    MAX_ATTRIBUTE_BYTES,
    MAX_BODY_BYTES,
    MAX_EVENT_AGE_MS,
    MAX_EVENT_FUTURE_MS,
    MAX_EVENTS_PER_BATCH,
    MAX_JSON_DEPTH,
    SCHEMA_VERSION,
    SCREEN_RESOLUTION_PATTERN,
    TIME_ZONE_PATTERN,
    ParsedRequest,
    Rejection,
    decode_body,
    joined_within,
    parse_request,
    repaired,
)
from loyjoy_relay.errors import InvalidInput, UndecodableMessage

__all__ = [
    "MAX_ATTRIBUTE_BYTES",
    "MAX_BODY_BYTES",
    "MAX_EVENTS_PER_BATCH",
    "MAX_EVENT_AGE_MS",
    "MAX_EVENT_FUTURE_MS",
    "MAX_JSON_DEPTH",
    "SCHEMA_VERSION",
    "TIME_ZONE_PATTERN",
    "ClientBatch",
    "ConsentStamp",
    "LoyJoyEvent",
    "ParsedRequest",
    "Rejection",
    "RelayedEvent",
    "SiteConsent",
    "decode_body",
    "events_for_explain",
    "parse_request",
    "repaired",
]

Text = Annotated[str, StringConstraints(min_length=1, max_length=512)]
LongText = Annotated[str, StringConstraints(min_length=1, max_length=2048)]
Identifier = Annotated[str, StringConstraints(min_length=1, max_length=128)]
EventName = Annotated[str, StringConstraints(min_length=1, max_length=64)]
EventId = Annotated[str, StringConstraints(pattern=EVENT_ID_PATTERN)]
Millis = Annotated[int, Field(ge=0, le=10**14)]
TimeZone = Annotated[str, StringConstraints(pattern=TIME_ZONE_PATTERN, max_length=64)]
ScreenResolution = Annotated[str, StringConstraints(pattern=SCREEN_RESOLUTION_PATTERN)]
SiteSignal = Literal["granted", "denied"]


class ConsentStamp(BaseModel):
    """The decision that governs the event as the browser saw it: the later of its bot's last
    profiling decision and the client's last revocation in any bot, and the LoyJoy event
    that made it (``evt``; a ``granted`` stamp without one grants nothing)."""

    model_config = ConfigDict(extra="ignore", strict=True, frozen=True)

    profiling: Literal["granted", "denied"]
    at: Millis
    evt: EventName | None = None


class SiteConsent(BaseModel):
    """The page's own consent banner as the listener read it (Consent Mode's last state, or
    IAB TCF's purposes); a signal the page did not set is absent. It can only make the
    relay's decision stricter (:mod:`loyjoy_relay.core.consent.site`)."""

    model_config = ConfigDict(extra="ignore", strict=True, frozen=True)

    analytics_storage: SiteSignal | None = None
    ad_storage: SiteSignal | None = None
    ad_user_data: SiteSignal | None = None
    ad_personalization: SiteSignal | None = None
    source: Literal["consent_mode", "tcf"]


class LoyJoyEvent(BaseModel):
    """One event as the listener sends it (the contract's fields, nothing else)."""

    model_config = ConfigDict(extra="ignore", strict=True, frozen=True)

    evt: EventName
    bot_id: Identifier
    client_id: Identifier
    event_id: EventId
    ts: Millis
    process_id: Text | None = None
    process_name: Text | None = None
    sub_process_id: Text | None = None
    sub_process_name: Text | None = None
    label: Text | None = None
    url: LongText | None = None
    session_id: Annotated[str, StringConstraints(min_length=1, max_length=64)] | None = None
    user_id: Annotated[str, StringConstraints(min_length=1, max_length=256)] | None = None
    page_location: LongText | None = None
    page_title: Text | None = None
    page_referrer: LongText | None = None
    language: Annotated[str, StringConstraints(min_length=1, max_length=35)] | None = None
    consent: ConsentStamp | None = None
    time_zone: TimeZone | None = None
    screen_resolution: ScreenResolution | None = None
    site_consent: SiteConsent | None = None


class RelayedEvent(LoyJoyEvent):
    """An event after ingest: ``ts`` corrected for clock skew, the client's kept too."""

    client_ts: Millis
    received_at: Millis


class ClientBatch(BaseModel):
    """The Pub/Sub message body: one client's events from one request, of any of its bots.

    Version 2 (what ingest publishes) has no ``bot_id``: the events name their bots. A
    version 1 message (one bot, named by ``bot_id``) still decodes, so that messages parked
    before version 2 can be replayed; written again (parked), it becomes version 2.
    """

    model_config = ConfigDict(extra="ignore", strict=True, frozen=True)

    schema_version: Literal[1, 2]
    client_id: Identifier
    bot_id: Identifier | None = None
    received_at: Millis
    sent_at: Millis | None = None
    # What ingest derived from the request (device, location): coarse values only.
    context: RequestContext | None = None
    events: list[RelayedEvent] = Field(min_length=1)

    @model_validator(mode="after")
    def _one_client(self) -> ClientBatch:
        if self.schema_version == 1 and self.bot_id is None:
            raise ValueError("a version 1 client batch names its bot_id")
        if any(event.client_id != self.client_id for event in self.events):
            # the relay reads one client's consent history for the whole message
            raise ValueError("every event of a client batch must be of its client_id")
        return self

    @property
    def bot_ids(self) -> tuple[str, ...]:
        """The bots of the message's events, sorted."""
        return tuple(sorted({event.bot_id for event in self.events}))

    def to_message(self) -> tuple[bytes, dict[str, str]]:
        """Pub/Sub data (always the current version) and attributes to filter on."""
        current = self.model_copy(update={"schema_version": SCHEMA_VERSION, "bot_id": None})
        data = current.model_dump_json(exclude_none=True).encode()
        attributes = {
            "schema_version": str(SCHEMA_VERSION),
            "event_count": str(len(self.events)),
            "bot_ids": joined_within(self.bot_ids, MAX_ATTRIBUTE_BYTES),
        }
        return data, attributes

    @classmethod
    def from_message(cls, data: bytes) -> ClientBatch:
        """Decode a Pub/Sub message body; a payload of another shape is permanent."""
        try:
            return cls.model_validate_json(data)
        except ValidationError as error:
            raise UndecodableMessage(f"not a client batch: {_first_errors(error)}") from None


def _first_errors(error: ValidationError, limit: int = 3) -> str:
    parts = []
    for detail in error.errors(include_url=False, include_input=False)[:limit]:
        where = ".".join(str(part) for part in detail["loc"]) or "event"
        parts.append(f"{where}: {detail['msg']}")
    return "; ".join(parts)


def events_for_explain(lines: Iterable[str]) -> list[LoyJoyEvent]:
    """Parse JSON Lines of contract events (for ``explain``); a bad line raises InvalidInput."""
    events = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            events.append(LoyJoyEvent.model_validate_json(line))
        except ValidationError as error:
            raise InvalidInput(f"line {number}: {_first_errors(error)}") from None
    return events
