"""The pluggable relay bench: counting, timing and loading a relay callable."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator

import pytest

from bench import relay_bench


def _clock(*readings: float) -> Callable[[], float]:
    values: Iterator[float] = iter(readings)
    return lambda: next(values)


def _message(events: int) -> bytes:
    return json.dumps({"events": [{"evt": "open"}] * events}).encode()


def factory() -> relay_bench.Process:
    """A relay stand-in that does nothing (used by the loader test)."""
    return lambda _data: None


def test_measure_times_every_message_after_untimed_warmup() -> None:
    """Warm-up calls are not timed; figures divide the timed span by messages and events."""
    seen: list[bytes] = []
    messages = [_message(5)] * 4
    result = relay_bench.measure(
        seen.append, messages, warmup=2, cpu_clock=_clock(1.0, 3.0), wall_clock=_clock(10.0, 14.0)
    )
    assert len(seen) == 6
    assert (result.messages, result.events) == (4, 20)
    assert result.events_per_second_per_core == pytest.approx(10.0)
    assert result.cpu_ms_per_message == pytest.approx(500.0)
    assert result.wall_ms_per_message == pytest.approx(1000.0)
    assert result.cpu_ms_per_event == pytest.approx(100.0)
    use = result.function_use(concurrency=4)
    assert (use.cpu_seconds, use.wall_seconds, use.concurrency) == (0.5, 1.0, 4)


def test_measure_refuses_an_empty_workload() -> None:
    """There is nothing to divide by without messages."""
    with pytest.raises(ValueError, match="no messages"):
        relay_bench.measure(lambda _data: None, [])


def test_client_batch_messages_are_what_ingest_publishes() -> None:
    """Each bench request becomes one client-batch message holding all its events."""
    from loyjoy_relay.core.events import ClientBatch

    messages = relay_bench.client_batch_messages(batch=5, count=3)
    assert len(messages) == 3
    assert all(len(ClientBatch.from_message(m).events) == 5 for m in messages)


def test_load_process_calls_the_named_factory() -> None:
    """``module:factory`` imports the module and returns what the factory makes."""
    process = relay_bench.load_process("tests.bench.test_relay_bench:factory")
    assert process(b"{}") is None
    with pytest.raises(ValueError, match="module:factory"):
        relay_bench.load_process("tests.bench.test_relay_bench")
