"""``make bench``: ingest vs baseline under load, the relay, Firestore, logs, cold starts, cost.

Prints the tables, the issue's targets beside what was measured, and writes everything
to ``bench/results/latest.json``. About five minutes on a 2-core machine with the
defaults. See bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from loyjoy_relay.devstack.processes import ServerProcess

from bench import (
    breakdown,
    cold_start,
    cost_inputs,
    end_to_end,
    firestore_run,
    load,
    profiling,
    relay_bench,
    report,
    revision,
)
from bench.procstat import cpu_seconds
from bench.servers import (
    BASELINE_SOURCE,
    INGEST_SOURCE,
    ROOT,
    ServerSettings,
    function_server,
    ingest_env,
    start_pubsub,
)
from bench.workload import BATCH_SIZES, make_bodies

RESULTS = Path(__file__).with_name("results")
BODIES_PER_SIZE = 1000


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__)
    parser.add_argument("--seconds", type=float, default=5.0, help="each measured run")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved runs per pair")
    parser.add_argument("--warmup", type=float, default=2.0, help="unmeasured run before each")
    parser.add_argument("--connections", type=int, default=8, help="wrk connections (both)")
    parser.add_argument("--workers", type=int, default=1, help="gunicorn workers (both)")
    parser.add_argument("--threads", type=int, default=8, help="gunicorn threads (both)")
    parser.add_argument("--cold-repetitions", type=int, default=5)
    parser.add_argument("--no-profile", action="store_true", help="skip the py-spy profile")
    parser.add_argument(
        "--toggle", action="store_true", help="also load both with twice the workers, batch 5"
    )
    parser.add_argument(
        "--relay-messages", type=int, default=1000, help="messages per batch size, fakes"
    )
    parser.add_argument(
        "--firestore-messages", type=int, default=200, help="messages per batch size, emulator"
    )
    parser.add_argument(
        "--e2e-ingest", metavar="URL", help="ingest of a running pipeline (default: start one)"
    )
    parser.add_argument("--e2e-sink", metavar="URL", help="its GA4 stand-in (ga4 sink)")
    parser.add_argument("--e2e-batches", type=int, default=200, help="batches of 5, at 20/s")
    parser.add_argument(
        "--compare",
        metavar="REV",
        help="also load and cold-start the ingest of git revision REV, in the same run",
    )
    parser.add_argument("--output", type=Path, default=RESULTS / "latest.json")
    return parser.parse_args(argv)


def _servers(
    settings: ServerSettings,
    env: dict[str, str],
    stack: ExitStack,
    compare: revision.Revision | None = None,
) -> dict[str, ServerProcess]:
    """The baseline and the shipped ingest (and another revision's), under ``settings``."""
    servers = {
        "baseline": function_server(BASELINE_SOURCE, "baseline", {}, settings),
        "ingest": function_server(INGEST_SOURCE, "ingest", env, settings),
    }
    if compare is not None:
        servers[compare.name] = function_server(
            compare.ingest_source, "ingest", {**env, **compare.environment()}, settings
        )
    for server in servers.values():
        server.start()
        stack.callback(server.stop)
    return servers


def _load_runs(
    servers: dict[str, ServerProcess],
    emulator_pid: int,
    args: argparse.Namespace,
    batch_sizes: tuple[int, ...] = BATCH_SIZES,
) -> list[dict[str, Any]]:
    """Each function at each batch size, interleaved over rounds; medians per pair.

    The machine is shared, so a burst of someone else's work would blur a single long
    run of one function: short runs taking turns, and their median, spread it evenly.
    """
    bodies = {size: make_bodies(size, BODIES_PER_SIZE) for size in batch_sizes}
    runs: dict[tuple[int, str], list[dict[str, Any]]] = {}
    for round_number in range(args.rounds):
        for size in batch_sizes:
            for name, server in servers.items():
                assert server.process is not None
                pid = server.process.pid
                if round_number == 0:
                    load.run_wrk(
                        server.url,
                        bodies[size],
                        connections=args.connections,
                        seconds=args.warmup,
                        server_pid=pid,
                    )
                emulator_before = cpu_seconds(emulator_pid)
                result = load.run_wrk(
                    server.url,
                    bodies[size],
                    connections=args.connections,
                    seconds=args.seconds,
                    server_pid=pid,
                )
                row = {"function": name, "batch": size, **result.as_json()}
                row["events_per_second"] = round(result.requests_per_second * size, 1)
                row["emulator_cpu_seconds"] = round(cpu_seconds(emulator_pid) - emulator_before, 2)
                runs.setdefault((size, name), []).append(row)
                print(f"  round {round_number + 1}:" + report.load_line(row), flush=True)
    return report.with_ratios([report.median_row(rows) for rows in runs.values()])


def _load_sections(
    args: argparse.Namespace,
    settings: ServerSettings,
    env: dict[str, str],
    emulator_pid: int,
    compare: revision.Revision | None,
) -> dict[str, Any]:
    """The load table, the profile under load, and (``--toggle``) twice the workers."""
    sections: dict[str, Any] = {}
    with ExitStack() as stack:
        servers = _servers(settings, env, stack, compare)
        print(f"load: {settings.label()}, {args.connections} connections, {args.seconds:g} s")
        sections["load"] = _load_runs(servers, emulator_pid, args)
        if not args.no_profile:
            sections["profile"] = profiling.profile_server(
                servers["ingest"], make_bodies(5, BODIES_PER_SIZE), args.connections
            )
    if args.toggle:
        toggled = ServerSettings(
            workers=settings.workers * 2, threads=max(1, settings.threads // 2)
        )
        with ExitStack() as stack:
            servers = _servers(toggled, env, stack)
            print(f"load: {toggled.label()}, {args.connections} connections, batch 5")
            sections["toggle"] = {
                "server": toggled.label(),
                "load": _load_runs(servers, emulator_pid, args, batch_sizes=(5,)),
            }
    return sections


def main(argv: list[str] | None = None) -> int:
    """Run every measurement and print the tables."""
    args = _arguments(argv)
    if not load.wrk_available():
        print("wrk is not installed: apt-get install -y wrk", file=sys.stderr)
        return 2
    settings = ServerSettings(workers=args.workers, threads=args.threads)
    started = time.monotonic()
    results: dict[str, Any] = {
        "machine": {
            "cpus": _cpus(),
            "python": platform.python_version(),
            "load_average_at_start": list(os.getloadavg()),
        },
        "settings": {
            "server": settings.label(),
            "connections": args.connections,
            "seconds": args.seconds,
            "rounds": args.rounds,
            "load_generator": "wrk (1 thread, closed loop), loopback",
        },
    }
    with ExitStack() as stack:
        emulator = start_pubsub()
        stack.callback(emulator.stop)
        assert emulator.process is not None
        env = ingest_env(emulator)
        compare = revision.checkout(args.compare) if args.compare else None
        if compare is not None:
            stack.callback(shutil.rmtree, compare.directory, ignore_errors=True)
        results.update(_load_sections(args, settings, env, emulator.process.pid, compare))
        print("ingest in-process breakdown", flush=True)
        results["breakdown"] = breakdown.measure(env)
        print("relay with the shipped fakes", flush=True)
        results["relay"] = relay_bench.measure_with_fakes(args.relay_messages)
        print("relay against the Firestore emulator", flush=True)
        relay_env = firestore_run.RelayEnvironment(emulator.host, stack)
        results["relay_firestore"], relay_uses = firestore_run.measure(
            relay_env, messages=args.firestore_messages, concurrency=args.connections
        )
        print("cold starts", flush=True)
        targets = [
            cold_start.Target("baseline", BASELINE_SOURCE, "baseline", {}),
            cold_start.Target("ingest", INGEST_SOURCE, "ingest", env),
            relay_env.cold_target(),
        ]
        if compare is not None:
            targets.append(
                cold_start.Target(
                    compare.name,
                    compare.ingest_source,
                    "ingest",
                    {**env, **compare.environment()},
                )
            )
        results["cold_start"] = cold_start.measure(
            targets, make_bodies(5, 1)[0], settings, repetitions=args.cold_repetitions
        )
        results["cold_start_imports"] = {"ingest": cold_start.import_profile(targets[1])}
        print("end to end", flush=True)
        if args.e2e_ingest and args.e2e_sink:
            results["end_to_end"] = end_to_end.measure(
                args.e2e_ingest, args.e2e_sink, batches=args.e2e_batches
            ).as_json()
        else:
            results["end_to_end"] = end_to_end.measure_pipeline(
                emulator, relay_env.firestore, batches=args.e2e_batches
            )
    results["cost"] = cost_inputs.figures(
        results["load"],
        args.connections,
        results["relay_firestore"],
        relay_uses,
        results["breakdown"]["log_bytes"],
    )
    results["targets"] = report.targets(results)
    results["machine"]["load_average_at_end"] = list(os.getloadavg())
    results["elapsed_seconds"] = round(time.monotonic() - started, 1)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=2) + "\n")
    print()
    print(report.render(results))
    shown = args.output.relative_to(ROOT) if args.output.is_relative_to(ROOT) else args.output
    print(f"\nwritten to {shown}")
    return 0


def _cpus() -> int:
    return len(os.sched_getaffinity(0))


if __name__ == "__main__":
    sys.exit(main())
