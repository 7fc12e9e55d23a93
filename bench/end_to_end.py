"""End to end: from the POST to ingest until the GA4 stand-in holds the event (pluggable).

Needs a running pipeline (ingest → Pub/Sub → relay → ``loyjoy-relay ga4 sink``), e.g.
``loyjoy-relay dev``; ``python -m bench.run --e2e-ingest URL --e2e-sink URL`` measures it.
Each batch comes from its own client id, with a granted consent stamp and events that the
consent rules forward (never the ``anonymous_always`` ones, which get a fresh client id),
so the MP request that carries it names that client id. A batch has arrived when the
sink's ``GET /events`` holds MP requests with all its events; its latency is the sink's
``received_at`` of the last of them minus the moment the POST was sent.
"""

from __future__ import annotations

import json
import random
import statistics
import time
import urllib.request
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from bench.workload import ORIGIN, make_event

FORWARDED_EVENTS = ("start", "data_collection_answer", "link_clicked", "end")


@dataclass(frozen=True)
class EndToEndResult:
    """How many batches arrived, and how long they took (ms)."""

    sent: int
    arrived: int
    p50_ms: float | None
    p99_ms: float | None
    max_ms: float | None

    def as_json(self) -> dict[str, Any]:
        """The figures as a dict."""
        return asdict(self)


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


def tagged_body(client_id: str, batch: int, rng: random.Random, now_ms: int) -> bytes:
    """A batch of ``batch`` forwarded events, all from ``client_id``."""
    events = []
    for _ in range(batch):
        event = make_event(rng, client_id, now_ms)
        event["evt"] = rng.choice(FORWARDED_EVENTS)
        events.append(event)
    return json.dumps({"sent_at": now_ms, "events": events}).encode()


def _call(url: str, method: str, body: bytes | None = None) -> bytes:
    headers = {"Content-Type": "application/json", "Origin": ORIGIN} if body else {}
    request = urllib.request.Request(url, data=body, method=method, headers=headers)
    with urllib.request.urlopen(request, timeout=10) as response:
        return bytes(response.read())


def sink_arrivals(sink_url: str) -> dict[str, tuple[int, int]]:
    """Per client id in the sink: (events received, received_at of the last MP request)."""
    payload = json.loads(_call(f"{sink_url}/events", "GET"))
    arrivals: dict[str, tuple[int, int]] = {}
    for request in payload["requests"]:
        client_id = request["body"].get("client_id")
        if client_id is None:
            continue
        count, last = arrivals.get(client_id, (0, 0))
        arrivals[client_id] = (
            count + len(request["body"].get("events", [])),
            max(last, int(request["received_at"])),
        )
    return arrivals


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def measure(
    ingest_url: str,
    sink_url: str,
    *,
    batches: int = 200,
    batch: int = 5,
    rate_per_second: float = 20.0,
    timeout: float = 60.0,
    clock_ms: Callable[[], int] = _now_ms,
) -> EndToEndResult:
    """POST ``batches`` batches at ``rate_per_second``; wait until the sink holds them."""
    _call(f"{sink_url}/events", "DELETE")
    rng = random.Random(20)
    run = f"{rng.randrange(10**9, 10**10)}"
    sent: dict[str, int] = {}
    started = time.monotonic()
    for index in range(batches):
        client_id = f"{run}.{1_700_000_000 + index}"
        body = tagged_body(client_id, batch, rng, clock_ms())
        sent[client_id] = clock_ms()
        _call(ingest_url, "POST", body)
        pause = started + (index + 1) / rate_per_second - time.monotonic()
        if pause > 0:
            time.sleep(pause)  # pacing the load, not waiting for a result
    deadline = time.monotonic() + timeout
    latencies: dict[str, float] = {}
    while time.monotonic() < deadline and len(latencies) < len(sent):
        for client_id, (count, last) in sink_arrivals(sink_url).items():
            if client_id in sent and count >= batch:
                latencies[client_id] = last - sent[client_id]
        time.sleep(0.2)  # polling the sink: it offers nothing to wait on
    values = list(latencies.values())
    return EndToEndResult(
        sent=len(sent),
        arrived=len(values),
        p50_ms=statistics.median(values) if values else None,
        p99_ms=_percentile(values, 0.99) if values else None,
        max_ms=max(values) if values else None,
    )


def measure_pipeline(pubsub: Any, firestore: Any, *, batches: int = 200) -> dict[str, Any]:
    """Start the emulator pipeline (as ``loyjoy-relay dev`` does) and measure it end to end.

    Also counts what the relay used: MP requests per event (from the GA4 stand-in).
    """
    from loyjoy_relay.devstack.pipeline import EmulatorPipeline, PipelineOptions

    pipeline = EmulatorPipeline(
        pubsub, firestore, PipelineOptions(project=pubsub.project, topic="bench-e2e")
    ).start()
    try:
        assert pipeline.ingest is not None
        assert pipeline.sink is not None
        result = measure(pipeline.ingest.url, pipeline.sink.url, batches=batches)
        collects = [r for r in pipeline.sink.records() if r.path == "/mp/collect"]
        events = sum(len(r.body.get("events", [])) for r in collects)
        return {
            **result.as_json(),
            "topology": "ingest → Pub/Sub emulator push → relay → Firestore emulator → stand-in",
            "mp_requests_per_event": round(len(collects) / events, 3) if events else None,
        }
    finally:
        pipeline.stop()
