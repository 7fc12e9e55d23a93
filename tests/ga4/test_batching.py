"""Events of one identity are grouped into MP bodies within GA4's count and size limits."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from loyjoy_relay.core.ga4.model import Ga4Event, Ga4Identity
from loyjoy_relay.core.ga4.requests import build_requests, encode_body, event_json
from loyjoy_relay.core.ga4.validation.body import validate_payload

from tests.ga4.conftest import NOW_MICROS

IDENTITY = Ga4Identity(client_id="1234567890.1700000000", ad_user_data="GRANTED")


def payloads(identity: Ga4Identity, events: list[Ga4Event], **limits: int) -> list[dict[str, Any]]:
    """The bodies built for ``events``, checking each is sent exactly as built."""
    requests, refused = build_requests(identity, events, **limits)
    assert refused == []
    for request in requests:
        assert request.body == encode_body(request.payload)
        assert list(request.event_ids) == [
            e.source_event_id for e in events if event_json(e) in request.payload["events"]
        ]
    return [request.payload for request in requests]


def ga4_event(index: int, *, text: str = "") -> Ga4Event:
    params: dict[str, str | int | float] = {"session_id": 1759968000, "engagement_time_msec": 100}
    if text:
        params["page_location"] = text
    return Ga4Event(
        name="open",
        params=params,
        timestamp_micros=NOW_MICROS - 1000 * (100 - index),
        source_event_id=f"event-{index}",
        bot_id="bot-1",
    )


def test_sixty_events_make_three_requests_of_25_25_10() -> None:
    """60 events become bodies of 25, 25 and 10 events, in order, each valid."""
    bodies = payloads(IDENTITY, [ga4_event(i) for i in range(60)])
    assert [len(body["events"]) for body in bodies] == [25, 25, 10]
    stamps = [e["timestamp_micros"] for body in bodies for e in body["events"]]
    assert stamps == sorted(stamps)
    for body in bodies:
        assert (
            validate_payload(body, now_micros=NOW_MICROS, behavior="ENFORCE_RECOMMENDATIONS") == []
        )


def test_identity_fields_are_on_every_request() -> None:
    """client_id, user_id, consent and user properties are request-level fields of each body."""
    identity = Ga4Identity(
        client_id="1.2",
        user_id="u-7",
        ad_user_data="GRANTED",
        ad_personalization="DENIED",
        user_properties={"tier": "gold"},
    )
    [body] = payloads(identity, [ga4_event(0)])
    assert body["client_id"] == "1.2"
    assert body["user_id"] == "u-7"
    assert body["consent"] == {"ad_user_data": "GRANTED", "ad_personalization": "DENIED"}
    assert body["user_properties"] == {"tier": {"value": "gold"}}
    assert body["events"][0] == {
        "name": "open",
        "params": {"session_id": 1759968000, "engagement_time_msec": 100},
        "timestamp_micros": NOW_MICROS - 100_000,
    }
    no_user = payloads(Ga4Identity(client_id="1.2"), [ga4_event(0)])[0]
    assert "user_id" not in no_user
    assert "user_properties" not in no_user


def test_size_limit_splits_before_the_count_limit() -> None:
    """Large events are split so every body stays within the byte limit."""
    events = [ga4_event(i, text="x" * 900) for i in range(20)]
    bodies = payloads(IDENTITY, events, max_bytes=5_000)
    assert len(bodies) > 1
    assert all(len(encode_body(body)) <= 5_000 for body in bodies)
    assert sum(len(body["events"]) for body in bodies) == 20


def test_no_events_no_requests() -> None:
    """Nothing to send gives no request."""
    assert payloads(IDENTITY, []) == []


@settings(max_examples=60, deadline=None)
@given(
    sizes=st.lists(st.integers(min_value=0, max_value=1000), max_size=80),
    max_bytes=st.integers(min_value=2_000, max_value=20_000),
)
def test_batching_keeps_every_event_once_in_order_within_limits(
    sizes: list[int], max_bytes: int
) -> None:
    """Whatever the events, bodies hold each event once, in order, ≤25 each, within max_bytes."""
    events = [ga4_event(i, text="y" * size) for i, size in enumerate(sizes)]
    bodies = payloads(IDENTITY, events, max_bytes=max_bytes)
    flat = [e for body in bodies for e in body["events"]]
    assert [e["timestamp_micros"] for e in flat] == [e.timestamp_micros for e in events]
    assert all(1 <= len(body["events"]) <= 25 for body in bodies)
    assert all(len(encode_body(body)) <= max_bytes for body in bodies)


def test_an_event_too_large_alone_is_refused_and_the_rest_built() -> None:
    """An event that cannot fit a request on its own is refused by id; its neighbours go."""
    events = [ga4_event(0), ga4_event(1, text="z" * 6_000), ga4_event(2)]
    requests, refused = build_requests(IDENTITY, events, max_bytes=5_000)
    assert [r.event_ids for r in requests] == [("event-0", "event-2")]
    assert [event_id for event_id, _ in refused] == ["event-1"]
    assert "larger than" in refused[0][1]
