"""The event contract as ingest checks it: request bodies in, client-batch messages out.

Pure, and free of pydantic on purpose. Ingest does nothing per request but this and a
publish, and its cold start pays for every import: pydantic and the event models cost it
about 50 ms of its ~400 ms budget (bench/README.md), and validating each event twice
(contract, then relayed) a third of its parsing CPU. So ingest checks events against the
table below, with pydantic's strict semantics and messages, and writes the message JSON
itself. The pydantic models in :mod:`loyjoy_relay.core.events` stay the relay's reading
of the same contract (``ClientBatch.from_message``); a generated test holds the two to
the same verdict, reasons and message on any input (tests/ingest/test_contract.py).

Field names and meanings are a contract (DESIGN.md, "The event contract"); anything a
client sends outside them is dropped here, so ``email`` and ``token`` that LoyJoy puts on
some events never go further.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Final, Literal, Protocol

from loyjoy_relay.core.catalogue import lookup
from loyjoy_relay.errors import InvalidInput, TooLarge

# The client-batch message: version 2 carries one client's events of all its bots (the
# relay's model still reads version 1, so older dead letters replay).
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
MAX_MILLIS = 10**14
EVENT_ID_PATTERN: Final = (
    r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
)
# An IANA time zone name as browsers report it (Europe/Berlin, America/Argentina/Salta,
# Etc/GMT+5, UTC); anything else is refused, since only the table's names mean something.
TIME_ZONE_PATTERN: Final = r"^[A-Za-z][A-Za-z0-9_+-]{0,30}(?:/[A-Za-z0-9_+-]{1,30}){0,2}$"
SCREEN_RESOLUTION_PATTERN: Final = r"^[1-9][0-9]{0,4}x[1-9][0-9]{0,4}$"


def _whole(pattern: str) -> re.Pattern[str]:
    """``pattern`` (anchored ^...$) to match a whole string, as pydantic's Rust regex does
    (Python's ``$`` would also match before a final newline)."""
    return re.compile(pattern.removeprefix("^").removesuffix("$"))


MAX_ERRORS = 3  # reasons name at most the first three problems of an event


@dataclass(frozen=True, slots=True)
class Text:
    """A string field: 1..``max_length`` characters, or (with a pattern) at most
    ``max_length`` (0: no limit) matching the pattern."""

    max_length: int
    required: bool = False
    pattern: str | None = None
    compiled: re.Pattern[str] | None = field(init=False, default=None, compare=False)

    def __post_init__(self) -> None:
        if self.pattern is not None:
            object.__setattr__(self, "compiled", _whole(self.pattern))


@dataclass(frozen=True, slots=True)
class Millis:
    """Milliseconds since the epoch: an integer (not a boolean) in 0..10^14."""

    required: bool = False


@dataclass(frozen=True, slots=True)
class Choice:
    """One of a few strings."""

    values: tuple[str, ...]
    required: bool = False


@dataclass(frozen=True, slots=True)
class Nested:
    """An object of its own fields (``ConsentStamp``, ``SiteConsent``); others are dropped."""

    model: str  # the pydantic model's name, which its type error names
    fields: dict[str, Text | Millis | Choice]
    required: bool = False


Spec = Text | Millis | Choice | Nested
SIGNAL = Choice(("granted", "denied"))

# The event contract (DESIGN.md), in the order the message lists the fields. The pydantic
# models of core/events.py say the same; tests/ingest/test_contract.py checks they agree.
EVENT_FIELDS: Final[dict[str, Spec]] = {
    "evt": Text(64, required=True),
    "bot_id": Text(128, required=True),
    "client_id": Text(128, required=True),
    "event_id": Text(0, required=True, pattern=EVENT_ID_PATTERN),
    "ts": Millis(required=True),
    "process_id": Text(512),
    "process_name": Text(512),
    "sub_process_id": Text(512),
    "sub_process_name": Text(512),
    "label": Text(512),
    "url": Text(2048),
    "session_id": Text(64),
    "user_id": Text(256),
    "page_location": Text(2048),
    "page_title": Text(512),
    "page_referrer": Text(2048),
    "language": Text(35),
    "consent": Nested(
        "ConsentStamp",
        {
            "profiling": Choice(("granted", "denied"), required=True),
            "at": Millis(required=True),
            # the LoyJoy event that made the decision (a granted stamp without it grants
            # nothing: core/consent/decision.py)
            "evt": Text(64),
        },
    ),
    "time_zone": Text(64, pattern=TIME_ZONE_PATTERN),
    "screen_resolution": Text(0, pattern=SCREEN_RESOLUTION_PATTERN),
    "site_consent": Nested(
        "SiteConsent",
        {
            "analytics_storage": SIGNAL,
            "ad_storage": SIGNAL,
            "ad_user_data": SIGNAL,
            "ad_personalization": SIGNAL,
            "source": Choice(("consent_mode", "tcf"), required=True),
        },
    ),
}
_CHECKS: Final = tuple((name, spec, spec.required) for name, spec in EVENT_FIELDS.items())


@dataclass(frozen=True, slots=True)
class Rejection:
    """An event of a request that was not accepted, by its index in the request."""

    index: int
    reason: str

    def as_json(self) -> dict[str, Any]:
        """The answer's shape: ``{"index", "reason"}``."""
        return {"index": self.index, "reason": self.reason}


class Context(Protocol):
    """What ingest derived from the request (``RequestContext``: device, location)."""

    @property
    def empty(self) -> bool:
        """True when nothing was derived."""
        ...

    def model_dump(self, *, exclude_none: bool) -> dict[str, Any]:
        """Its JSON-ready fields."""
        ...


@dataclass(slots=True)
class OutgoingBatch:
    """One client's accepted events of a request, of any of its bots: one Pub/Sub message.

    ``events`` hold each event's contract fields as sent (absent and null ones left out),
    ``ts`` corrected for the client's clock skew, then ``client_ts`` and ``received_at``;
    ``context`` what ingest derived from the request (JSON-ready, or None).
    """

    client_id: str
    received_at: int
    sent_at: int | None
    context: dict[str, Any] | None
    events: list[dict[str, Any]]

    @property
    def bot_ids(self) -> tuple[str, ...]:
        """The bots of the message's events, sorted."""
        return tuple(sorted({event["bot_id"] for event in self.events}))

    def to_message(self) -> tuple[bytes, dict[str, str]]:
        """Pub/Sub data (``ClientBatch``'s JSON, byte for byte) and its attributes."""
        body: dict[str, Any] = {
            "schema_version": SCHEMA_VERSION,
            "client_id": self.client_id,
            "received_at": self.received_at,
        }
        if self.sent_at is not None:
            body["sent_at"] = self.sent_at
        if self.context is not None:
            body["context"] = self.context
        body["events"] = self.events
        data = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
        attributes = {
            "schema_version": str(SCHEMA_VERSION),
            "event_count": str(len(self.events)),
            "bot_ids": joined_within(self.bot_ids, MAX_ATTRIBUTE_BYTES),
        }
        return data, attributes


def joined_within(names: Iterable[str], limit: int) -> str:
    """``names`` comma-separated, as many whole names as fit in ``limit`` UTF-8 bytes."""
    joined = ""
    for name in names:
        candidate = f"{joined},{name}" if joined else name
        if len(candidate.encode()) > limit:
            break
        joined = candidate
    return joined


@dataclass(slots=True)
class ParsedRequest:
    """The outcome of parsing one ingest request body."""

    batches: list[OutgoingBatch] = field(default_factory=list)
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
    context: Context | None = None,
) -> ParsedRequest:
    """Validate every event of a request body and group the valid ones by client: one
    client batch per client, with all of that client's bots, and the ``context`` ingest
    derived from the request (left out when empty)."""
    raw_events, sent_at = decode_body(body)
    skew = received_at - sent_at if sent_at is not None else 0
    client_now = sent_at if sent_at is not None else received_at
    derived = None if context is None or context.empty else context.model_dump(exclude_none=True)
    result = ParsedRequest()
    groups: dict[str, list[dict[str, Any]]] = {}
    for index, raw in enumerate(raw_events):
        bot_id = raw.get("bot_id") if isinstance(raw, dict) else None
        if isinstance(bot_id, str):
            if bot_allowed(bot_id):
                result.any_from_allowed_bot = True
            else:
                result.any_from_refused_bot = True
        outcome = _accept_event(raw, client_now, skew, received_at, bot_allowed, custom_names)
        if isinstance(outcome, str):
            result.rejected.append(Rejection(index, outcome))
        else:
            groups.setdefault(outcome["client_id"], []).append(outcome)
    result.batches = [
        OutgoingBatch(client_id, received_at, sent_at, derived, events)
        for client_id, events in groups.items()
    ]
    return result


def _accept_event(
    raw: Any,
    client_now: int,
    skew: int,
    received_at: int,
    bot_allowed: Callable[[str], bool],
    custom_names: frozenset[str],
) -> dict[str, Any] | str:
    """The event as the message carries it, or the reason it is refused."""
    if not isinstance(raw, dict):
        return "event must be a JSON object"
    event, errors = check_event(repaired(raw))
    if errors:
        return "; ".join(errors[:MAX_ERRORS])
    if lookup(event["evt"], custom_names) is None:
        return f"evt: {event['evt']!r} is not a LoyJoy event name nor a configured custom name"
    if not bot_allowed(event["bot_id"]):
        return "bot_id: this bot is not allowed"
    ts = event["ts"]
    if ts > client_now + MAX_EVENT_FUTURE_MS:
        return "ts: more than 5 minutes after the batch was sent"
    if ts < client_now - MAX_EVENT_AGE_MS:
        return "ts: more than 7 days before the batch was sent"
    event["ts"] = min(ts + skew, received_at)
    stamp = event.get("consent")
    if stamp is not None:
        stamp["at"] = max(0, min(stamp["at"] + skew, received_at))
    event["client_ts"] = ts
    event["received_at"] = received_at
    return event


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
    """The contract's length limit of an optional text field, read from the table."""
    spec = EVENT_FIELDS[name]
    if isinstance(spec, Text) and spec.max_length:
        return spec.max_length
    raise LookupError(f"{name} has no length limit")


def repaired(raw: dict[str, Any]) -> dict[str, Any]:
    """``raw`` with its optional text fields repaired or left out (see above); other fields,
    and values that are not text (refused as they are), untouched."""
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


def check_event(raw: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The contract fields of ``raw`` (null ones left out), and every problem as
    ``"<field>: <message>"`` in field order, worded as pydantic words them."""
    event: dict[str, Any] = {}
    errors: list[str] = []
    for name, spec, required in _CHECKS:
        value = raw.get(name)
        if value is None:
            if required:
                errors.append(f"{name}: {_type_message(spec) if name in raw else 'Field required'}")
            continue
        # The common case first, in line: a plain string of allowed length, an in-range int.
        if type(value) is str and isinstance(spec, Text) and spec.pattern is None:
            if 0 < len(value) <= spec.max_length and (value.isascii() or _encodable(value)):
                event[name] = value
                continue
        elif type(value) is int and type(spec) is Millis and 0 <= value <= MAX_MILLIS:
            event[name] = value
            continue
        if isinstance(spec, Nested):
            fields, problems = _check_nested(spec, value)
            errors.extend(f"{name}{problem}" for problem in problems)
            if not problems:
                event[name] = fields
            continue
        problem = _check_value(spec, value)
        if problem is None:
            event[name] = value
        else:
            errors.append(f"{name}: {problem}")
    return event, errors


def _encodable(value: str) -> bool:
    """False for a string holding a lone surrogate (a JSON ``\\ud800`` escape)."""
    try:
        value.encode()
    except UnicodeEncodeError:
        return False
    return True


def _type_message(spec: Spec) -> str:
    if isinstance(spec, Text):
        return "Input should be a valid string"
    if isinstance(spec, Millis):
        return "Input should be a valid integer"
    if isinstance(spec, Choice):
        return _choice_message(spec)
    return f"Input should be a valid dictionary or instance of {spec.model}"


def _choice_message(spec: Choice) -> str:
    quoted = [f"'{value}'" for value in spec.values]
    return f"Input should be {', '.join(quoted[:-1])} or {quoted[-1]}"


def _check_value(spec: Text | Millis | Choice, value: Any) -> str | None:
    """Pydantic's (strict) message for the first problem with ``value``, or None."""
    if isinstance(spec, Millis):
        if not isinstance(value, int) or isinstance(value, bool):
            return "Input should be a valid integer"
        if value < 0:
            return "Input should be greater than or equal to 0"
        if value > MAX_MILLIS:
            return f"Input should be less than or equal to {MAX_MILLIS}"
        return None
    if isinstance(spec, Choice):
        return None if value in spec.values and isinstance(value, str) else _choice_message(spec)
    if not isinstance(value, str):
        return "Input should be a valid string"
    if not value.isascii() and not _encodable(value):
        return "Input should be a valid string, unable to parse raw data as a unicode string"
    if spec.pattern is None and not value:
        return "String should have at least 1 character"
    if spec.max_length and len(value) > spec.max_length:
        return f"String should have at most {spec.max_length} characters"
    if spec.compiled is not None and spec.compiled.fullmatch(value) is None:
        return f"String should match pattern '{spec.pattern}'"
    return None


def _check_nested(spec: Nested, value: Any) -> tuple[dict[str, Any], list[str]]:
    """The object's fields (null ones left out), or its problems as ``".<field>: ..."``."""
    if not isinstance(value, dict):
        return {}, [f": {_type_message(spec)}"]
    fields: dict[str, Any] = {}
    problems = []
    for name, field_spec in spec.fields.items():
        item = value.get(name)
        if item is None:
            if field_spec.required:
                message = _type_message(field_spec) if name in value else "Field required"
                problems.append(f".{name}: {message}")
            continue
        problem = _check_value(field_spec, item)
        if problem is None:
            fields[name] = item
        else:
            problems.append(f".{name}: {problem}")
    return fields, problems
