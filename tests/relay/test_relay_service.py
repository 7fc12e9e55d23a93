"""The relay service in process: in-memory ledger and dedup, the real sender and GA4 stand-in.

The emulator-backed path is covered end to end in tests/e2e; these pin the relay's own
decisions about what is sent, retried, or dead-lettered, quickly.
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from loyjoy_relay.config import shipped_file
from loyjoy_relay.consent.ledger import InMemoryConsentLedger
from loyjoy_relay.consent.rules_file import load_rules
from loyjoy_relay.dead_letters import DeadLetters
from loyjoy_relay.dedup import InMemoryDedup
from loyjoy_relay.errors import DeliveryFailed, RetryableError, StoreUnavailable
from loyjoy_relay.ga4.mapping_file import load_mapping
from loyjoy_relay.ga4.routing import Ga4Property, SecretRef
from loyjoy_relay.ga4.secrets import SecretProvider
from loyjoy_relay.ga4.sender import Ga4Sender, RetryPolicy
from loyjoy_relay.ga4.sink import Ga4Sink
from loyjoy_relay.logs import JsonLogger
from loyjoy_relay.publishing import RecordingPublisher
from loyjoy_relay.relay_service import RelayService

BOT = "bot-1"
CLIENT = "123456789.1700000000"


@pytest.fixture
def sink() -> Iterator[Ga4Sink]:
    """A running GA4 stand-in."""
    with Ga4Sink() as running:
        yield running


def make_service(sink: Ga4Sink, **overrides: Any) -> RelayService:
    """A relay wired to in-memory stores and the stand-in; no sleeping between retries."""
    fields: dict[str, Any] = {
        "rules": load_rules(shipped_file("consent-rules.yaml")),
        "mapping": load_mapping(shipped_file("ga4-mapping.yaml")),
        "default_property": Ga4Property("G-TEST12345", SecretRef("value", "s3cr3t-value")),
        "ledger": InMemoryConsentLedger(),
        "dedup": InMemoryDedup(),
        "sender": Ga4Sender(sink.url, retry=RetryPolicy(attempts=2), sleep=lambda _: None),
        "secrets": SecretProvider(),
        "dead_letters": DeadLetters(RecordingPublisher()),
        "logger": JsonLogger("relay"),
    }
    fields.update(overrides)
    return RelayService(**fields)


def message(*events: dict[str, Any]) -> bytes:
    """A client batch as ingest publishes it."""
    now = int(time.time() * 1000)
    return json.dumps(
        {
            "schema_version": 1,
            "client_id": CLIENT,
            "bot_id": BOT,
            "received_at": now,
            "events": [{**e, "client_ts": e["ts"], "received_at": now} for e in events],
        }
    ).encode()


def event(evt: str, ago_ms: int = 1000, **fields: Any) -> dict[str, Any]:
    """A granted contract event ``ago_ms`` ago."""
    now = int(time.time() * 1000)
    return {
        "evt": evt,
        "bot_id": BOT,
        "client_id": CLIENT,
        "event_id": str(uuid.uuid4()),
        "ts": now - ago_ms,
        "consent": {"profiling": "granted", "at": now - ago_ms - 1},
        **fields,
    }


def sent(sink: Ga4Sink) -> list[dict[str, Any]]:
    """Every MP body the stand-in received on /mp/collect."""
    return [r.body for r in sink.records() if r.path == "/mp/collect"]


def test_forwarded_events_go_in_one_request_per_identity(sink: Ga4Sink) -> None:
    """Three granted events of one client travel in a single MP request."""
    report = make_service(sink).process(message(event("start"), event("interaction"), event("end")))
    assert report.forwarded == 3
    assert report.requests == 1
    [body] = sent(sink)
    assert body["client_id"] == CLIENT
    assert [e["name"] for e in body["events"]] == ["start", "interaction", "end"]


def test_too_old_event_is_dead_lettered_and_the_rest_delivered(sink: Ga4Sink) -> None:
    """An event past GA4's 72 hours is dead-lettered with the reason; its neighbours are sent."""
    dead = RecordingPublisher()
    service = make_service(sink, dead_letters=DeadLetters(dead))
    old = event("start", ago_ms=73 * 3600 * 1000)
    report = service.process(message(old, event("interaction")))
    assert report.dead_lettered == 1
    assert [e["name"] for e in sent(sink)[0]["events"]] == ["interaction"]
    [parked] = dead.messages
    assert "72 hours" in parked.attributes["reason"]
    assert json.loads(parked.data)["events"][0]["event_id"] == old["event_id"]


def test_undecodable_message_is_dead_lettered_as_it_came(sink: Ga4Sink) -> None:
    """Bytes that are not a client batch go to the dead letters untouched, with a reason."""
    dead = RecordingPublisher()
    service = make_service(sink, dead_letters=DeadLetters(dead))
    service.handle_event_data({"message": {"data": base64.b64encode(b"garbage").decode()}})
    [parked] = dead.messages
    assert parked.data == b"garbage"
    assert "not a client batch" in parked.attributes["reason"]
    assert sent(sink) == []


def test_user_id_that_is_an_email_is_not_sent(sink: Ga4Sink) -> None:
    """A site's user id that looks like an e-mail address never reaches GA4."""
    make_service(sink).process(message(event("start", user_id="ann@example.com")))
    [body] = sent(sink)
    assert "user_id" not in body
    assert "ann@example.com" not in json.dumps(body)


def test_transient_failure_releases_claims_so_the_retry_sends(sink: Ga4Sink) -> None:
    """GA4 down: the relay raises; the redelivery sends every event exactly once."""
    service = make_service(sink)
    data = message(event("start"), event("end"))
    sink.control(fail_next=2, status=503)
    with pytest.raises(DeliveryFailed):
        service.process(data)
    assert sent(sink) == []
    report = service.process(data)
    assert report.forwarded == 2
    assert len(sent(sink)[0]["events"]) == 2
    assert service.process(data).duplicates == 2
    assert len(sent(sink)) == 1


def test_events_claimed_by_another_delivery_make_this_one_retry(sink: Ga4Sink) -> None:
    """While another delivery holds the claims, this one raises to be retried, sending nothing."""
    dedup = InMemoryDedup()
    first = event("start")
    dedup.claim([first["event_id"]], now_ms=int(time.time() * 1000))
    with pytest.raises(RetryableError):
        make_service(sink, dedup=dedup).process(message(first, event("end")))
    assert sent(sink) == []


def test_unreadable_ledger_sends_nothing(sink: Ga4Sink) -> None:
    """Fail closed: a ledger that cannot be read stops the message before anything is sent."""

    class BrokenLedger:
        def read(self, client_id: str) -> list[Any]:
            raise StoreUnavailable("ledger down")

        def record(self, client_id: str, records: Any) -> list[Any]:
            raise StoreUnavailable("ledger down")

    with pytest.raises(StoreUnavailable):
        make_service(sink, ledger=BrokenLedger()).process(message(event("start")))
    assert sent(sink) == []


def test_secret_never_appears_in_the_relay_logs(
    sink: Ga4Sink, capsys: pytest.CaptureFixture[str]
) -> None:
    """A failing send logs its reasons but never the API secret."""
    sink.control(fail_next=10, status=503)
    with pytest.raises(DeliveryFailed):
        make_service(sink).process(message(event("start")))
    output = capsys.readouterr()
    assert "GA4 request failed" in output.out
    assert "s3cr3t-value" not in output.out + output.err
