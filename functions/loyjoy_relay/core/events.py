"""The event contract (listener → ingest) and the client-batch message (ingest → relay).

Pure: parsing and validation only, no I/O. Field names and meanings are a contract
(DESIGN.md, "The event contract"); anything a client sends outside them is dropped here,
so ``email`` and ``token`` that LoyJoy puts on some events never go further.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal, get_args

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    model_validator,
)

from loyjoy_relay.core.catalogue import lookup
from loyjoy_relay.core.context.model import RequestContext
from loyjoy_relay.errors import InvalidInput, TooLarge, UndecodableMessage

# The client-batch message: version 2 carries one client's events of all its bots; version 1
# (one bot per message, with a ``bot_id``) is still read, so older dead letters replay.
SCHEMA_VERSION: Literal[2] = 2
# Pub/Sub attribute values hold at most 1024 bytes.
MAX_ATTRIBUTE_BYTES = 1024
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
# An IANA time zone name as browsers report it (Europe/Berlin, America/Argentina/Salta,
# Etc/GMT+5, UTC); anything else is refused, since only the table's names mean something.
TIME_ZONE_PATTERN = r"^[A-Za-z][A-Za-z0-9_+-]{0,30}(?:/[A-Za-z0-9_+-]{1,30}){0,2}$"
TimeZone = Annotated[str, StringConstraints(pattern=TIME_ZONE_PATTERN, max_length=64)]
ScreenResolution = Annotated[str, StringConstraints(pattern=r"^[1-9][0-9]{0,4}x[1-9][0-9]{0,4}$")]
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
            "bot_ids": _joined_within(self.bot_ids, MAX_ATTRIBUTE_BYTES),
        }
        return data, attributes

    @classmethod
    def from_message(cls, data: bytes) -> ClientBatch:
        """Decode a Pub/Sub message body; a payload of another shape is permanent."""
        try:
            return cls.model_validate_json(data)
        except ValidationError as error:
            raise UndecodableMessage(f"not a client batch: {_first_errors(error)}") from None


def _joined_within(names: Iterable[str], limit: int) -> str:
    """``names`` comma-separated, as many whole names as fit in ``limit`` UTF-8 bytes."""
    joined = ""
    for name in names:
        candidate = f"{joined},{name}" if joined else name
        if len(candidate.encode()) > limit:
            break
        joined = candidate
    return joined


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
    deepest, stack = 0, [(value, 1)]
    while stack:
        node, level = stack.pop()
        if isinstance(node, dict | list):
            deepest = max(deepest, level)
            children = node.values() if isinstance(node, dict) else node
            stack.extend((child, level + 1) for child in children)
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
    context: RequestContext | None = None,
) -> ParsedRequest:
    """Validate every event of a request body and group the valid ones by client: one
    client batch per client, with all of that client's bots, and the ``context`` ingest
    derived from the request (left out when empty)."""
    raw_events, sent_at = decode_body(body)
    skew = received_at - sent_at if sent_at is not None else 0
    client_now = sent_at if sent_at is not None else received_at
    result = ParsedRequest()
    groups: dict[str, list[RelayedEvent]] = {}
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
            groups.setdefault(outcome.client_id, []).append(outcome)
    result.batches = [
        ClientBatch(
            schema_version=SCHEMA_VERSION,
            client_id=client_id,
            received_at=received_at,
            sent_at=sent_at,
            context=context if context is not None and not context.empty else None,
            events=events,
        )
        for client_id, events in groups.items()
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
        event = LoyJoyEvent.model_validate(repaired(raw))
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
            **event.consent.model_dump(exclude_none=True),
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


# What a browser may send that is not quite valid, repaired instead of refusing the event.
# Free text a page or a chat supplies: a lone UTF-16 surrogate (a string cut inside an
# emoji, which JSON carries as a "\ud83d" escape) becomes U+FFFD, and a value over the
# contract's length is cut to it (by code points, as GA4 counts). Optional values that name
# something cannot be repaired into the same name: such a value is left out. An empty
# optional value is left out too. Required fields (evt, bot_id, client_id, event_id, ts)
# are never repaired: an event with a bad one is refused.
REPAIRED_TEXT_FIELDS = (
    "process_name",
    "sub_process_name",
    "label",
    "url",
    "page_location",
    "page_title",
    "page_referrer",
)
DROPPED_WHEN_INVALID = ("process_id", "sub_process_id", "session_id", "user_id", "language")
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def _max_length(name: str) -> int:
    """The contract's length limit of an optional text field, read from the event model."""
    for option in get_args(LoyJoyEvent.model_fields[name].annotation):
        for constraint in getattr(option, "__metadata__", ()):
            if isinstance(constraint, StringConstraints) and constraint.max_length:
                return constraint.max_length
    raise LookupError(f"{name} has no length limit")


def repaired(raw: dict[str, Any]) -> dict[str, Any]:
    """``raw`` with its optional text fields repaired or left out (see above); other fields,
    and values that are not text (refused by the model as they are), untouched."""
    fixed = dict(raw)
    for name in (*REPAIRED_TEXT_FIELDS, *DROPPED_WHEN_INVALID):
        value = fixed.get(name)
        if not isinstance(value, str):
            continue
        limit = _max_length(name)
        if not value:
            del fixed[name]
        elif name in REPAIRED_TEXT_FIELDS:
            fixed[name] = _LONE_SURROGATE.sub("\ufffd", value)[:limit]
        elif len(value) > limit or _LONE_SURROGATE.search(value):
            del fixed[name]
    return fixed


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
