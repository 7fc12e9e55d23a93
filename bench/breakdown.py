"""CPU per step of an ingest request, in-process, with the shipped code.

Each step runs a few hundred times under ``time.process_time``, which counts every thread
of this process (the Pub/Sub client's and gRPC's included), after one untimed call.
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
    """CPU milliseconds per step of an ingest request, measured in this process."""
    from functions_framework import create_app
    from loyjoy_relay.adapters.logs import JsonLogger
    from loyjoy_relay.adapters.ports import OutgoingMessage
    from loyjoy_relay.adapters.pubsub import PubSubPublisher
    from loyjoy_relay.core.events import parse_request

    from bench.servers import INGEST_SOURCE
    from bench.workload import ORIGIN

    figures: dict[str, Any] = {"repetitions": repetitions, "cpu_ms": {}}
    cpu = figures["cpu_ms"]
    with _environment(env):
        library = PubSubPublisher(env["GOOGLE_CLOUD_PROJECT"], env["RELAY_TOPIC"])
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
        counter = iter(range(10**9))

        def message() -> list[OutgoingMessage]:
            return [OutgoingMessage(data, attributes, f"client-{next(counter)}")]

        cpu["publish_all, shipped PubSubPublisher (1 message)"] = _cpu_ms(
            lambda: library.publish_all(message()), repetitions
        )
        sink = JsonLogger("ingest", io.StringIO())
        cpu["JsonLogger.log (one request line)"] = _cpu_ms(
            lambda: sink.info("ingest request", status=202, latency_ms=1.0, accepted=5),
            repetitions,
        )
        app = create_app("ingest", str(INGEST_SOURCE), "http")  # type: ignore[no-untyped-call]
        client = app.test_client()
        body = make_bodies(5, 1)[0]
        headers = {"Content-Type": "application/json", "Origin": ORIGIN}
        with contextlib.redirect_stdout(io.StringIO()):
            cpu["whole request via create_app test client, batch 5"] = _cpu_ms(
                lambda: client.post("/", data=body, headers=headers), repetitions
            )
    return figures
