"""Token buckets per key (a client id, a keyed hash of an address), in bounded memory.

Pure: the caller passes the time and holds any lock. Each key may spend ``burst`` requests
at once and regains ``rate_per_s`` a second. Memory is bounded: beyond ``max_keys`` the key
seen least recently is forgotten, which only ever forgives (a forgotten key starts with a
full bucket again), never blocks a newcomer.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RateLimit:
    """At most ``rate_per_s`` requests a second per key, with bursts of up to ``burst``."""

    rate_per_s: float
    burst: int

    def __post_init__(self) -> None:
        if not self.rate_per_s > 0 or self.burst < 1:
            raise ValueError("a rate limit needs a positive rate and a burst of at least 1")


class TokenBuckets:
    """One token bucket per key; not thread-safe (the caller locks)."""

    def __init__(self, limit: RateLimit, *, max_keys: int = 50_000) -> None:
        self.limit = limit
        self.max_keys = max_keys
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._buckets)

    def _tokens(self, key: str, now_s: float) -> float:
        tokens, last = self._buckets.get(key, (float(self.limit.burst), now_s))
        return min(float(self.limit.burst), tokens + max(0.0, now_s - last) * self.limit.rate_per_s)

    def wait(self, key: str, now_s: float) -> float:
        """Seconds until ``key`` may send one more request (0.0: it may now)."""
        missing = 1.0 - self._tokens(key, now_s)
        return 0.0 if missing <= 0 else missing / self.limit.rate_per_s

    def spend(self, key: str, now_s: float) -> None:
        """Spend one request of ``key`` (call after :meth:`wait` said 0.0)."""
        tokens = self._tokens(key, now_s) - 1.0
        self._buckets[key] = (tokens, now_s)
        self._buckets.move_to_end(key)
        while len(self._buckets) > self.max_keys:
            self._buckets.popitem(last=False)
