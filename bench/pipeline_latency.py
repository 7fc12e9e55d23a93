"""End to end: from the POST to ingest until the GA4 stand-in holds the event.

Runs the emulator pipeline (``loyjoy_relay.devstack.pipeline``: ingest and relay under
functions-framework, the Pub/Sub emulator's push subscription, Firestore, the stand-in),
posts single-event batches of distinct clients at a steady pace and times each one's
arrival. Also reports what the relay used per message: MP requests per event and Firestore
operations per message, counted by the relay's own logs and the stand-in.
"""

from __future__ import annotations

import json
import statistics
import time
import urllib.request
import uuid
from dataclasses import dataclass
from typing import Any

from loyjoy_relay.devstack.emulators import Emulator, wait_until
from loyjoy_relay.devstack.pipeline import EmulatorPipeline, PipelineOptions


@dataclass(frozen=True)
class LatencyResult:
    """Latency from POST to arrival at the stand-in, in ms."""

    events: int
    p50_ms: float
    p99_ms: float
    max_ms: float
    mp_requests_per_event: float

    def as_json(self) -> dict[str, Any]:
        """A JSON-ready view."""
        return dict(self.__dict__)


def _post(url: str, client_id: str, batch: int) -> None:
    now = int(time.time() * 1000)
    events = [
        {
            "evt": "start",
            "bot_id": "bench-bot",
            "client_id": client_id,
            "event_id": str(uuid.uuid4()),
            "ts": now - batch + i,
            "consent": {"profiling": "granted", "at": now - 10_000},
        }
        for i in range(batch)
    ]
    body = json.dumps({"sent_at": now, "events": events}).encode()
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        response.read()


def measure(
    pubsub: Emulator,
    firestore: Emulator,
    *,
    requests: int = 100,
    batch: int = 5,
    pace_s: float = 0.05,
) -> LatencyResult:
    """Post ``requests`` batches of ``batch`` events and time each until it reached GA4."""
    pipeline = EmulatorPipeline(pubsub, firestore, PipelineOptions(project="bench-project")).start()
    try:
        assert pipeline.ingest is not None
        assert pipeline.sink is not None
        sink = pipeline.sink
        posted: dict[str, float] = {}
        for index in range(requests):
            client_id = f"{index + 1}.{uuid.uuid4().int % 10**9}"
            posted[client_id] = time.time() * 1000
            _post(pipeline.ingest.url, client_id, batch)
            time.sleep(pace_s)  # the pace of the offered load, not synchronisation
        wait_until(
            lambda: sum(len(r.body.get("events", [])) for r in sink.records()) >= requests * batch,
            timeout=120,
            what="every event at the GA4 stand-in",
        )
        arrival: dict[str, int] = {}
        for record in sink.records():
            client_id = record.body.get("client_id")
            arrival[client_id] = max(arrival.get(client_id, 0), record.received_at)
        latencies = sorted(arrival[c] - t for c, t in posted.items())
        return LatencyResult(
            events=requests * batch,
            p50_ms=round(statistics.median(latencies), 1),
            p99_ms=round(latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))], 1),
            max_ms=round(latencies[-1], 1),
            mp_requests_per_event=round(len(sink.records()) / (requests * batch), 3),
        )
    finally:
        pipeline.stop()


if __name__ == "__main__":
    import os

    pubsub, firestore = Emulator("pubsub").start(), Emulator("firestore").start()
    os.environ.update({**pubsub.env, **firestore.env})
    try:
        print(json.dumps(measure(pubsub, firestore).as_json(), indent=2))
    finally:
        pubsub.stop()
        firestore.stop()
