"""The sender through a mock transport: retries, classification, backoff, no secret leaks.

GA4 production cannot be reached from tests; the transport seam stands in for it, with
the same request and response values the real ``requests`` transport uses.
"""

from __future__ import annotations

import io
import random
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from loyjoy_relay.adapters.ga4_sender import (
    Ga4Sender,
    OutboundRequest,
    RetryPolicy,
    TransportError,
    TransportResponse,
    classify,
    mask_secret,
)
from loyjoy_relay.adapters.logs import JsonLogger
from loyjoy_relay.core.ga4.requests import encode_body
from loyjoy_relay.errors import DeliveryFailed, DeliveryUncertain, Ga4Rejected, RetryableError

from tests.ga4.conftest import MEASUREMENT_ID, SECRET, valid_body


class Script:
    """A mock transport answering from a script: statuses, or exceptions to raise."""

    def __init__(self, *answers: int | Exception) -> None:
        self.answers: Iterator[int | Exception] = iter(answers)
        self.requests: list[OutboundRequest] = []

    def __call__(self, request: OutboundRequest) -> TransportResponse:
        self.requests.append(request)
        answer = next(self.answers)
        if isinstance(answer, Exception):
            raise answer
        return TransportResponse(answer)


def sender(
    transport: Callable[[OutboundRequest], TransportResponse],
    *,
    sleeps: list[float] | None = None,
    log: io.StringIO | None = None,
    attempts: int = 4,
) -> Ga4Sender:
    waits = sleeps if sleeps is not None else []
    return Ga4Sender(
        "https://ga4.test/",
        transport=transport,
        retry=RetryPolicy(attempts=attempts, base_delay=1.0, max_delay=4.0),
        sleep=waits.append,
        rng=random.Random(7),
        logger=JsonLogger("ga4-sender", stream=log or io.StringIO()),
    )


def send(s: Ga4Sender, body: dict[str, Any] | None = None) -> Any:
    payload = body or valid_body()
    return s.send(
        encode_body(payload),
        measurement_id=MEASUREMENT_ID,
        api_secret=SECRET,
        events=len(payload["events"]),
    )


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        (200, "sent"),
        (204, "sent"),
        (299, "sent"),
        (408, "transient"),
        (429, "transient"),
        (500, "transient"),
        (503, "transient"),
        (400, "permanent"),
        (401, "permanent"),
        (403, "permanent"),
        (404, "permanent"),
        (413, "permanent"),
        (302, "permanent"),
    ],
)
def test_status_classification(status: int, outcome: str) -> None:
    """2xx is sent; 408, 429 and 5xx are transient; any other status is permanent."""
    assert classify(status) == outcome


def test_request_goes_to_collect_with_ids_in_query_and_json_body() -> None:
    """One POST to {endpoint}/mp/collect?measurement_id&api_secret with the compact body."""
    script = Script(204)
    delivery = send(sender(script))
    [request] = script.requests
    assert request.url == (
        f"https://ga4.test/mp/collect?measurement_id={MEASUREMENT_ID}&api_secret={SECRET}"
    )
    assert request.body.startswith(b'{"client_id":"1234567890.1700000000"')
    assert request.timeout == (3.05, 5.0)
    assert (delivery.events, delivery.attempts, delivery.status) == (1, 1, 204)


@pytest.mark.parametrize(
    "failure",
    [503, 500, 429, TransportError("could not reach GA4 (ConnectionError)")],
    ids=["503", "500", "429", "no-answer"],
)
def test_transient_failures_are_retried_until_sent(failure: int | Exception) -> None:
    """Connection errors, timeouts, 429 and 5xx are retried; a later 2xx counts as sent."""
    script = Script(failure, failure, 204)
    delivery = send(sender(script))
    assert delivery.attempts == 3
    assert len(script.requests) == 3


def test_a_lost_answer_is_resent_once_at_once() -> None:
    """No answer after the request left: one immediate resend; its 2xx counts as sent."""
    lost = TransportError("GA4 did not answer in time", maybe_received=True)
    sleeps: list[float] = []
    script = Script(lost, 204)
    delivery = send(sender(script, sleeps=sleeps))
    assert delivery.attempts == 2
    assert sleeps == []


@pytest.mark.parametrize("then", [TransportError("lost", maybe_received=True), 503])
def test_a_lost_answer_whose_resend_fails_is_uncertain(then: int | Exception) -> None:
    """After a lost answer, a resend that fails in any way ends the call as possibly
    delivered (DeliveryUncertain, permanent), so GA4 never gets a third copy."""
    lost = TransportError("GA4 did not answer in time", maybe_received=True)
    script = Script(lost, then, 204)
    with pytest.raises(DeliveryUncertain, match="may have been received") as caught:
        send(sender(script))
    assert not isinstance(caught.value, RetryableError)
    assert len(script.requests) == 2


def test_no_retry_starts_that_cannot_end_by_the_deadline() -> None:
    """With a deadline, the sender stops retrying when a wait and an attempt would pass it."""
    script = Script(503, 503, 503, 503)
    s = sender(script)
    with pytest.raises(DeliveryFailed, match="after 1 attempts"):
        s.send(
            encode_body(valid_body()),
            measurement_id=MEASUREMENT_ID,
            api_secret=SECRET,
            events=1,
            deadline=time.monotonic() + 1.0,
        )
    assert len(script.requests) == 1


def test_backoff_grows_exponentially_with_jitter() -> None:
    """Waits between attempts double (capped) and carry a random half."""
    sleeps: list[float] = []
    with pytest.raises(DeliveryFailed):
        send(sender(Script(503, 503, 503, 503, 503), sleeps=sleeps, attempts=5))
    assert len(sleeps) == 4
    for wait, ceiling in zip(sleeps, [1.0, 2.0, 4.0, 4.0], strict=True):
        assert ceiling / 2 <= wait <= ceiling
    assert len(set(sleeps)) == 4


def test_exhausted_retries_raise_delivery_failed() -> None:
    """Still failing after the last attempt is a retryable DeliveryFailed."""
    script = Script(503, 503, 503, 503)
    with pytest.raises(DeliveryFailed, match="after 4 attempts: GA4 answered 503") as caught:
        send(sender(script))
    assert isinstance(caught.value, RetryableError)
    assert len(script.requests) == 4


def test_permanent_status_is_not_retried() -> None:
    """A 4xx other than 408/429 raises Ga4Rejected at once, without retrying."""
    script = Script(400, 204)
    with pytest.raises(Ga4Rejected, match="GA4 answered 400"):
        send(sender(script))
    assert len(script.requests) == 1


def test_secret_never_in_logs_errors_or_reprs(caplog: pytest.LogCaptureFixture) -> None:
    """Failing sends log and raise without the API secret; reprs mask it."""
    caplog.set_level("DEBUG")
    log = io.StringIO()
    leaky = TransportError(f"boom https://ga4.test/mp/collect?api_secret={SECRET}&x=1")
    errors: list[BaseException] = []
    for script in (Script(leaky, 503, 500, 429), Script(403)):
        with pytest.raises((DeliveryFailed, Ga4Rejected)) as caught:
            send(sender(script, log=log))
        errors.append(caught.value)
        assert SECRET not in repr(script.requests[0])
    text = log.getvalue() + caplog.text + "".join(f"{e!s}{e!r}" for e in errors)
    assert "GA4 request failed, retrying" in log.getvalue()
    assert "api_secret=***" in log.getvalue()
    assert SECRET not in text
    assert "1234567890.1700000000" not in log.getvalue()


def test_mask_secret() -> None:
    """Only the api_secret query value is masked."""
    url = f"https://h/mp/collect?measurement_id=G-1&api_secret={SECRET}&x=1"
    assert mask_secret(url) == "https://h/mp/collect?measurement_id=G-1&api_secret=***&x=1"
