"""The end-to-end harness against a stand-in pipeline that forwards each batch at once."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from bench import end_to_end


class _Pipeline(BaseHTTPRequestHandler):
    """POST / takes a batch and puts one MP request per client into GET /events."""

    received: list[dict[str, Any]] = []  # noqa: RUF012 (shared by the handler threads)

    def do_POST(self) -> None:
        batch = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        by_client: dict[str, list[Any]] = {}
        for event in batch["events"]:
            by_client.setdefault(event["client_id"], []).append({"name": event["evt"]})
        for client_id, events in by_client.items():
            self.received.append(
                {
                    "received_at": time.time_ns() // 1_000_000,
                    "path": "/mp/collect",
                    "measurement_id": "G-BENCH1",
                    "body": {"client_id": client_id, "events": events},
                }
            )
        self._answer(202, {"accepted": len(batch["events"]), "rejected": []})

    def do_GET(self) -> None:
        self._answer(200, {"requests": self.received})

    def do_DELETE(self) -> None:
        self.received.clear()
        self._answer(204, None)

    def _answer(self, status: int, body: Any) -> None:
        data = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: Any) -> None:
        """Quiet."""


@pytest.fixture
def pipeline_url() -> Iterator[str]:
    """A stand-in pipeline on a free loopback port."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Pipeline)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_every_batch_is_matched_to_its_mp_request_by_client_id(pipeline_url: str) -> None:
    """All 20 batches arrive; latencies are non-negative and ordered p50 ≤ p99 ≤ max."""
    result = end_to_end.measure(
        pipeline_url, pipeline_url, batches=20, batch=5, rate_per_second=200.0, timeout=10
    )
    assert (result.sent, result.arrived) == (20, 20)
    latencies = [result.p50_ms, result.p99_ms, result.max_ms]
    assert None not in latencies
    assert 0 <= latencies[0] <= latencies[1] <= latencies[2]  # type: ignore[operator]


def test_bench_batches_hold_only_forwarded_events_of_one_client() -> None:
    """No anonymous_always event (it would get a fresh client id) and one client per batch."""
    import random

    body = json.loads(end_to_end.tagged_body("1.2", 20, random.Random(1), 1_700_000_000_000))
    assert {event["evt"] for event in body["events"]} <= set(end_to_end.FORWARDED_EVENTS)
    assert {event["client_id"] for event in body["events"]} == {"1.2"}
    assert all(event["consent"]["profiling"] == "granted" for event in body["events"])
