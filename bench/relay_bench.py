"""The relay's cost per message and per event, in-process, given its processing callable.

Pluggable: the relay function is built elsewhere, so this module takes any
``process(message_data: bytes) -> None`` (the work the relay does for one Pub/Sub message:
decode, ledger, decide, map, validate, send) and a list of message bodies, and measures:

- events per second per core: events / CPU seconds of this process (all its threads);
- CPU and wall milliseconds per message and per event.

Wire it with ``python -m bench.run --relay-process package.module:factory`` where
``factory()`` returns the callable (it is called once, so clients are made outside the
timing, as a warm instance has them). Run the GA4 stand-in in another process: CPU used
in this process is counted as the relay's.
"""

from __future__ import annotations

import importlib
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from bench import cost

Process = Callable[[bytes], None]


@dataclass(frozen=True)
class RelayBenchResult:
    """What processing ``messages`` messages holding ``events`` events took."""

    messages: int
    events: int
    cpu_seconds: float
    wall_seconds: float

    @property
    def events_per_second_per_core(self) -> float:
        """Events processed per CPU second."""
        return self.events / self.cpu_seconds if self.cpu_seconds else float("inf")

    @property
    def cpu_ms_per_message(self) -> float:
        """CPU milliseconds per message."""
        return 1000 * self.cpu_seconds / self.messages

    @property
    def wall_ms_per_message(self) -> float:
        """Wall milliseconds per message, one message at a time."""
        return 1000 * self.wall_seconds / self.messages

    @property
    def cpu_ms_per_event(self) -> float:
        """CPU milliseconds per event."""
        return 1000 * self.cpu_seconds / self.events

    def function_use(self, concurrency: int = 8) -> cost.FunctionUse:
        """The relay's use per message, for the cost model."""
        return cost.FunctionUse(
            cpu_seconds=self.cpu_seconds / self.messages,
            wall_seconds=self.wall_seconds / self.messages,
            concurrency=concurrency,
        )

    def as_json(self) -> dict[str, Any]:
        """The figures, derived ones included."""
        return {
            **asdict(self),
            "events_per_second_per_core": round(self.events_per_second_per_core, 1),
            "cpu_ms_per_message": round(self.cpu_ms_per_message, 3),
            "wall_ms_per_message": round(self.wall_ms_per_message, 3),
            "cpu_ms_per_event": round(self.cpu_ms_per_event, 3),
        }


def event_count(message: bytes) -> int:
    """Events in a client-batch message body."""
    return len(json.loads(message)["events"])


def measure(
    process: Process,
    messages: Sequence[bytes],
    *,
    warmup: int = 10,
    cpu_clock: Callable[[], float] = time.process_time,
    wall_clock: Callable[[], float] = time.perf_counter,
) -> RelayBenchResult:
    """Call ``process`` on each message in turn after ``warmup`` untimed calls."""
    if not messages:
        raise ValueError("no messages to process")
    for message in messages[:warmup]:
        process(message)
    events = sum(event_count(message) for message in messages)
    cpu_started, wall_started = cpu_clock(), wall_clock()
    for message in messages:
        process(message)
    return RelayBenchResult(
        messages=len(messages),
        events=events,
        cpu_seconds=cpu_clock() - cpu_started,
        wall_seconds=wall_clock() - wall_started,
    )


def client_batch_messages(batch: int, count: int) -> list[bytes]:
    """Pub/Sub message bodies as ingest makes them from ``count`` bench requests."""
    from loyjoy_relay.core.events import parse_request

    from bench.workload import make_bodies

    received_at = int(time.time() * 1000)
    messages: list[bytes] = []
    for body in make_bodies(batch, count):
        parsed = parse_request(body, received_at=received_at, bot_allowed=lambda _: True)
        messages.extend(client_batch.to_message()[0] for client_batch in parsed.batches)
    return messages


def load_process(spec: str) -> Process:
    """``package.module:factory`` → the callable ``factory()`` returns."""
    module_name, _, attribute = spec.partition(":")
    if not attribute:
        raise ValueError(f"{spec!r}: expected package.module:factory")
    factory = getattr(importlib.import_module(module_name), attribute)
    process: Process = factory()
    return process
