"""Property: whatever ingest accepts, the relay delivers or dead-letters, and never raises
anything but the retryable error (a message that raises anything else would be delivered
again and again until Pub/Sub gives up, holding its valid events back).

Events are generated as a browser could send them (any text in the free-form fields,
lone surrogates included, odd session ids, URLs, user ids, stamps), passed through
ingest's own parsing, published as ingest publishes them, and relayed with the shipped
rules and mapping into in-memory stores and a recording GA4 endpoint.
"""

from __future__ import annotations

import base64
import json
import uuid
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from loyjoy_relay.adapters.client_ids import random_client_id
from loyjoy_relay.adapters.mapping_file import load_mapping
from loyjoy_relay.adapters.rules_file import load_rules
from loyjoy_relay.config import shipped_file
from loyjoy_relay.core.catalogue import CATALOGUE
from loyjoy_relay.core.events import parse_request
from loyjoy_relay.core.ga4.routing import Ga4Property, SecretRef
from loyjoy_relay.core.planner import Planner
from loyjoy_relay.devstack.event_factory import now_ms
from loyjoy_relay.devstack.fake_relay import fake_relay
from loyjoy_relay.errors import RetryableError
from loyjoy_relay.service.relay import MessageReport, RelayService

PLANNER = Planner(
    load_rules(shipped_file("consent-rules.yaml")),
    load_mapping(shipped_file("ga4-mapping.yaml")),
    Ga4Property("G-TEST12345", SecretRef("value", "s3cr3t")),
)
NOW = now_ms()

# Any text, with a good share of the characters that break naive code: lone surrogates,
# combining marks, digits of other scripts (superscript two, Arabic-Indic), controls.
awkward = st.characters(categories=["Cs", "Mn", "No", "Nd", "Cc", "Zs", "So"])
texts = st.text(st.one_of(st.characters(), awkward), min_size=1, max_size=40)
long_texts = st.text(st.one_of(st.characters(), awkward), min_size=1, max_size=600)
urls = st.one_of(
    texts,
    st.builds(lambda rest: f"https://{rest}", texts),
    st.sampled_from(
        [
            "http://[",
            "https://[::1",
            "https://shop.example.com/?q=%",
            "https://shop.example.com/%E0%A4%A",
            "https://user:pw@shop.example.com:99999/p?utm_source=x&email=a%40b.de#frag",
            "//shop.example.com/path",
            "mailto:ann@example.com",
            "https://xn--n3h.example/?gclid=1&_gl=2",
        ]
    ),
)
session_ids = st.one_of(
    st.text(st.characters(categories=["Nd", "No"]), min_size=1, max_size=12),
    st.sampled_from(["\u00b2", "1\u00b2", "\u0661\u0667\u0660\u0660", "0", "9" * 64, "-1", "1e9"]),
    texts,
)
stamps = st.none() | st.fixed_dictionaries(
    {
        "profiling": st.sampled_from(["granted", "denied"]),
        "at": st.integers(NOW - 5 * 86_400_000, NOW + 60_000),
    },
    optional={"evt": st.sampled_from(sorted(CATALOGUE))},
)
bots = st.sampled_from(["bot-a", "bot-b", "7d3c9a52-5b1e-4a57-9a0e-8f3b2c1d0e9f"]) | texts
clients = st.sampled_from(["1234567890.1700000000", "own.1", "x"]) | texts
optional_fields = {
    "process_id": texts,
    "process_name": long_texts,
    "sub_process_id": texts,
    "sub_process_name": long_texts,
    "label": long_texts,
    "url": urls,
    "session_id": session_ids,
    "user_id": st.one_of(texts, st.sampled_from(["ann@example.com", "+49 170 1234567"])),
    "page_location": urls,
    "page_title": long_texts,
    "page_referrer": urls,
    "language": texts,
    "consent": stamps,
}


@st.composite
def raw_events(draw: st.DrawFn, client_id: str) -> dict[str, Any]:
    """One event as a browser might send it."""
    event: dict[str, Any] = {
        "evt": draw(st.sampled_from(sorted(CATALOGUE))),
        "bot_id": draw(bots),
        "client_id": client_id,
        "event_id": str(uuid.UUID(int=draw(st.integers(0, 2**128 - 1)), version=4)),
        # Up to four days old: some are past GA4's 72 hours and must be dead-lettered.
        "ts": draw(st.integers(NOW - 4 * 86_400_000, NOW)),
    }
    for name, strategy in optional_fields.items():
        if draw(st.booleans()):
            value = draw(strategy)
            if value is not None:
                event[name] = value
    return event


@st.composite
def request_bodies(draw: st.DrawFn) -> bytes:
    """A listener's POST body: one or two clients' events, ids sometimes repeated."""
    client_ids = draw(st.lists(clients, min_size=1, max_size=2))
    events = [
        draw(raw_events(draw(st.sampled_from(client_ids)))) for _ in range(draw(st.integers(1, 8)))
    ]
    if draw(st.booleans()):
        events.append(dict(draw(st.sampled_from(events))))  # the same event twice
    # ensure_ascii: lone surrogates travel as \ud800 escapes, as a browser's JSON does
    return json.dumps({"sent_at": NOW, "events": events}).encode()


def deliver(service: RelayService, data: bytes, message_id: str) -> MessageReport:
    """Push ``data`` through the relay's CloudEvent handler as Pub/Sub delivers it; a
    RetryableError (the only error allowed out) is a redelivery, anything else fails."""
    cloud_event = {"message": {"data": base64.b64encode(data).decode(), "messageId": message_id}}
    for _ in range(3):
        try:
            return service.handle_event_data(cloud_event)
        except RetryableError:
            continue
    raise AssertionError(f"{message_id} failed as transient three times with in-memory stores")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=request_bodies())
def test_whatever_ingest_accepts_is_delivered_or_dead_lettered(body: bytes) -> None:
    """Every event of every message ingest accepts is sent, dropped by the rules or
    dead-lettered with a reason, and the relay raises nothing (a redelivery finds it all
    settled)."""
    parsed = parse_request(body, received_at=NOW, bot_allowed=lambda _: True)
    # a fixed clock: events near GA4's 72 hours stay on one side of it
    relay = fake_relay(PLANNER, clock_ms=lambda: NOW, new_client_id=random_client_id)
    service, transport, dead = relay.service, relay.transport, relay.dead_letters
    for number, batch in enumerate(parsed.batches):
        data, _ = batch.to_message()
        unique = len({event["event_id"] for event in batch.events})
        report = deliver(service, data, f"m-{number}")
        # Two bots' messages of one request may repeat an event id: the second is a duplicate.
        accounted = (
            report.forwarded
            + report.anonymized
            + report.dropped
            + report.dead_lettered
            + report.duplicates
        )
        assert accounted == unique, report
        again = deliver(service, data, f"m-{number}-again")
        assert again.forwarded + again.anonymized == 0, again
    for message in dead.messages:
        assert message.attributes["reason"]
        assert not message.attributes["reason"].startswith("relay defect"), message.attributes
    for sent in transport.bodies():
        json.loads(sent.decode("utf-8"))
