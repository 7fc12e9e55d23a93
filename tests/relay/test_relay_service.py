"""The relay service in process: the in-memory client ledger, the real sender and GA4 stand-in.

The emulator-backed path is covered end to end in tests/e2e; these pin the relay's own
decisions about what is sent, retried, or dead-lettered, quickly.
"""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Iterator
from typing import Any

import pytest
from loyjoy_relay.adapters.dead_letters import DeadLetters
from loyjoy_relay.adapters.fakes import (
    FakeSecretManagerClient,
    InMemoryConsentLedger,
    RecordingPublisher,
    fixed_pseudonyms,
)
from loyjoy_relay.adapters.ga4_sender import (
    Ga4Sender,
    OutboundRequest,
    RetryPolicy,
    TransportError,
    TransportResponse,
)
from loyjoy_relay.adapters.logs import JsonLogger, LogMessage
from loyjoy_relay.adapters.mapping_file import load_mapping, parse_mapping
from loyjoy_relay.adapters.ports import LEASE_MS
from loyjoy_relay.adapters.rules_file import load_rules
from loyjoy_relay.adapters.secret_manager import SecretProvider
from loyjoy_relay.config import shipped_file
from loyjoy_relay.core.ga4.routing import Ga4Property, SecretRef
from loyjoy_relay.core.planner import Planner
from loyjoy_relay.devstack.event_factory import contract_event, granted, message_data, now_ms
from loyjoy_relay.devstack.ga4_sink import Ga4Sink
from loyjoy_relay.errors import ConfigError, DeliveryFailed, RetryableError, StoreUnavailable
from loyjoy_relay.service.audit import decisions_in
from loyjoy_relay.service.relay import RelayService
from loyjoy_relay.service.wiring import build_relay_service

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
        "planner": Planner(
            load_rules(shipped_file("consent-rules.yaml")),
            load_mapping(shipped_file("ga4-mapping.yaml")),
            Ga4Property("G-TEST12345", SecretRef("value", "s3cr3t-value")),
        ),
        "ledger": InMemoryConsentLedger(),
        "sender": Ga4Sender(sink.url, retry=RetryPolicy(attempts=2), sleep=lambda _: None),
        "secrets": SecretProvider(),
        "dead_letters": DeadLetters(RecordingPublisher()),
        "logger": JsonLogger("relay"),
        "pseudonyms": fixed_pseudonyms(),
    }
    fields.update(overrides)
    return build_relay_service(**fields)


def message(*events: dict[str, Any]) -> bytes:
    """A client batch as ingest publishes it."""
    return message_data(events)


def event(evt: str, ago_ms: int = 1000, **fields: Any) -> dict[str, Any]:
    """A granted contract event ``ago_ms`` ago."""
    ts = now_ms() - ago_ms
    defaults = {"bot_id": BOT, "client_id": CLIENT, "consent": granted(ts - 1)}
    return contract_event(evt, ts=ts, **{**defaults, **fields})


class ScriptedTransport:
    """A GA4 transport raising the scripted errors first, then answering 204."""

    def __init__(self, errors: list[Exception]) -> None:
        self.errors = list(errors)
        self.calls: list[OutboundRequest] = []

    def __call__(self, request: OutboundRequest) -> TransportResponse:
        self.calls.append(request)
        if self.errors:
            raise self.errors.pop(0)
        return TransportResponse(204)


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


def claimed_by_other_message(ledger: InMemoryConsentLedger, event_id: str, *, ago_ms: int) -> None:
    """Claim ``event_id`` for message ``other`` as if it had been claimed ``ago_ms`` ago."""
    at = now_ms() - ago_ms
    ledger.claim(
        CLIENT, ledger.load(CLIENT), records=[], event_ids=[event_id], owner="other", now_ms=at
    )


def test_events_another_message_is_sending_are_left_to_it(sink: Ga4Sink) -> None:
    """A duplicate delivery does not wait for the message that claimed an event: it sends the
    rest and leaves that event to the other message (whose retry sends it if it fails)."""
    ledger = InMemoryConsentLedger()
    first, second = event("start"), event("end")
    claimed_by_other_message(ledger, first["event_id"], ago_ms=0)
    report = make_service(sink, ledger=ledger).process(message(first, second), message_id="m-2")
    assert (report.in_flight, report.forwarded) == (1, 1)
    assert [e["name"] for body in sent(sink) for e in body["events"]] == ["end"]
    assert first["event_id"] in ledger.load(CLIENT).claims


def test_redelivery_takes_over_its_own_claims_at_once(sink: Ga4Sink) -> None:
    """A message whose earlier delivery died holding claims sends them on its redelivery."""
    ledger = InMemoryConsentLedger()
    item = event("start")
    ledger.claim(
        CLIENT,
        ledger.load(CLIENT),
        records=[],
        event_ids=[item["event_id"]],
        owner="m-1",
        now_ms=now_ms(),
    )
    report = make_service(sink, ledger=ledger).process(message(item), message_id="m-1")
    assert report.forwarded == 1
    assert len(sent(sink)) == 1
    state = ledger.load(CLIENT)
    assert item["event_id"] in state.done
    assert not state.claims


def test_replay_waits_for_a_live_claim_and_takes_over_an_expired_one(sink: Ga4Sink) -> None:
    """A replay sends what another message abandoned (lease run out) and is retried for what
    another message still holds."""
    ledger = InMemoryConsentLedger()
    live, abandoned = event("start"), event("end")
    claimed_by_other_message(ledger, live["event_id"], ago_ms=0)
    claimed_by_other_message(ledger, abandoned["event_id"], ago_ms=LEASE_MS + 1000)
    service = make_service(sink, ledger=ledger)
    with pytest.raises(RetryableError, match="lease has not run out"):
        service.process(message(live, abandoned), message_id="replay-1", replay=True)
    assert [e["name"] for body in sent(sink) for e in body["events"]] == ["end"]


def test_an_answer_lost_twice_is_parked_not_sent_a_third_time(sink: Ga4Sink) -> None:
    """GA4's answer lost on a request and on its resend: the events are dead-lettered as
    possibly delivered, their claims released, and the message acknowledged."""
    dead = RecordingPublisher()
    ledger = InMemoryConsentLedger()
    lost = TransportError("GA4 did not answer in time", maybe_received=True)
    transport = ScriptedTransport([lost, lost])
    sender = Ga4Sender("https://ga4.test", transport=transport, sleep=lambda _: None)
    service = make_service(sink, ledger=ledger, sender=sender, dead_letters=DeadLetters(dead))
    item = event("start")
    report = service.process(message(item), message_id="m-1")
    assert len(transport.calls) == 2
    assert report.dead_lettered == 1
    [parked] = dead.messages
    assert "may have been received" in parked.attributes["reason"]
    assert not ledger.load(CLIENT).claims
    assert item["event_id"] not in ledger.load(CLIENT).done


def test_unreadable_ledger_sends_nothing(sink: Ga4Sink) -> None:
    """Fail closed: a ledger that cannot be read stops the message before anything is sent."""

    class BrokenLedger(InMemoryConsentLedger):
        def load(self, client_id: str) -> Any:
            raise StoreUnavailable("ledger down")

    with pytest.raises(StoreUnavailable):
        make_service(sink, ledger=BrokenLedger()).process(message(event("start")))
    assert sent(sink) == []


def test_a_ledger_that_fails_to_claim_sends_nothing(sink: Ga4Sink) -> None:
    """Firestore failing on the claim write: nothing is sent and the message is retried."""

    class NoWrites(InMemoryConsentLedger):
        def claim(self, *args: Any, **kwargs: Any) -> bool:
            raise StoreUnavailable("ledger down")

    with pytest.raises(StoreUnavailable):
        make_service(sink, ledger=NoWrites()).process(message(event("start")))
    assert sent(sink) == []


def test_a_settle_that_fails_is_logged_and_the_message_acknowledged(sink: Ga4Sink) -> None:
    """Firestore failing after GA4 accepted: logged, not raised (a retry could only send the
    events twice); another message carrying them leaves them to this one's claims."""

    class NoSettle(InMemoryConsentLedger):
        def settle(self, *args: Any, **kwargs: Any) -> None:
            raise StoreUnavailable("ledger down")

    stream = io.StringIO()
    ledger = NoSettle()
    service = make_service(sink, ledger=ledger, logger=JsonLogger("relay", stream))
    item = event("start")
    assert service.process(message(item), message_id="m-1").forwarded == 1
    assert LogMessage.DEDUP_NOT_RECORDED in stream.getvalue()
    assert service.process(message(item), message_id="m-2").in_flight == 1
    assert len(sent(sink)) == 1


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


def test_audit_line_has_the_decision_and_no_raw_identifiers(sink: Ga4Sink) -> None:
    """Each decision logs event id, client pseudonym, outcome and rules version, no raw ids."""
    stream = io.StringIO()
    service = make_service(sink, logger=JsonLogger("relay", stream))
    item = event("start", user_id="user-secret-7", session_id="1732449990")
    service.process(message(item))
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    [line] = [line for line in lines if line["message"] == LogMessage.RELAY_MESSAGE]
    [record] = decisions_in(line)
    assert record["event_id"] == item["event_id"]
    assert record["client"] == fixed_pseudonyms().for_logs(CLIENT)
    assert (record["decision"], record["rule"], record["ga4_request"]) == ("forward", "granted", 0)
    assert record["rules_version"] == service.planner.rules.rules_version
    for raw in (CLIENT, "user-secret-7", "1732449990"):
        assert raw not in stream.getvalue()


def test_one_line_per_message_carries_every_decision(sink: Ga4Sink) -> None:
    """A message of mixed outcomes logs one INFO line: each event's decision, reason, request."""
    stream = io.StringIO()
    service = make_service(sink, logger=JsonLogger("relay", stream))
    items = [
        event("open"),
        event("start"),
        event("customer_deleted"),
        event("interaction", consent=None, ago_ms=500),  # granted by the stamps before it
        event("end", consent=None, ago_ms=400),
    ]
    service.process(message(*items))
    [line] = [json.loads(text) for text in stream.getvalue().splitlines()]
    assert (line["severity"], line["message"]) == ("INFO", LogMessage.RELAY_MESSAGE)
    records = decisions_in(line)
    assert [r["event_id"] for r in records] == [item["event_id"] for item in items]
    assert [(r["decision"], r["rule"]) for r in records] == [
        ("anonymize", "anonymous_always"),
        ("forward", "granted"),
        ("drop", "never"),
        ("forward", "granted"),
        ("forward", "granted"),
    ]
    assert records[2]["ga4_request"] is None
    assert records[2]["reason"] == "never: customer_deleted is never sent"
    assert records[0]["ga4_request"] != records[1]["ga4_request"]  # anonymized apart
    assert (line["forwarded"], line["anonymized"], line["dropped"]) == (3, 1, 1)
    assert line["drop_rules"] == "never"
    # The last two rest on the same grant: one entry holds both.
    assert [group["events"] for group in line["decisions"]][-1] == [3, 4]


def test_a_failed_send_still_logs_the_decisions_and_what_was_sent(sink: Ga4Sink) -> None:
    """GA4 down: the line is a WARNING naming the retry, and counts nothing as sent."""
    stream = io.StringIO()
    sink.control(fail_next=10, status=503)
    service = make_service(sink, logger=JsonLogger("relay", stream))
    item = event("start")
    with pytest.raises(DeliveryFailed):
        service.process(message(item))
    [line] = [
        json.loads(text)
        for text in stream.getvalue().splitlines()
        if json.loads(text)["message"] == LogMessage.RELAY_MESSAGE
    ]
    assert line["severity"] == "WARNING"
    assert "GA4 request" in line["retry"]
    assert (line["forwarded"], line["requests"], line["ga4_requests"]) == (0, 0, [])
    assert [r["decision"] for r in decisions_in(line)] == ["forward"]


SHOP_SECRET_VERSION = "projects/p/secrets/shop/versions/1"


def routed_planner() -> Planner:
    """The shipped rules; bot ``shop`` has its own property with a Secret Manager secret."""
    mapping = parse_mapping(
        "properties:\n"
        f"  shop: {{measurement_id: G-SHOP1234, api_secret_name: {SHOP_SECRET_VERSION}}}\n",
        source="mapping.yaml",
    )
    return Planner(
        load_rules(shipped_file("consent-rules.yaml")),
        mapping,
        Ga4Property("G-DEFAULT12", SecretRef("env", "DEV_SECRET")),
    )


def test_each_bot_goes_to_its_own_property(sink: Ga4Sink) -> None:
    """A bot with its own property is sent there; other bots go to the default property."""
    secrets = SecretProvider(
        env={"DEV_SECRET": "dev-secret"},
        client_factory=lambda: FakeSecretManagerClient({SHOP_SECRET_VERSION: "shop-secret"}),
    )
    service = make_service(sink, planner=routed_planner(), secrets=secrets)
    service.process(message(event("start", bot_id="shop"), event("start", bot_id="other")))
    assert sorted(r.measurement_id for r in sink.records()) == ["G-DEFAULT12", "G-SHOP1234"]
    assert service.api_secrets == {
        SecretRef("secret_manager", SHOP_SECRET_VERSION): "shop-secret",
        SecretRef("env", "DEV_SECRET"): "dev-secret",
    }


def test_a_secret_that_cannot_be_read_stops_the_instance_at_start(sink: Ga4Sink) -> None:
    """Every configured API secret is resolved when the relay is built; a missing one is a
    ConfigError naming the property, before any message is taken."""
    secrets = SecretProvider(
        env={"DEV_SECRET": "dev-secret"}, client_factory=lambda: FakeSecretManagerClient({})
    )
    with pytest.raises(ConfigError, match=r"G-SHOP1234.*shop/versions/1"):
        make_service(sink, planner=routed_planner(), secrets=secrets)


def test_a_defect_in_planning_one_event_parks_it_and_sends_the_rest(
    sink: Ga4Sink, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An exception the relay does not expect while mapping one event (a bug) dead-letters
    that event with where it happened, and its neighbours are still sent: no retry loop."""
    dead = RecordingPublisher()
    service = make_service(sink, dead_letters=DeadLetters(dead))
    original = service.planner.mapping.map_event

    def buggy(event: Any) -> Any:
        if event.evt == "end":
            raise ValueError("invalid literal for int() with base 10: '\u00b2'")
        return original(event)

    monkeypatch.setattr(type(service.planner.mapping), "map_event", lambda self, e: buggy(e))
    report = service.process(message(event("start"), event("end")), message_id="m-1")
    assert (report.forwarded, report.dead_lettered) == (1, 1)
    assert [e["name"] for body in sent(sink) for e in body["events"]] == ["start"]
    [parked] = dead.messages
    assert parked.attributes["reason"].startswith("relay defect while planning: ValueError at ")
    assert "\u00b2" not in parked.attributes["reason"]  # never the data the error quoted


def test_a_defect_outside_planning_parks_the_message_as_it_came(sink: Ga4Sink) -> None:
    """An unexpected exception while sending parks the whole message with its reason and
    acknowledges it; the claims are released, so a replay after the fix sends the events."""

    def broken(request: OutboundRequest) -> TransportResponse:
        raise TypeError("a bug in the transport")

    dead = RecordingPublisher()
    ledger = InMemoryConsentLedger()
    sender = Ga4Sender("https://ga4.test", transport=broken)
    service = make_service(sink, ledger=ledger, sender=sender, dead_letters=DeadLetters(dead))
    data = message(event("start"))
    report = service.process(data, message_id="m-1")
    assert report.dead_lettered == 1
    [parked] = dead.messages
    assert parked.data == data
    assert parked.attributes["reason"].startswith("relay defect while relaying this message")
    assert not ledger.load(CLIENT).claims
    replayed = make_service(sink, ledger=ledger).process(data, message_id="r-1", replay=True)
    assert replayed.forwarded == 1
