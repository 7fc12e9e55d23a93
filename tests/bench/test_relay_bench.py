"""The relay bench: timing with the shipped fakes, counting log bytes, and its messages."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from loyjoy_relay.core.events import ClientBatch

from bench import relay_bench


def _clock(*readings: float) -> Callable[[], float]:
    values: Iterator[float] = iter(readings)
    return lambda: next(values)


def _message(events: int) -> bytes:
    return json.dumps({"events": [{"evt": "open"}] * events}).encode()


def test_measure_times_only_the_timed_messages_and_counts_their_log_bytes() -> None:
    """Warm-up calls are neither timed nor counted; figures divide by messages and events."""
    seen: list[bytes] = []
    log = relay_bench.ByteCounter()

    def process(message: bytes) -> None:
        seen.append(message)
        log.write("x" * 99 + "\n")

    result = relay_bench.measure(
        process,
        [_message(5)] * 4,
        warmup=[_message(1)] * 2,
        log=log,
        cpu_clock=_clock(1.0, 3.0),
        wall_clock=_clock(10.0, 14.0),
    )
    assert len(seen) == 6
    assert (result.messages, result.events, result.log_bytes, result.log_lines) == (4, 20, 400, 4)
    assert result.events_per_second_per_core == pytest.approx(10.0)
    assert result.cpu_ms_per_message == pytest.approx(500.0)
    assert result.wall_ms_per_message == pytest.approx(1000.0)
    assert result.log_bytes_per_event == pytest.approx(20.0)
    use = result.function_use(concurrency=4)
    assert (use.cpu_seconds, use.wall_seconds, use.concurrency) == (0.5, 1.0, 4)


def test_measure_refuses_an_empty_workload() -> None:
    """There is nothing to divide by without messages."""
    with pytest.raises(ValueError, match="no messages"):
        relay_bench.measure(lambda _data: None, [])


def test_client_batch_messages_are_what_ingest_publishes() -> None:
    """Each bench request becomes one client-batch message holding all its events."""
    messages = relay_bench.client_batch_messages(batch=5, count=3)
    assert len(messages) == 3
    assert all(len(ClientBatch.from_message(m).events) == 5 for m in messages)


def test_the_relay_with_fakes_relays_and_logs_one_line_per_message() -> None:
    """The shipped relay over the fakes handles bench messages: a line each, events sent."""
    log = relay_bench.ByteCounter()
    process = relay_bench.relay_with_fakes(log)
    reports = [process(m) for m in relay_bench.client_batch_messages(batch=5, count=4)]
    assert log.lines == 4
    assert sum(r.forwarded + r.anonymized for r in reports) == 20  # type: ignore[attr-defined]


def test_byte_counter_counts_utf8_bytes() -> None:
    """Bytes, not characters: Cloud Logging bills bytes."""
    counter = relay_bench.ByteCounter()
    counter.write("→\n")
    assert (counter.bytes, counter.lines) == (4, 1)


def test_a_revision_is_exported_with_its_own_package_on_the_path(tmp_path: Path) -> None:
    """``--compare REV`` serves REV's ingest with REV's package first on the path."""
    from bench import revision

    exported = revision.checkout("HEAD", into=tmp_path)
    assert exported.ingest_source.is_file()
    path = Path(exported.environment()["PYTHONPATH"])
    assert (path / "loyjoy_relay" / "service" / "ingest.py").is_file()
    assert not (path / "ingest").exists()  # Flask would take it for the app's package
