"""Contract events, ingest bodies and client-batch messages, for tests, benchmarks and demos.

One factory instead of one per test folder: every builder takes its defaults from
:data:`EVENT_DEFAULTS` and a seeded ``random.Random`` when it needs variety, so a
benchmark's workload and a test's corpus are the same kind of event the listener sends.
"""

from __future__ import annotations

import json
import random
import time
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

DEFAULT_BOT = "7d3c9a52-5b1e-4a57-9a0e-8f3b2c1d0e9f"
DEFAULT_CLIENT = "1234567890.1700000000"
# The fields of a typical chat event on a shop page; any can be replaced or removed (None).
EVENT_DEFAULTS: Mapping[str, Any] = {
    "evt": "open",
    "bot_id": DEFAULT_BOT,
    "client_id": DEFAULT_CLIENT,
    "process_id": "p-1",
    "process_name": "Welcome",
    "page_location": "https://shop.example.com/",
}
# A chat as LoyJoy emits it, in order (benchmarks draw from it).
CHAT_EVENTS = (
    "load",
    "open",
    "show",
    "start",
    "data_collection_question",
    "data_collection_answer",
    "link_clicked",
    "interaction",
    "end",
    "hide",
)


def now_ms() -> int:
    """Milliseconds since the epoch, now."""
    return time.time_ns() // 1_000_000


def new_event_id(rng: random.Random | None = None) -> str:
    """A UUID v4 (from ``rng`` when given, for repeatable corpora)."""
    if rng is None:
        return str(uuid.uuid4())
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def new_client_id(rng: random.Random | None = None, at_ms: int | None = None) -> str:
    """A GA4-style client id ``<random>.<first visit, s>``."""
    source = rng or random.Random()  # noqa: S311 -- test data, not a secret
    seconds = (at_ms if at_ms is not None else now_ms()) // 1000
    return f"{source.randrange(10**8, 10**10)}.{seconds - source.randrange(86_400)}"


def granted(at_ms: int, evt: str = "profiling_single_opt_in") -> dict[str, Any]:
    """A ``consent`` stamp: granted at ``at_ms`` by ``evt``."""
    return {"profiling": "granted", "at": at_ms, "evt": evt}


def denied(at_ms: int, evt: str = "profiling_opt_out") -> dict[str, Any]:
    """A ``consent`` stamp: denied at ``at_ms`` by ``evt``."""
    return {"profiling": "denied", "at": at_ms, "evt": evt}


def contract_event(
    evt: str | None = None, *, rng: random.Random | None = None, **fields: Any
) -> dict[str, Any]:
    """One event as the listener sends it: the defaults, a fresh ``event_id``, ``ts`` now,
    then ``fields`` (a field given as None is left out)."""
    event: dict[str, Any] = {
        **EVENT_DEFAULTS,
        "event_id": new_event_id(rng),
        "ts": now_ms(),
    }
    if evt is not None:
        event["evt"] = evt
    event.update(fields)
    return {key: value for key, value in event.items() if value is not None}


def ingest_body(
    events: Iterable[Mapping[str, Any]], *, sent_at: int | None = None
) -> dict[str, Any]:
    """A batch as the listener POSTs it to ingest."""
    return {"sent_at": sent_at if sent_at is not None else now_ms(), "events": list(events)}


def client_batch(
    events: Iterable[Mapping[str, Any]], *, received_at: int | None = None
) -> dict[str, Any]:
    """A client batch as ingest publishes it (no clock skew: ``client_ts`` = ``ts``): one
    client's events, of any of its bots."""
    received = received_at if received_at is not None else now_ms()
    items = [{**event, "client_ts": event["ts"], "received_at": received} for event in events]
    return {
        "schema_version": 2,
        "client_id": items[0]["client_id"],
        "received_at": received,
        "events": items,
    }


def message_data(events: Iterable[Mapping[str, Any]], *, received_at: int | None = None) -> bytes:
    """The Pub/Sub message data of :func:`client_batch`."""
    return json.dumps(client_batch(events, received_at=received_at)).encode()


def chat_session(
    rng: random.Random, *, count: int, client_id: str, at_ms: int, **fields: Any
) -> list[dict[str, Any]]:
    """``count`` events of one client drawn from a chat, a few seconds before ``at_ms``."""
    return [
        contract_event(
            rng.choice(CHAT_EVENTS),
            rng=rng,
            client_id=client_id,
            ts=at_ms - rng.randrange(5000),
            **fields,
        )
        for _ in range(count)
    ]


GRANT_EVENTS = ("profiling_single_opt_in", "profiling_double_opt_in")
REVOKE_EVENTS = ("profiling_opt_out", "profiling_single_opt_in_rejected")


def stamped_chat(
    steps: Iterable[tuple[str, str]], *, client_id: str, start_ms: int, step_ms: int = 1000
) -> list[dict[str, Any]]:
    """One client's events, ``(bot_id, evt)`` in order ``step_ms`` apart, each with the
    consent stamp the browser puts on it (DESIGN.md, the event contract): the later of its
    bot's last profiling decision and the client's last revocation in any bot, a revocation
    winning a tie; none before any decision."""
    last_by_bot: dict[str, tuple[int, str, str]] = {}
    last_revocation: tuple[int, str, str] | None = None
    events = []
    for index, (bot_id, evt) in enumerate(steps):
        ts = start_ms + index * step_ms
        if evt in GRANT_EVENTS:
            last_by_bot[bot_id] = (ts, "granted", evt)
        elif evt in REVOKE_EVENTS:
            last_by_bot[bot_id] = last_revocation = (ts, "denied", evt)
        known = [d for d in (last_by_bot.get(bot_id), last_revocation) if d is not None]
        governing = max(known, key=lambda d: (d[0], d[1] == "denied")) if known else None
        stamp = None
        if governing is not None:
            at, profiling, made_by = governing
            stamp = {"profiling": profiling, "at": at, "evt": made_by}
        events.append(contract_event(evt, bot_id=bot_id, client_id=client_id, ts=ts, consent=stamp))
    return events
