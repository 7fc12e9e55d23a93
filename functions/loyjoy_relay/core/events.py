"""The event contract (listener → ingest) and the client-batch message (ingest → relay).

Pure: parsing and validation only, no I/O. Field names and meanings are a contract
(DESIGN.md, "The event contract"); anything a client sends outside them is dropped here,
so ``email`` and ``token`` that LoyJoy puts on some events never go further.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from loyjoy_relay.core.catalogue import lookup
from loyjoy_relay.errors import InvalidInput, TooLarge, UndecodableMessage

SCHEMA_VERSION: Literal[1] = 1
MAX_BODY_BYTES = 64 * 1024  # what navigator.sendBeacon can carry in most browsers
MAX_EVENTS_PER_BATCH = 200
MAX_JSON_DEPTH = 8
# Event times further from the client's own clock than this are refused as absurd. The
# past bound covers events kept in localStorage across visits; GA4's own 72-hour window
# is applied by the relay, which dead-letters older events with that reason.
MAX_EVENT_AGE_MS = 7 * 24 * 3600 * 1000
MAX_EVENT_FUTURE_MS = 5 * 60 * 1000

Text = Annotated[str, StringConstraints(min_length=1, max_length=512)]
LongText = Annotated[str, StringConstraints(min_length=1, max_length=2048)]
Identifier = Annotated[str, StringConstraints(min_length=1, max_length=128)]
EventName = Annotated[str, StringConstraints(min_length=1, max_length=64)]
EventId = Annotated[
    str,
    StringConstraints(
        pattern=r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
    ),
]
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


@dataclass(frozen=True, slots=True)
class Rejection:
    """An event of a request that was not accepted, by its index in the request."""

    index: int
    reason: str

    def as_json(self) -> dict[str, Any]:
        """The answer's shape: ``{"index", "reason"}``."""
        return {"index": self.index, "reason": self.reason}


@dataclass(slots=True)
class ParsedRequest:
    """The outcome of parsing one ingest request body."""

    batches: list[ClientBatch] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)
    any_from_allowed_bot: bool = False
    any_from_refused_bot: bool = False

    @property
    def accepted(self) -> int:
        """How many events were accepted."""
        return sum(len(batch.events) for batch in self.batches)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _depth(value: Any) -> int:
    """How deeply ``value`` nests objects and arrays (a scalar: 0)."""
    if not isinstance(value, dict | list):
        return 0
    deepest, stack = 1, [(value, 1)]
    while stack:
        node, level = stack.pop()
        deepest = max(deepest, level)
        # Only containers go on the stack (a plain loop: this runs on every request).
        for child in node.values() if isinstance(node, dict) else node:
            if isinstance(child, dict | list):
                stack.append((child, level + 1))
    return deepest


def _first_errors(error: ValidationError, limit: int = 3) -> str:
    parts = []
    for detail in error.errors(include_url=False, include_input=False)[:limit]:
        where = ".".join(str(part) for part in detail["loc"]) or "event"
        parts.append(f"{where}: {detail['msg']}")
    return "; ".join(parts)


def decode_body(body: bytes) -> tuple[list[Any], int | None]:
    """The raw events and ``sent_at`` of a request body; shape errors raise InvalidInput."""
    if len(body) > MAX_BODY_BYTES:
        raise TooLarge(f"body is larger than {MAX_BODY_BYTES} bytes")
    try:
        payload = json.loads(body, parse_constant=_reject_constant)
    except (ValueError, RecursionError):
        raise InvalidInput("body is not valid JSON") from None
    if _depth(payload) > MAX_JSON_DEPTH:
        raise InvalidInput(f"body is nested deeper than {MAX_JSON_DEPTH} levels")
    if not isinstance(payload, dict):
        raise InvalidInput("body must be a JSON object: a batch or a single event")
    if "events" not in payload:
        return [payload], None
    events, sent_at = payload["events"], payload.get("sent_at")
    if not isinstance(events, list) or not events:
        raise InvalidInput("events must be a non-empty array")
    if len(events) > MAX_EVENTS_PER_BATCH:
        raise TooLarge(f"more than {MAX_EVENTS_PER_BATCH} events in one batch")
    if sent_at is not None and (
        isinstance(sent_at, bool) or not isinstance(sent_at, int) or not 0 < sent_at < 10**14
    ):
        raise InvalidInput("sent_at must be milliseconds since the epoch")
    return events, sent_at


def parse_request(
    body: bytes,
    *,
    received_at: int,
    bot_allowed: Callable[[str], bool],
    custom_names: frozenset[str] = frozenset(),
) -> ParsedRequest:
    """Validate every event of a request body and group the valid ones by client and bot."""
    raw_events, sent_at = decode_body(body)
    skew = received_at - sent_at if sent_at is not None else 0
    client_now = sent_at if sent_at is not None else received_at
    result = ParsedRequest()
    groups: dict[tuple[str, str], list[RelayedEvent]] = {}
    for index, raw in enumerate(raw_events):
        bot_id = raw.get("bot_id") if isinstance(raw, dict) else None
        if isinstance(bot_id, str):
            if bot_allowed(bot_id):
                result.any_from_allowed_bot = True
            else:
                result.any_from_refused_bot = True
        outcome = _validate_event(raw, client_now, skew, received_at, bot_allowed, custom_names)
        if isinstance(outcome, str):
            result.rejected.append(Rejection(index, outcome))
        else:
            groups.setdefault((outcome.client_id, outcome.bot_id), []).append(outcome)
    result.batches = [
        ClientBatch(
            schema_version=SCHEMA_VERSION,
            client_id=client_id,
            bot_id=bot_id,
            received_at=received_at,
            sent_at=sent_at,
            events=events,
        )
        for (client_id, bot_id), events in groups.items()
    ]
    return result


def _validate_event(
    raw: Any,
    client_now: int,
    skew: int,
    received_at: int,
    bot_allowed: Callable[[str], bool],
    custom_names: frozenset[str],
) -> RelayedEvent | str:
    if not isinstance(raw, dict):
        return "event must be a JSON object"
    try:
        event = LoyJoyEvent.model_validate(raw)
    except ValidationError as error:
        return _first_errors(error)
    if lookup(event.evt, custom_names) is None:
        return f"evt: {event.evt!r} is not a LoyJoy event name nor a configured custom name"
    if not bot_allowed(event.bot_id):
        return "bot_id: this bot is not allowed"
    if event.ts > client_now + MAX_EVENT_FUTURE_MS:
        return "ts: more than 5 minutes after the batch was sent"
    if event.ts < client_now - MAX_EVENT_AGE_MS:
        return "ts: more than 7 days before the batch was sent"
    corrected = min(event.ts + skew, received_at)
    fields = event.model_dump(exclude_none=True)
    if event.consent is not None:
        fields["consent"] = {
            "profiling": event.consent.profiling,
            "at": max(0, min(event.consent.at + skew, received_at)),
        }
    return RelayedEvent.model_validate(
        {
            **fields,
            "ts": corrected,
            "client_ts": event.ts,
            "received_at": received_at,
        }
    )


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
