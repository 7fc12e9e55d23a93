"""Token buckets: bursts, steady rates, waiting times and bounded memory."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from loyjoy_relay.core.rate_limit import RateLimit, TokenBuckets


def admitted(buckets: TokenBuckets, key: str, times: list[float]) -> int:
    count = 0
    for now in times:
        if buckets.wait(key, now) == 0.0:
            buckets.spend(key, now)
            count += 1
    return count


def test_a_burst_is_admitted_then_the_rate_holds() -> None:
    """2/s with a burst of 10: 10 at once pass, the 11th waits half a second."""
    buckets = TokenBuckets(RateLimit(rate_per_s=2, burst=10))
    assert admitted(buckets, "c", [0.0] * 15) == 10
    assert buckets.wait("c", 0.0) == pytest.approx(0.5)
    assert buckets.wait("c", 0.5) == 0.0


def test_keys_are_limited_apart() -> None:
    """One key's flood leaves another key's bucket full."""
    buckets = TokenBuckets(RateLimit(rate_per_s=1, burst=2))
    admitted(buckets, "flood", [0.0] * 50)
    assert buckets.wait("flood", 0.0) > 0
    assert buckets.wait("calm", 0.0) == 0.0


def test_memory_is_bounded_and_forgetting_only_forgives() -> None:
    """Beyond max_keys the least recent key is forgotten and starts full again."""
    buckets = TokenBuckets(RateLimit(rate_per_s=1, burst=1), max_keys=3)
    for key in ("a", "b", "c", "d"):
        buckets.spend(key, 0.0)
    assert len(buckets) == 3
    assert buckets.wait("a", 0.0) == 0.0  # forgotten: full bucket
    assert buckets.wait("d", 0.0) == pytest.approx(1.0)


def test_a_limit_needs_a_positive_rate_and_burst() -> None:
    """Zero or negative settings are refused."""
    with pytest.raises(ValueError, match="positive rate"):
        RateLimit(rate_per_s=0, burst=1)
    with pytest.raises(ValueError, match="positive rate"):
        RateLimit(rate_per_s=1, burst=0)


@settings(max_examples=50, deadline=None)
@given(
    rate=st.floats(0.5, 20),
    burst=st.integers(1, 30),
    gaps=st.lists(st.floats(0, 2), min_size=1, max_size=200),
)
def test_admitted_never_exceeds_burst_plus_rate_times_elapsed(
    rate: float, burst: int, gaps: list[float]
) -> None:
    """Over any request pattern, admissions are at most burst + rate * elapsed time."""
    buckets = TokenBuckets(RateLimit(rate_per_s=rate, burst=burst))
    times, now = [], 0.0
    for gap in gaps:
        now += gap
        times.append(now)
    assert admitted(buckets, "k", times) <= burst + rate * (times[-1] - times[0]) + 1e-9
