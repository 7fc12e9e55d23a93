"""CPU per step of an ingest request, in-process, with the shipped code; its log bytes.

Each step runs a few hundred times under ``time.process_time``, which counts every thread
of this process (the Pub/Sub client's and gRPC's included), after one untimed call. The
whole request runs through ``create_app``'s test client at each batch size, its log line
(ingest logs one per request) counted in bytes.
"""

from __future__ import annotations

import contextlib
import io
import os
import time
from collections.abc import Callable, Iterator
from typing import Any

from bench.workload import BATCH_SIZES, make_bodies


@contextlib.contextmanager
def _environment(env: dict[str, str]) -> Iterator[None]:
    previous = {name: os.environ.get(name) for name in env}
    os.environ.update(env)
    try:
        yield
    finally:
        for name, value in previous.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _cpu_ms(step: Callable[[], object], repetitions: int) -> float:
    step()  # warm: first-call imports and channel set-up are cold start, not per request
    started = time.process_time()
    for _ in range(repetitions):
        step()
    return round(1000 * (time.process_time() - started) / repetitions, 3)


def measure(env: dict[str, str], repetitions: int = 300) -> dict[str, Any]:
    """CPU milliseconds per step of an ingest request, and its log bytes, in this process."""
    from functions_framework import create_app
    from loyjoy_relay.adapters.logs import JsonLogger
    from loyjoy_relay.adapters.ports import OutgoingMessage
    from loyjoy_relay.adapters.pubsub import PubSubPublisher
    from loyjoy_relay.core.events import parse_request

    from bench.relay_bench import ByteCounter
    from bench.servers import INGEST_SOURCE
    from bench.workload import ORIGIN

    figures: dict[str, Any] = {"repetitions": repetitions, "cpu_ms": {}, "log_bytes": {}}
    cpu = figures["cpu_ms"]
    with _environment(env):
        publisher = PubSubPublisher(env["GOOGLE_CLOUD_PROJECT"], env["RELAY_TOPIC"])
        for size in BATCH_SIZES:
            bodies = iter(make_bodies(size, repetitions + 1) * 2)

            def parse(bodies: Iterator[bytes] = bodies) -> object:
                return parse_request(
                    next(bodies), received_at=int(time.time() * 1000), bot_allowed=lambda _: True
                )

            cpu[f"parse_request, batch {size}"] = _cpu_ms(parse, repetitions)
        parsed = parse_request(
            make_bodies(5, 1)[0], received_at=int(time.time() * 1000), bot_allowed=lambda _: True
        )
        data, attributes = parsed.batches[0].to_message()

        def message() -> list[OutgoingMessage]:
            return [OutgoingMessage(data, attributes)]

        cpu["publish_all, one caller (1 message, 1 RPC)"] = _cpu_ms(
            lambda: publisher.publish_all(message()), repetitions
        )
        sink = JsonLogger("ingest", io.StringIO())
        cpu["JsonLogger.log (one request line)"] = _cpu_ms(
            lambda: sink.info("ingest request", status=202, latency_ms=1.0, accepted=5),
            repetitions,
        )
        app = create_app("ingest", str(INGEST_SOURCE), "http")  # type: ignore[no-untyped-call]
        client = app.test_client()
        headers = {"Content-Type": "application/json", "Origin": ORIGIN}
        for size in BATCH_SIZES:
            bodies = make_bodies(size, repetitions)
            log = ByteCounter()
            with contextlib.redirect_stdout(log):
                client.post("/", data=make_bodies(size, 1, seed=3)[0], headers=headers)  # warm
                log.bytes = 0
                started = time.process_time()
                for body in bodies:
                    client.post("/", data=body, headers=headers)
                spent = time.process_time() - started
            cpu[f"whole request via create_app test client, batch {size}"] = round(
                1000 * spent / repetitions, 3
            )
            figures["log_bytes"][size] = round(log.bytes / repetitions, 1)
    return figures
