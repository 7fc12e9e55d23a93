"""Where ingest's CPU goes: a py-spy profile under load and an in-process breakdown.

- ``profile_server`` samples the gunicorn worker with ``py-spy --gil`` (only the thread
  holding the GIL, i.e. Python doing work) while wrk loads it, and groups the samples by
  the layer they are in. CPU outside the GIL (gRPC's C core, thread start-up) does not
  show there, so the server's total CPU is reported beside it.
- ``breakdown`` times each step of a request in-process (``time.process_time``, all
  threads of the process, the gRPC ones included) with the shipped code.
"""

from __future__ import annotations

import collections
import contextlib
import io
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from bench import load
from bench.procstat import tree_pids
from bench.workload import BATCH_SIZES, make_bodies
from tests.support.processes import ServerProcess

PY_SPY = Path(sys.executable).parent / "py-spy"
# Layers, checked in order: a sample counts for the first layer any of its frames is in.
LAYERS: tuple[tuple[str, str], ...] = (
    ("publish: google-cloud-pubsub client + gRPC", r"pubsub_v1/|grpc/|api_core/|proto/"),
    ("logging: JsonLogger.log", r"JsonLogger\.log"),
    ("parse + validate: events.parse_request", r"parse_request|pydantic"),
    ("ingest_http other (CORS, response JSON)", r"loyjoy_relay/"),
    ("flask + functions-framework", r"flask/|werkzeug/|functions_framework/"),
    ("gunicorn (HTTP parsing, sockets)", r"gunicorn/"),
)
_FRAME = re.compile(r"^(?P<name>.*) \((?P<file>[^()]*?)(?::\d+)?\)$")


def _frames(stack: str) -> list[tuple[str, str]]:
    frames = []
    for frame in stack.split(";"):
        match = _FRAME.match(frame)
        if match:
            frames.append((match["name"], match["file"]))
    return frames


def summarise(folded: str, top: int = 12) -> dict[str, Any]:
    """Layer shares and the top functions (inclusive, self) of py-spy raw output."""
    layers: collections.Counter[str] = collections.Counter()
    inclusive: collections.Counter[str] = collections.Counter()
    self_time: collections.Counter[str] = collections.Counter()
    total = 0
    for line in folded.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not count_text.isdigit():
            continue
        count, frames = int(count_text), _frames(stack)
        total += count
        text = ";".join(f"{name} ({file})" for name, file in frames)
        layer = next((name for name, pattern in LAYERS if re.search(pattern, text)), "other")
        layers[layer] += count
        labels = {f"{name} ({_short(file)})" for name, file in frames}
        for label in labels:
            inclusive[label] += count
        if frames:
            self_time[f"{frames[-1][0]} ({_short(frames[-1][1])})"] += count

    def shares(counter: collections.Counter[str], limit: int) -> list[tuple[str, float]]:
        return [(k, round(100 * v / max(total, 1), 1)) for k, v in counter.most_common(limit)]

    interesting = collections.Counter(
        {
            k: v
            for k, v in inclusive.items()
            if re.search(r"loyjoy_relay|pubsub_v1|grpc|api_core|proto/|JsonLogger", k)
        }
    )
    return {
        "samples": total,
        "layers_percent": dict(shares(layers, len(LAYERS) + 1)),
        "top_inclusive_percent": shares(interesting, top),
        "top_self_percent": shares(self_time, top),
    }


def _short(file: str) -> str:
    return file.split("site-packages/")[-1].split("functions/")[-1]


def profile_server(
    server: ServerProcess, bodies: list[bytes], connections: int, seconds: float = 8.0
) -> dict[str, Any]:
    """Sample the server's worker with py-spy while wrk loads it."""
    if not PY_SPY.exists() and shutil.which("py-spy") is None:
        return {"status": "skipped: py-spy is not installed (pip install -e '.[dev]')"}
    assert server.process is not None
    workers = [pid for pid in tree_pids(server.process.pid) if pid != server.process.pid]
    with tempfile.TemporaryDirectory() as directory:
        output = Path(directory) / "ingest.folded"
        spy = subprocess.Popen(
            [
                str(PY_SPY if PY_SPY.exists() else "py-spy"),
                "record",
                "--gil",
                "--rate",
                "100",
                "--format",
                "raw",
                "--duration",
                str(round(seconds)),
                "--output",
                str(output),
                "--pid",
                str(workers[0] if workers else server.process.pid),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        result = load.run_wrk(
            server.url,
            bodies,
            connections=connections,
            seconds=seconds + 1,
            server_pid=server.process.pid,
        )
        _, errors = spy.communicate(timeout=60)
        if spy.returncode != 0 or not output.exists():
            return {"status": f"skipped: py-spy failed: {errors.strip()[-300:]}"}
        summary = summarise(output.read_text())
    gil_seconds = summary["samples"] / 100
    return {
        "status": "measured",
        "tool": "py-spy record --gil --rate 100 (samples only the thread holding the GIL)",
        "batch": 5,
        "load": result.as_json(),
        "gil_busy_percent_of_server_cpu": round(
            100 * gil_seconds / max(result.server_cpu_seconds * seconds / result.seconds, 1e-9), 1
        ),
        **summary,
    }


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


def breakdown(env: dict[str, str], repetitions: int = 300) -> dict[str, Any]:
    """CPU milliseconds per step of an ingest request, measured in this process."""
    from functions_framework import create_app
    from loyjoy_relay.events import parse_request
    from loyjoy_relay.logs import JsonLogger
    from loyjoy_relay.publishing import OutgoingMessage, PubSubPublisher

    from bench.direct_publisher import DirectPublisher
    from bench.servers import INGEST_SOURCE
    from bench.workload import ORIGIN

    figures: dict[str, Any] = {"repetitions": repetitions, "cpu_ms": {}}
    cpu = figures["cpu_ms"]
    with _environment(env):
        library = PubSubPublisher(env["GOOGLE_CLOUD_PROJECT"], env["RELAY_TOPIC"])
        direct = DirectPublisher(env["GOOGLE_CLOUD_PROJECT"], env["RELAY_TOPIC"])
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
        cpu["publish_all, bench DirectPublisher (1 message)"] = _cpu_ms(
            lambda: direct.publish_all(message()), repetitions
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
