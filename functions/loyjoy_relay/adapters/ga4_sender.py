"""Sending MP requests: POST, retry transient failures, classify outcomes.

An adapter: the bodies it sends were built, validated and serialised once by the planner.
The transport is the test seam (as in httpx's ``MockTransport``): any
function from :class:`OutboundRequest` to :class:`TransportResponse`, raising
:class:`TransportError` when there was no answer. Outcomes: a 2xx is *sent*; no answer,
429 or 5xx is *transient* (retried here with exponential backoff and jitter, then
:class:`~loyjoy_relay.errors.DeliveryFailed`); any other status is *permanent*
(:class:`~loyjoy_relay.errors.Ga4Rejected`, never retried). The API secret appears only in
the URL handed to the transport; every message masks it.

**A lost answer.** GA4 does not deduplicate, so a request whose answer was lost after it
was sent (a read timeout, a connection dropped after the request went out: the transport
says ``maybe_received``) may already be counted. It is sent once more, at once; if that
answer does not come either (or the resend fails in any other way), the call raises
:class:`~loyjoy_relay.errors.DeliveryUncertain` and the relay parks the events with that
reason instead of risking a third copy. So a lost answer costs at most one extra copy.
A failure before the request left (connection refused, connect timeout) or a 429/5xx
answer is retried as usual: GA4 did not take the request.
"""

from __future__ import annotations

import random
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlencode

from loyjoy_relay.adapters.ga4_transport import (
    OutboundRequest,
    RequestsTransport,
    Transport,
    TransportError,
    TransportResponse,
)
from loyjoy_relay.adapters.logs import JsonLogger
from loyjoy_relay.errors import DeliveryFailed, DeliveryUncertain, Ga4Rejected

Outcome = Literal["sent", "transient", "permanent"]
_SECRET_IN_URL = re.compile(r"(api_secret=)[^&#\s]*")

__all__ = [
    "Delivery",
    "Ga4Sender",
    "OutboundRequest",
    "RetryPolicy",
    "TransportError",
    "TransportResponse",
    "classify",
    "mask_secret",
]


def mask_secret(text: str) -> str:
    """``text`` with any ``api_secret=`` query value replaced by ``***``."""
    return _SECRET_IN_URL.sub(r"\1***", text)


def classify(status: int) -> Outcome:
    """What a GA4 HTTP status means: sent, transient (retry) or permanent (dead-letter)."""
    if 200 <= status < 300:
        return "sent"
    if status in (408, 429) or status >= 500:
        return "transient"
    return "permanent"


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often and how patiently to retry; delays grow exponentially with jitter."""

    attempts: int = 4
    base_delay: float = 0.25
    max_delay: float = 8.0
    connect_timeout: float = 3.05
    # GA4 answers a collect request in well under a second; 5 s keeps a message's whole
    # handling inside the relay's time budget (service/relay.py).
    read_timeout: float = 5.0

    @property
    def attempt_seconds(self) -> float:
        """The longest one attempt can take."""
        return self.connect_timeout + self.read_timeout

    def delay(self, retry: int, rng: random.Random) -> float:
        """Seconds to wait before retry number ``retry`` (1-based): half fixed, half random."""
        ceiling = min(self.max_delay, self.base_delay * 2.0 ** (retry - 1))
        return ceiling / 2 + rng.uniform(0, ceiling / 2)


@dataclass(frozen=True, slots=True)
class Delivery:
    """A request GA4 accepted."""

    measurement_id: str
    events: int
    attempts: int
    status: int


class Ga4Sender:
    """POSTs MP bodies to ``{endpoint}/mp/collect``, one pooled connection set per instance."""

    def __init__(
        self,
        endpoint: str,
        *,
        transport: Transport | None = None,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
        logger: JsonLogger | None = None,
    ) -> None:
        self.endpoint = endpoint.rstrip("/")
        self.transport: Transport = transport or RequestsTransport()
        self.retry = retry or RetryPolicy()
        self._sleep = sleep
        self._rng = rng or random.Random()  # noqa: S311 -- jitter, not security
        self._log = logger or JsonLogger("ga4-sender")

    def __repr__(self) -> str:
        return f"Ga4Sender(endpoint={self.endpoint!r})"

    def send(
        self,
        body: bytes,
        *,
        measurement_id: str,
        api_secret: str,
        events: int,
        deadline: float | None = None,
    ) -> Delivery:
        """POST one MP body of ``events`` events; raise DeliveryFailed, Ga4Rejected or
        DeliveryUncertain. No retry starts that could not end by ``deadline``
        (``time.monotonic()`` seconds)."""
        query = urlencode({"measurement_id": measurement_id, "api_secret": api_secret})
        request = OutboundRequest(
            url=f"{self.endpoint}/mp/collect?{query}",
            body=body,
            timeout=(self.retry.connect_timeout, self.retry.read_timeout),
        )
        context = {"measurement_id": measurement_id}
        answer_lost = False
        attempt = 0
        while True:
            attempt += 1
            outcome, status, reason, maybe_received = self._attempt(request)
            if outcome == "sent":
                return Delivery(measurement_id, events, attempt, status)
            if outcome == "permanent":
                self._log.error("GA4 refused request", **context, status=status)
                raise Ga4Rejected(f"{reason} (measurement id {measurement_id}); not retried")
            if answer_lost:
                self._log.error("GA4 answer lost twice", **context, reason=reason)
                raise DeliveryUncertain(
                    f"GA4's answer to a request was lost, and its one resend failed ({reason}); "
                    f"it may have been received (measurement id {measurement_id}): check GA4 "
                    "before replaying"
                )
            wait = 0.0 if maybe_received else self.retry.delay(attempt, self._rng)
            out_of_time = deadline is not None and (
                time.monotonic() + wait + self.retry.attempt_seconds > deadline
            )
            if maybe_received and out_of_time:
                raise DeliveryUncertain(
                    f"GA4's answer to a request was lost ({reason}) and no time is left to "
                    f"resend it; it may have been received (measurement id {measurement_id})"
                )
            if not maybe_received and (attempt >= self.retry.attempts or out_of_time):
                break
            answer_lost = maybe_received
            self._log.warning(
                "GA4 request failed, retrying",
                **context,
                attempt=attempt,
                reason=reason,
                retry_in_s=round(wait, 3),
            )
            if wait:
                self._sleep(wait)
        self._log.error("GA4 request failed", **context, reason=reason)
        raise DeliveryFailed(
            f"GA4 request to {measurement_id} failed after {attempt} attempts: {reason}"
        )

    def _attempt(self, request: OutboundRequest) -> tuple[Outcome, int, str, bool]:
        """One POST: its outcome, the status (0 when no answer), a secret-free reason, and
        whether GA4 may have received it although no answer came."""
        try:
            response = self.transport(request)
        except TransportError as error:
            return "transient", 0, mask_secret(str(error)), error.maybe_received
        status = response.status
        return classify(status), status, f"GA4 answered {status}", False
