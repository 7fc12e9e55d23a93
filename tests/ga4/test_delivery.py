"""The real sender (pooled ``requests`` transport) against a running GA4 sink."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest
from loyjoy_relay.adapters.ga4_sender import Ga4Sender, RetryPolicy
from loyjoy_relay.adapters.logs import JsonLogger
from loyjoy_relay.core.ga4.model import Ga4Event, Ga4Identity
from loyjoy_relay.core.ga4.requests import build_requests
from loyjoy_relay.core.ga4.validation.body import validate_payload
from loyjoy_relay.devstack.ga4_sink import Ga4Sink
from loyjoy_relay.errors import DeliveryFailed, DeliveryUncertain, Ga4Rejected

from tests.ga4.conftest import MEASUREMENT_ID, NOW_MICROS, SECRET
from tests.support.net import free_port, wait_until

IDENTITY = Ga4Identity(client_id="1234567890.1700000000")


@pytest.fixture
def sink() -> Iterator[Ga4Sink]:
    with Ga4Sink(clock_micros=lambda: NOW_MICROS) as running:
        yield running


def events(count: int) -> list[Ga4Event]:
    return [
        Ga4Event(
            name="open",
            params={"n": i, "session_id": 1759968000, "engagement_time_msec": 100},
            timestamp_micros=NOW_MICROS - 1000 * (count - i),
            source_event_id=f"e{i}",
            bot_id="bot-1",
        )
        for i in range(count)
    ]


def make_sender(
    endpoint: str, log: io.StringIO | None = None, *, attempts: int = 4, read_timeout: float = 5.0
) -> Ga4Sender:
    """A real sender that retries without waiting (base delay 0)."""
    return Ga4Sender(
        endpoint,
        retry=RetryPolicy(attempts=attempts, base_delay=0.0, read_timeout=read_timeout),
        logger=JsonLogger("ga4-sender", stream=log or io.StringIO()),
    )


def send_all(sender: Ga4Sender, count: int) -> None:
    requests, _ = build_requests(IDENTITY, events(count))
    for request in requests:
        sender.send(
            request.body,
            measurement_id=MEASUREMENT_ID,
            api_secret=SECRET,
            events=len(request.event_ids),
        )


def test_sixty_events_arrive_as_three_valid_requests(sink: Ga4Sink) -> None:
    """60 events of one client reach the sink as exactly 3 requests of 25, 25 and 10, valid."""
    send_all(make_sender(sink.url), 60)
    records = sink.records()
    assert [len(r.body["events"]) for r in records] == [25, 25, 10]
    assert {(r.path, r.measurement_id) for r in records} == {("/mp/collect", MEASUREMENT_ID)}
    assert [e["params"]["n"] for r in records for e in r.body["events"]] == list(range(60))
    for record in records:
        assert (
            validate_payload(record.body, now_micros=NOW_MICROS, behavior="ENFORCE_RECOMMENDATIONS")
            == []
        )


def test_two_503s_then_recovery_delivers_every_event_once(sink: Ga4Sink) -> None:
    """The sink failing twice with 503 is retried through; each event arrives exactly once."""
    sink.control(fail_next=2, status=503)
    send_all(make_sender(sink.url), 60)
    delivered = [e["params"]["n"] for r in sink.records() for e in r.body["events"]]
    assert delivered == list(range(60))
    assert sink.control()["fail_next"] == 0


def test_permanent_4xx_is_classified_permanent(sink: Ga4Sink) -> None:
    """A 400 from GA4 raises Ga4Rejected after one attempt, and nothing is recorded."""
    sink.control(fail_next=5, status=400)
    with pytest.raises(Ga4Rejected, match="400"):
        send_all(make_sender(sink.url), 3)
    assert sink.control()["fail_next"] == 4
    assert sink.records() == []


def test_an_answer_slower_than_the_timeout_is_resent_once_then_parked(sink: Ga4Sink) -> None:
    """A request GA4 took but did not answer in time is resent once; when that answer is
    late too the call gives up as possibly delivered (GA4 holds two copies, never three)."""
    sink.control(delay_ms=400)
    sender = make_sender(sink.url, attempts=4, read_timeout=0.1)
    with pytest.raises(DeliveryUncertain, match="may have been received"):
        send_all(sender, 1)
    wait_until(lambda: len(sink.records()) == 2, timeout=5, what="both copies recorded")
    assert len(sink.records()) == 2


def test_refused_connection_is_retried_not_uncertain() -> None:
    """Nothing listening: the request never left, so it is retried and fails as transient."""
    sender = make_sender(f"http://127.0.0.1:{free_port()}", attempts=3)
    with pytest.raises(DeliveryFailed, match="after 3 attempts"):
        send_all(sender, 1)


def test_failing_real_sends_never_log_the_secret(
    sink: Ga4Sink, caplog: pytest.LogCaptureFixture
) -> None:
    """Refused connections and 5xx through requests/urllib3 log no API secret anywhere."""
    caplog.set_level("DEBUG")
    log = io.StringIO()
    sink.control(fail_next=10, status=503)
    raised: list[BaseException] = []
    for endpoint in (sink.url, f"http://127.0.0.1:{free_port()}"):
        with pytest.raises(DeliveryFailed) as caught:
            send_all(make_sender(endpoint, log, attempts=2), 1)
        raised.append(caught.value)
    assert "urllib3" in caplog.text or "connectionpool" in caplog.text
    everything = log.getvalue() + caplog.text + "".join(f"{e!s}{e!r}" for e in raised)
    assert SECRET not in everything
    assert "GA4 request failed" in log.getvalue()
