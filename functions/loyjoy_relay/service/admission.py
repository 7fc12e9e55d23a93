"""Who may publish through ingest: per-instance rate limits and automated-client screening.

The ingest URL is public (browsers call it), so one sender could otherwise run up the bill
or fill the site's GA4 property. Each instance keeps token buckets (``core.rate_limit``)
per client id and per source address, in bounded memory: over either limit, the request
is answered 429 with ``Retry-After`` and nothing is published. The address is kept only as
an HMAC under a key made at instance start and never written anywhere, so it can neither
be logged nor read back. Requests whose User-Agent names a crawler or a headless browser
are refused before anything is parsed.

The address is the entry of ``X-Forwarded-For`` that the last trusted proxy appended
(``TRUSTED_PROXY_HOPS`` from the right): entries to its left are whatever the client sent.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from loyjoy_relay.config import RateLimits
from loyjoy_relay.core.rate_limit import RateLimit, TokenBuckets

MAX_KEYS = 50_000  # per limiter: about 10 MB at most, whatever a flood sends


def source_address(forwarded_for: str | None, remote_addr: str | None, hops: int) -> str:
    """The client's address as the trusted proxies saw it (``remote_addr`` without any)."""
    entries = [entry.strip() for entry in (forwarded_for or "").split(",") if entry.strip()]
    if hops > 0 and len(entries) >= hops:
        return entries[-hops]
    return remote_addr or ""


def automated_marker(user_agent: str | None, markers: Iterable[str]) -> str | None:
    """The marker that shows ``user_agent`` to be a crawler or automated browser, if any."""
    text = (user_agent or "").lower()
    return next((marker for marker in markers if marker and marker in text), None)


@dataclass(frozen=True, slots=True)
class Refusal:
    """A request over a limit: which one, and the seconds to wait before trying again."""

    limit: str
    retry_after: int


@dataclass
class Admission:
    """The rate limits of one ingest instance (thread-safe)."""

    limits: RateLimits
    clock: Callable[[], float] = time.monotonic
    _key: bytes = field(default_factory=lambda: secrets.token_bytes(32), repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        self._clients = TokenBuckets(
            RateLimit(self.limits.client_per_second, self.limits.client_burst), max_keys=MAX_KEYS
        )
        self._addresses = TokenBuckets(
            RateLimit(self.limits.address_per_second, self.limits.address_burst),
            max_keys=MAX_KEYS,
        )

    def _address_key(self, address: str) -> str:
        return hmac.new(self._key, address.encode(), hashlib.sha256).hexdigest()[:32]

    def admit_address(self, address: str) -> Refusal | None:
        """Spend one request of ``address``, or say how long it must wait."""
        key = self._address_key(address)
        with self._lock:
            now = self.clock()
            wait = self._addresses.wait(key, now)
            if wait > 0:
                return Refusal("address", math.ceil(wait))
            self._addresses.spend(key, now)
        return None

    def admit_clients(self, client_ids: Iterable[str]) -> Refusal | None:
        """Spend one request of each client, or (spending nothing) say how long to wait."""
        keys = sorted(set(client_ids))
        with self._lock:
            now = self.clock()
            wait = max((self._clients.wait(key, now) for key in keys), default=0.0)
            if wait > 0:
                return Refusal("client", math.ceil(wait))
            for key in keys:
                self._clients.spend(key, now)
        return None
