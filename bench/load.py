"""Drive a server with ``wrk`` (closed loop, fixed connections) and read its figures."""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

from bench.procstat import cpu_seconds
from bench.workload import ORIGIN

SCRIPT = Path(__file__).with_name("post_bodies.lua")
MARKER = "BENCH_JSON "


@dataclass(frozen=True)
class LoadResult:
    """What one bounded run measured."""

    requests: int
    seconds: float
    errors: int
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    server_cpu_seconds: float

    @property
    def requests_per_second(self) -> float:
        """Completed requests per wall-clock second."""
        return self.requests / self.seconds

    @property
    def cpu_ms_per_request(self) -> float:
        """Server CPU (all its processes) per completed request."""
        return 1000 * self.server_cpu_seconds / max(self.requests, 1)

    @property
    def requests_per_server_core_second(self) -> float:
        """Requests per second of server CPU: the rate one dedicated core would sustain."""
        return 1000 / self.cpu_ms_per_request if self.requests else 0.0

    def as_json(self) -> dict[str, float]:
        """The figures, derived ones included."""
        return {
            **asdict(self),
            "requests_per_second": round(self.requests_per_second, 1),
            "cpu_ms_per_request": round(self.cpu_ms_per_request, 3),
            "requests_per_server_core_second": round(self.requests_per_server_core_second, 1),
        }


def wrk_available() -> bool:
    """True when ``wrk`` is on PATH (Debian: apt-get install wrk)."""
    return shutil.which("wrk") is not None


def run_wrk(
    url: str,
    bodies: list[bytes],
    *,
    connections: int,
    seconds: float,
    server_pid: int,
    threads: int = 1,
) -> LoadResult:
    """POST ``bodies`` in turn to ``url`` over ``connections`` for ``seconds``."""
    with tempfile.NamedTemporaryFile("wb", suffix=".jsonl", delete=False) as handle:
        handle.write(b"\n".join(bodies) + b"\n")
        bodies_path = handle.name
    args = [
        "wrk",
        f"--threads={threads}",
        f"--connections={connections}",
        f"--duration={max(1, round(seconds))}s",
        "--timeout=10s",
        f"--script={SCRIPT}",
        url,
        "--",
        bodies_path,
        ORIGIN,
    ]
    cpu_before = cpu_seconds(server_pid)
    completed = subprocess.run(
        args, capture_output=True, text=True, check=True, timeout=seconds + 60
    )
    cpu_used = cpu_seconds(server_pid) - cpu_before
    Path(bodies_path).unlink()
    line = next((line for line in completed.stdout.splitlines() if line.startswith(MARKER)), None)
    if line is None:
        raise RuntimeError(f"wrk printed no figures:\n{completed.stdout}\n{completed.stderr}")
    figures = json.loads(line.removeprefix(MARKER))
    latency = figures["latency_us"]
    return LoadResult(
        requests=figures["requests"],
        seconds=figures["duration_us"] / 1e6,
        errors=sum(figures["errors"].values()),
        p50_ms=latency["p50"] / 1000,
        p90_ms=latency["p90"] / 1000,
        p99_ms=latency["p99"] / 1000,
        max_ms=latency["max"] / 1000,
        server_cpu_seconds=round(cpu_used, 2),
    )
