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

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

# What ingest checks requests with (no pydantic there: see contract.py), re-exported.
from loyjoy_relay.core.contract import (
    EVENT_ID_PATTERN,
    MAX_BODY_BYTES,
    MAX_EVENT_AGE_MS,
    MAX_EVENT_FUTURE_MS,
    MAX_EVENTS_PER_BATCH,
    MAX_JSON_DEPTH,
    SCHEMA_VERSION,
    ParsedRequest,
    Rejection,
    decode_body,
    parse_request,
)
from loyjoy_relay.errors import InvalidInput, UndecodableMessage

__all__ = [
    "MAX_BODY_BYTES",
    "MAX_EVENTS_PER_BATCH",
    "MAX_EVENT_AGE_MS",
    "MAX_EVENT_FUTURE_MS",
    "MAX_JSON_DEPTH",
    "SCHEMA_VERSION",
    "ClientBatch",
    "ConsentStamp",
    "LoyJoyEvent",
    "ParsedRequest",
    "Rejection",
    "RelayedEvent",
    "decode_body",
    "events_for_explain",
    "parse_request",
]

Text = Annotated[str, StringConstraints(min_length=1, max_length=512)]
LongText = Annotated[str, StringConstraints(min_length=1, max_length=2048)]
Identifier = Annotated[str, StringConstraints(min_length=1, max_length=128)]
EventName = Annotated[str, StringConstraints(min_length=1, max_length=64)]
EventId = Annotated[str, StringConstraints(pattern=EVENT_ID_PATTERN)]
Millis = Annotated[int, Field(ge=0, le=10**14)]


class ConsentStamp(BaseModel):
    """The last profiling decision the browser saw for this bot."""

    model_config = ConfigDict(extra="ignore", strict=True, frozen=True)

    profiling: Literal["granted", "denied"]
    at: Millis


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


class RelayedEvent(LoyJoyEvent):
    """An event after ingest: ``ts`` corrected for clock skew, the client's kept too."""

    client_ts: Millis
    received_at: Millis


class ClientBatch(BaseModel):
    """The Pub/Sub message body: the events of one client (and bot) from one request."""

    model_config = ConfigDict(extra="ignore", strict=True, frozen=True)

    schema_version: Literal[1]
    client_id: Identifier
    bot_id: Identifier
    received_at: Millis
    sent_at: Millis | None = None
    events: list[RelayedEvent] = Field(min_length=1)

    def to_message(self) -> tuple[bytes, dict[str, str]]:
        """Pub/Sub data and the attributes a subscription can filter on."""
        data = self.model_dump_json(exclude_none=True).encode()
        attributes = {
            "bot_id": self.bot_id,
            "schema_version": str(self.schema_version),
            "event_count": str(len(self.events)),
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
