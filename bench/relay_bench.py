"""The relay in-process: events per second per core, and log bytes per event.

The shipped relay service (``build_relay_service``) with the shipped fakes: the in-memory
client ledger (consent history and dedup), ``RecordingGa4Transport`` behind the real ``Ga4Sender``,
``SequentialClientIds``, fixed pseudonyms, dead letters kept in memory, and the real
``JsonLogger`` writing into a byte counter. So this measures the relay's own work per
message (decode, consent, map, redact, validate, serialise, log) without Firestore or the
network; what Firestore adds is measured against the emulator by ``bench.firestore_run``.

The messages are what ingest publishes for the load bench's request bodies
(``bench.workload``, built from the shipped event factory).
"""

from __future__ import annotations

import io
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from bench import cost
from bench.workload import BATCH_SIZES, make_bodies

MEASUREMENT_ID = "G-BENCH12345"
Process = Callable[[bytes], object]


class ByteCounter(io.TextIOBase):
    """A text stream that keeps only the count of UTF-8 bytes and lines written to it."""

    def __init__(self) -> None:
        self.bytes = 0
        self.lines = 0

    def writable(self) -> bool:
        """It is."""
        return True

    def write(self, text: str) -> int:
        """Count ``text``."""
        self.bytes += len(text.encode())
        self.lines += text.count("\n")
        return len(text)


@dataclass(frozen=True)
class RelayBenchResult:
    """What processing ``messages`` messages holding ``events`` events took."""

    messages: int
    events: int
    cpu_seconds: float
    wall_seconds: float
    log_bytes: int = 0
    log_lines: int = 0

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
    def log_bytes_per_event(self) -> float:
        """Bytes of log lines (at INFO) per event."""
        return self.log_bytes / self.events

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
            "cpu_ms_per_event": round(self.cpu_ms_per_message * self.messages / self.events, 3),
            "log_bytes_per_event": round(self.log_bytes_per_event, 1),
            "log_lines_per_message": round(self.log_lines / self.messages, 2),
        }


def event_count(message: bytes) -> int:
    """Events in a client-batch message body."""
    return len(json.loads(message)["events"])


def measure(
    process: Process,
    messages: Sequence[bytes],
    *,
    warmup: Sequence[bytes] = (),
    log: ByteCounter | None = None,
    cpu_clock: Callable[[], float] = time.process_time,
    wall_clock: Callable[[], float] = time.perf_counter,
) -> RelayBenchResult:
    """Call ``process`` on each of ``warmup`` (untimed), then on each of ``messages``.

    Warm-up messages must be others than the timed ones: a message seen twice is a
    duplicate the second time, and costs the relay almost nothing.
    """
    if not messages:
        raise ValueError("no messages to process")
    for message in warmup:
        process(message)
    events = sum(event_count(message) for message in messages)
    log_before = (log.bytes, log.lines) if log else (0, 0)
    cpu_started, wall_started = cpu_clock(), wall_clock()
    for message in messages:
        process(message)
    cpu, wall = cpu_clock() - cpu_started, wall_clock() - wall_started
    return RelayBenchResult(
        messages=len(messages),
        events=events,
        cpu_seconds=cpu,
        wall_seconds=wall,
        log_bytes=log.bytes - log_before[0] if log else 0,
        log_lines=log.lines - log_before[1] if log else 0,
    )


def client_batch_messages(batch: int, count: int, seed: int = 8) -> list[bytes]:
    """Pub/Sub message bodies as ingest makes them from ``count`` bench requests."""
    from loyjoy_relay.core.events import parse_request

    received_at = time.time_ns() // 1_000_000
    messages: list[bytes] = []
    for body in make_bodies(batch, count, seed=seed):
        parsed = parse_request(body, received_at=received_at, bot_allowed=lambda _: True)
        messages.extend(client_batch.to_message()[0] for client_batch in parsed.batches)
    return messages


def relay_with_fakes(log: ByteCounter) -> Process:
    """The shipped relay service over the shipped fakes; its log lines go to ``log``."""
    from loyjoy_relay.adapters.dead_letters import DeadLetters
    from loyjoy_relay.adapters.fakes import (
        InMemoryConsentLedger,
        RecordingGa4Transport,
        RecordingPublisher,
        SequentialClientIds,
        fixed_pseudonyms,
    )
    from loyjoy_relay.adapters.ga4_sender import Ga4Sender
    from loyjoy_relay.adapters.logs import JsonLogger
    from loyjoy_relay.adapters.mapping_file import load_mapping
    from loyjoy_relay.adapters.rules_file import load_rules
    from loyjoy_relay.adapters.secret_manager import SecretProvider
    from loyjoy_relay.config import shipped_file
    from loyjoy_relay.core.ga4.routing import Ga4Property, SecretRef
    from loyjoy_relay.core.planner import Planner
    from loyjoy_relay.service.wiring import build_relay_service

    logger = JsonLogger("relay", log)
    relay = build_relay_service(
        planner=Planner(
            rules=load_rules(shipped_file("consent-rules.yaml")),
            mapping=load_mapping(shipped_file("ga4-mapping.yaml")),
            default_property=Ga4Property(MEASUREMENT_ID, SecretRef("value", "bench-secret")),
        ),
        ledger=InMemoryConsentLedger(),
        sender=Ga4Sender("https://ga4.invalid", transport=RecordingGa4Transport(), logger=logger),
        secrets=SecretProvider(),
        dead_letters=DeadLetters(RecordingPublisher()),
        logger=logger,
        pseudonyms=fixed_pseudonyms(),
        new_client_id=SequentialClientIds(),
    )
    return relay.process


def measure_with_fakes(
    messages_per_batch: int = 1000, batch_sizes: Sequence[int] = BATCH_SIZES
) -> dict[str, Any]:
    """Events/s per core and log bytes per event at each batch size (fresh relay each)."""
    figures: dict[str, Any] = {
        "relay": "build_relay_service with the shipped fakes (adapters/fakes.py)",
    }
    for size in batch_sizes:
        log = ByteCounter()
        result = measure(
            relay_with_fakes(log),
            client_batch_messages(size, messages_per_batch),
            warmup=client_batch_messages(size, 20, seed=1),
            log=log,
        )
        figures[f"batch_{size}"] = result.as_json()
    return figures
