"""Where ingest's CPU goes: a py-spy profile of the server under load.

``profile_server`` samples the gunicorn worker with ``py-spy --gil`` (only the thread
holding the GIL, i.e. Python doing work) while wrk loads it, and groups the samples by the
layer they are in. CPU outside the GIL (gRPC's C core, thread start-up) does not show
there, so the server's total CPU is reported beside it (and ``bench.breakdown`` times
each step in-process with all threads counted).
"""

from __future__ import annotations

import collections
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from loyjoy_relay.devstack.processes import ServerProcess

from bench import load
from bench.procstat import tree_pids

PY_SPY = Path(sys.executable).parent / "py-spy"
# Layers, checked in order: a sample counts for the first layer any of its frames is in.
LAYERS: tuple[tuple[str, str], ...] = (
    ("publish: google-cloud-pubsub client + gRPC", r"pubsub_v1/|grpc/|api_core/|proto/"),
    ("publish: sharing RPCs, waiting (adapters/pubsub.py)", r"loyjoy_relay/adapters/pubsub"),
    ("logging: JsonLogger.log", r"JsonLogger\.log"),
    ("parse + validate: contract.parse_request", r"parse_request|pydantic"),
    ("ingest other (CORS, response JSON)", r"loyjoy_relay/"),
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
