"""``make bench``: ingest vs baseline under load, cold starts, profile, and the cost model.

Prints a table and writes everything to ``bench/results/latest.json``. Bounded: about
four minutes on a 2-core machine with the defaults. See bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from bench import cold_start, cost, load, profiling, report
from bench.procstat import cpu_seconds
from bench.servers import (
    BASELINE_SOURCE,
    DIRECT_SOURCE,
    INGEST_SOURCE,
    ServerSettings,
    function_server,
    ingest_env,
    start_pubsub,
)
from bench.workload import BATCH_SIZES, make_bodies
from tests.support.processes import ROOT, ServerProcess

RESULTS = Path(__file__).with_name("results")
BODIES_PER_SIZE = 1000


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__)
    parser.add_argument("--seconds", type=float, default=10.0, help="each measured run")
    parser.add_argument("--warmup", type=float, default=2.0, help="unmeasured run before each")
    parser.add_argument("--connections", type=int, default=8, help="wrk connections (both)")
    parser.add_argument("--workers", type=int, default=1, help="gunicorn workers (both)")
    parser.add_argument("--threads", type=int, default=8, help="gunicorn threads (both)")
    parser.add_argument("--cold-repetitions", type=int, default=5)
    parser.add_argument("--no-profile", action="store_true", help="skip the py-spy profile")
    parser.add_argument("--output", type=Path, default=RESULTS / "latest.json")
    return parser.parse_args(argv)


def _load_runs(
    servers: dict[str, ServerProcess],
    emulator_pid: int,
    args: argparse.Namespace,
) -> list[dict[str, Any]]:
    rows = []
    for size in BATCH_SIZES:
        bodies = make_bodies(size, BODIES_PER_SIZE)
        for name, server in servers.items():
            assert server.process is not None
            pid = server.process.pid
            load.run_wrk(
                server.url, bodies, connections=args.connections, seconds=args.warmup,
                server_pid=pid,
            )
            emulator_before = cpu_seconds(emulator_pid)
            result = load.run_wrk(
                server.url, bodies, connections=args.connections, seconds=args.seconds,
                server_pid=pid,
            )
            emulator_cpu = cpu_seconds(emulator_pid) - emulator_before
            row = {"function": name, "batch": size, **result.as_json()}
            row["events_per_second"] = round(result.requests_per_second * size, 1)
            row["emulator_cpu_seconds"] = round(emulator_cpu, 2)
            rows.append(row)
            print(report.load_line(row), flush=True)
    return report.with_ratios(rows)


def main(argv: list[str] | None = None) -> int:
    """Run every measurement and print the table."""
    args = _arguments(argv)
    if not load.wrk_available():
        print("wrk is not installed: apt-get install -y wrk", file=sys.stderr)
        return 2
    settings = ServerSettings(workers=args.workers, threads=args.threads)
    started = time.monotonic()
    results: dict[str, Any] = {
        "machine": {"cpus": _cpus(), "python": platform.python_version()},
        "settings": {
            "server": settings.label(),
            "connections": args.connections,
            "seconds": args.seconds,
            "load_generator": "wrk (1 thread, closed loop), loopback",
        },
    }
    with ExitStack() as stack:
        emulator = start_pubsub()
        stack.callback(emulator.stop)
        assert emulator.process is not None
        env = ingest_env(emulator)
        direct_env = {**env, "PYTHONPATH": str(ROOT)}
        servers = {
            "baseline": function_server(BASELINE_SOURCE, "baseline", {}, settings),
            "ingest": function_server(INGEST_SOURCE, "ingest", env, settings),
            "ingest-direct": function_server(DIRECT_SOURCE, "ingest", direct_env, settings),
        }
        for server in servers.values():
            server.start()
            stack.callback(server.stop)
        print(f"load: {settings.label()}, {args.connections} connections, {args.seconds:g} s")
        results["load"] = _load_runs(servers, emulator.process.pid, args)
        if not args.no_profile:
            results["profile"] = profiling.profile_server(
                servers["ingest"], make_bodies(5, BODIES_PER_SIZE), args.connections
            )
        results["breakdown"] = profiling.breakdown(env)
        body = make_bodies(5, 1)[0]
        results["cold_start"] = cold_start.measure(
            [
                cold_start.Target("baseline", BASELINE_SOURCE, "baseline", {}),
                cold_start.Target("ingest", INGEST_SOURCE, "ingest", env),
            ],
            body,
            settings,
            repetitions=args.cold_repetitions,
        )
    results["cost"] = cost.report_figures(results["load"])
    results["relay"] = {"status": "pending: bench/relay_bench.py waits for the relay function"}
    results["elapsed_seconds"] = round(time.monotonic() - started, 1)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=2) + "\n")
    print()
    print(report.render(results))
    print(f"\nwritten to {args.output.relative_to(ROOT) if args.output.is_relative_to(ROOT) else args.output}")
    return 0


def _cpus() -> int:
    import os

    return len(os.sched_getaffinity(0))


if __name__ == "__main__":
    sys.exit(main())
