"""Cold start: import a function module and serve its first request, in fresh processes.

Two views, each the median of several fresh processes:
- ``probe``: inside one fresh interpreter, the time to import functions-framework, to
  load the function module (its imports and module-level clients), and to serve the
  first request through ``create_app(...).test_client()``;
- ``server``: from spawning ``functions-framework`` (gunicorn) to the first answered POST,
  which is what a cold instance adds to its first visitor's request.
"""

from __future__ import annotations

import base64
import json
import os
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from bench.servers import ServerSettings, function_server
from bench.workload import ORIGIN

MARKER = "COLD_JSON "
_PROBE = """
import json, sys, time
t0 = time.perf_counter()
from functions_framework import create_app
t1 = time.perf_counter()
source, target, signature, body, headers = sys.argv[1:6]
app = create_app(target, source, signature)
t2 = time.perf_counter()
status = app.test_client().post("/", data=body.encode(), headers=json.loads(headers)).status_code
t3 = time.perf_counter()
print("COLD_JSON " + json.dumps({"framework_ms": (t1 - t0) * 1000, "module_ms": (t2 - t1) * 1000,
      "first_request_ms": (t3 - t2) * 1000, "status": status}))
"""


@dataclass(frozen=True)
class Target:
    """A function to start cold."""

    name: str
    source: Path
    target: str
    env: dict[str, str]
    signature: str = "http"  # or "cloudevent" (then give ``body`` and ``headers``)
    body: bytes | None = None  # the first request's body; None: the run's ingest body
    headers: dict[str, str] = field(
        default_factory=lambda: {"Content-Type": "application/json", "Origin": ORIGIN}
    )


def pubsub_cloudevent(message_data: bytes, attributes: dict[str, str] | None = None) -> bytes:
    """A structured-mode CloudEvent as a Pub/Sub push delivers it to a CloudEvent function.

    Use with ``headers={"Content-Type": "application/cloudevents+json"}`` for the relay.
    """
    return json.dumps(
        {
            "specversion": "1.0",
            "type": "google.cloud.pubsub.topic.v1.messagePublished",
            "source": "//pubsub.googleapis.com/projects/bench-project/topics/bench-events",
            "id": "cold-start-1",
            "datacontenttype": "application/json",
            "data": {
                "message": {
                    "data": base64.b64encode(message_data).decode(),
                    "attributes": attributes or {},
                    "messageId": "cold-start-1",
                },
                "subscription": "projects/bench-project/subscriptions/bench-relay",
            },
        }
    ).encode()


def _probe_once(target: Target, body: bytes) -> dict[str, float]:
    started = time.perf_counter()
    args = [str(target.source), target.target, target.signature, body.decode()]
    completed = subprocess.run(
        [sys.executable, "-c", _PROBE, *args, json.dumps(target.headers)],
        env={**os.environ, **target.env},
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    wall_ms = (time.perf_counter() - started) * 1000
    line = next(line for line in completed.stdout.splitlines() if line.startswith(MARKER))
    figures: dict[str, float] = json.loads(line.removeprefix(MARKER))
    if not 200 <= figures["status"] < 300:
        raise RuntimeError(f"{target.name}: first request answered {figures['status']}")
    return {**figures, "process_ms": wall_ms}


def _post(url: str, body: bytes, headers: dict[str, str]) -> int | None:
    request = urllib.request.Request(url, data=body, method="POST", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return None


def _server_once(target: Target, body: bytes, settings: ServerSettings) -> float:
    server = function_server(
        target.source, target.target, target.env, settings, signature=target.signature
    )
    args = [arg.replace("{port}", str(server.port)) for arg in server.args]
    started = time.perf_counter()
    process = subprocess.Popen(
        args,
        env={**os.environ, **server.env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        while (status := _post(server.url, body, target.headers)) is None:
            if process.poll() is not None or time.perf_counter() - started > 60:
                raise RuntimeError(f"{target.name} did not start")
            time.sleep(0.005)  # polling the port: nothing to wait on but the socket
        if not 200 <= status < 300:
            raise RuntimeError(f"{target.name}: first request answered {status}")
        return (time.perf_counter() - started) * 1000
    finally:
        server.process = process
        server.stop()


def measure(
    targets: list[Target], body: bytes, settings: ServerSettings, repetitions: int = 5
) -> dict[str, dict[str, float]]:
    """Median cold-start figures per target, over ``repetitions`` fresh processes each.

    The targets take turns, repetition by repetition, so that the shared machine's load
    drifting during the measurement weighs on each of them alike.
    """
    probes: dict[str, list[dict[str, float]]] = {target.name: [] for target in targets}
    servers: dict[str, list[float]] = {target.name: [] for target in targets}
    for _ in range(repetitions):
        for target in targets:
            first = target.body if target.body is not None else body
            probes[target.name].append(_probe_once(target, first))
            servers[target.name].append(_server_once(target, first, settings))
    results: dict[str, dict[str, float]] = {}
    for target in targets:
        results[target.name] = {
            key: round(statistics.median(probe[key] for probe in probes[target.name]), 1)
            for key in ("framework_ms", "module_ms", "first_request_ms", "process_ms")
        }
        results[target.name]["server_to_first_answer_ms"] = round(
            statistics.median(servers[target.name]), 1
        )
        results[target.name]["server_to_first_answer_range_ms"] = [
            round(min(servers[target.name]), 1),
            round(max(servers[target.name]), 1),
        ]
    return results


def import_profile(target: Target, top: int = 8) -> list[tuple[str, float]]:
    """The slowest imports (cumulative ms) of the function module beyond the framework's."""
    code = (
        "import functions_framework, flask, sys; "
        f"sys.path.insert(0, {str(target.source.parent)!r}); import main"
    )
    completed = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code],
        env={**os.environ, **target.env},
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    # -X importtime prints children before their parent; a top-level import has one space.
    lines = [line.removeprefix("import time:").split("|") for line in completed.stderr.splitlines()]
    rows = [
        (parts[2].rstrip(), int(parts[1]))
        for parts in lines
        if len(parts) == 3 and parts[1].strip().isdigit()
    ]
    top_level = [i for i, (name, _) in enumerate(rows) if not name.startswith("  ")]
    end = next(i for i in top_level if rows[i][0].strip() == "main")
    start = max((i for i in top_level if i < end), default=-1) + 1
    own = [(name.strip(), round(micros / 1000, 1)) for name, micros in rows[start : end + 1]]
    own = [
        item
        for item, (name, _) in zip(own, rows[start : end + 1], strict=True)
        if len(name) - len(name.lstrip()) <= 5
    ]
    return sorted(own, key=lambda item: -item[1])[:top]
