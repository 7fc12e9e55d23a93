"""Sending MP requests: validate strictly, POST, retry transient failures, classify outcomes.

An adapter. The transport is the test seam (as in httpx's ``MockTransport``): any
function from :class:`OutboundRequest` to :class:`TransportResponse`, raising
:class:`TransportError` when there was no answer. Outcomes: a 2xx is *sent*; no answer,
429 or 5xx is *transient* (retried here with exponential backoff and jitter, then
:class:`~loyjoy_relay.errors.DeliveryFailed`); any other status is *permanent*
(:class:`~loyjoy_relay.errors.Ga4Rejected`, never retried). The API secret appears only in
the URL handed to the transport; every message masks it.
"""

from __future__ import annotations

import random
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlencode

from loyjoy_relay.errors import DeliveryFailed, Ga4Rejected
from loyjoy_relay.ga4.batching import build_requests
from loyjoy_relay.ga4.model import Ga4Event, Ga4Identity
from loyjoy_relay.ga4.routing import Ga4Property
from loyjoy_relay.ga4.secrets import SecretProvider
from loyjoy_relay.ga4.transport import (
    OutboundRequest,
    RequestsTransport,
    Transport,
    TransportError,
    TransportResponse,
)
from loyjoy_relay.ga4.validation import ValidationMessage, encode_body, validate_payload
from loyjoy_relay.logs import JsonLogger, pseudonym

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
    read_timeout: float = 10.0

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


def _now_micros() -> int:
    return time.time_ns() // 1000


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
        clock_micros: Callable[[], int] = _now_micros,
        logger: JsonLogger | None = None,
    ) -> None:
        self.endpoint = endpoint.rstrip("/")
        self.transport: Transport = transport or RequestsTransport()
        self.retry = retry or RetryPolicy()
        self._sleep = sleep
        self._rng = rng or random.Random()  # noqa: S311 -- jitter, not security
        self._clock = clock_micros
        self._log = logger or JsonLogger("ga4-sender")

    def __repr__(self) -> str:
        return f"Ga4Sender(endpoint={self.endpoint!r})"

    def deliver(
        self,
        identity: Ga4Identity,
        events: Sequence[Ga4Event],
        *,
        destination: Ga4Property,
        secrets: SecretProvider,
    ) -> list[Delivery]:
        """Send ``events`` as ``identity`` to ``destination``, ≤ 25 events per request, in order.

        Stops at the first failure (raising it); requests before it were delivered.
        """
        api_secret = secrets.secret_for(destination.secret)
        return [
            self.send(body, measurement_id=destination.measurement_id, api_secret=api_secret)
            for body in build_requests(identity, events)
        ]

    def send(self, body: Mapping[str, Any], *, measurement_id: str, api_secret: str) -> Delivery:
        """Validate ``body`` strictly and POST it; raise DeliveryFailed or Ga4Rejected."""
        events = len(body.get("events") or [])
        context = {
            "measurement_id": measurement_id,
            "client": pseudonym(str(body.get("client_id", ""))),
        }
        messages = validate_payload(
            body, now_micros=self._clock(), behavior="ENFORCE_RECOMMENDATIONS"
        )
        if messages:
            reason = f"request failed GA4 validation: {_reason(messages)}"
            self._log.error("GA4 request invalid", **context, reason=reason)
            raise Ga4Rejected(reason)
        query = urlencode({"measurement_id": measurement_id, "api_secret": api_secret})
        request = OutboundRequest(
            url=f"{self.endpoint}/mp/collect?{query}",
            body=encode_body(dict(body)),
            timeout=(self.retry.connect_timeout, self.retry.read_timeout),
        )
        for attempt in range(1, self.retry.attempts + 1):
            outcome, status, reason = self._attempt(request)
            if outcome == "sent":
                self._log.info(
                    "GA4 request sent", **context, events=events, attempts=attempt, status=status
                )
                return Delivery(measurement_id, events, attempt, status)
            if outcome == "permanent":
                self._log.error("GA4 refused request", **context, status=status)
                raise Ga4Rejected(f"{reason} (measurement id {measurement_id}); not retried")
            if attempt < self.retry.attempts:
                wait = self.retry.delay(attempt, self._rng)
                self._log.warning(
                    "GA4 request failed, retrying",
                    **context,
                    attempt=attempt,
                    reason=reason,
                    retry_in_s=round(wait, 3),
                )
                self._sleep(wait)
        self._log.error("GA4 request failed", **context, reason=reason)
        raise DeliveryFailed(
            f"GA4 request to {measurement_id} failed after {self.retry.attempts} attempts: {reason}"
        )

    def _attempt(self, request: OutboundRequest) -> tuple[Outcome, int, str]:
        """One POST: its outcome, the status (0 when no answer) and a secret-free reason."""
        try:
            response = self.transport(request)
        except TransportError as error:
            return "transient", 0, mask_secret(str(error))
        return classify(response.status), response.status, f"GA4 answered {response.status}"


def _reason(messages: list[ValidationMessage]) -> str:
    parts = []
    for message in messages[:5]:
        # The client_id description quotes the raw id; keep identifiers out of reasons.
        text = "invalid format" if message.field_path == "client_id" else message.description
        parts.append(f"{message.field_path or 'body'}: {message.validation_code} {text}")
    more = len(messages) - len(parts)
    return "; ".join(parts) + (f"; and {more} more" if more > 0 else "")
