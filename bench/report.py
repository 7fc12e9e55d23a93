"""The bench's printed table (also pasted into bench/README.md), from the results dict."""

from __future__ import annotations

import statistics
from typing import Any


def load_line(row: dict[str, Any]) -> str:
    """One progress line for a finished load run."""
    return (
        f"  {row['function']:<16} batch {row['batch']:>2}: {row['requests_per_second']:>7.1f} req/s"
        f"  p50 {row['p50_ms']:.1f} ms  p99 {row['p99_ms']:.1f} ms  errors {row['errors']}"
    )


def median_row(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The median of each figure over the rounds of one function at one batch size."""
    merged: dict[str, Any] = {"function": rows[0]["function"], "batch": rows[0]["batch"]}
    for key, value in rows[0].items():
        if key not in merged and isinstance(value, int | float):
            merged[key] = statistics.median(row[key] for row in rows)
    merged["errors"] = sum(row["errors"] for row in rows)  # any error in any round shows
    merged["rounds"] = len(rows)
    merged["requests_per_second_each_round"] = [row["requests_per_second"] for row in rows]
    return merged


def with_ratios(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Add each row's requests/s as a ratio of the baseline's at the same batch size."""
    baseline = {r["batch"]: r["requests_per_second"] for r in rows if r["function"] == "baseline"}
    for row in rows:
        reference = baseline.get(row["batch"])
        row["ratio_to_baseline"] = (
            round(row["requests_per_second"] / reference, 3) if reference else None
        )
    return rows


def _table(headers: list[str], rows: list[list[Any]]) -> str:
    cells = [[str(c) for c in row] for row in rows]
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in cells]
    return "\n".join(lines)


def _load_table(rows: list[dict[str, Any]]) -> str:
    headers = ["function", "batch", "req/s", "events/s", "p50 ms", "p99 ms", "ratio"]
    headers += ["server CPU ms/req", "req per server CPU-s", "emulator CPU s", "errors"]
    keys = ["function", "batch", "requests_per_second", "events_per_second", "p50_ms"]
    keys += ["p99_ms", "ratio_to_baseline", "cpu_ms_per_request"]
    keys += ["requests_per_server_core_second", "emulator_cpu_seconds", "errors"]
    return _table(headers, [[row[key] for key in keys] for row in rows])


def _money(value: float | None) -> str:
    return "quote" if value is None else f"${value:,.2f}"


def render(results: dict[str, Any]) -> str:
    """The whole report as Markdown tables."""
    settings = results["settings"]
    parts = [
        f"Machine: {results['machine']['cpus']} CPUs, Python {results['machine']['python']}. "
        f"Server: functions-framework (gunicorn), {settings['server']}; load: "
        f"{settings['load_generator']}, {settings['connections']} connections, "
        f"{settings['rounds']} interleaved runs of {settings['seconds']:g} s per row (medians).",
        "",
        "### Ingest vs baseline (same server, same concurrency)",
        "",
        _load_table(results["load"]),
    ]
    toggle = results.get("toggle")
    if toggle:
        parts += ["", f"### The same at batch 5 with {toggle['server']}", ""]
        parts.append(_load_table(toggle["load"]))
    profile = results.get("profile")
    if profile and profile.get("status") == "measured":
        parts += ["", f"### Profile of ingest under load (batch 5; {profile['tool']})", ""]
        parts.append(_table(["layer", "% of GIL samples"], list(profile["layers_percent"].items())))
        parts += ["", _table(["function (inclusive)", "%"], profile["top_inclusive_percent"])]
    elif profile:
        parts += ["", f"Profile: {profile['status']}"]
    breakdown = results.get("breakdown")
    if breakdown:
        parts += ["", "### CPU per step, in-process (ms)", ""]
        parts.append(_table(["step", "CPU ms"], list(breakdown["cpu_ms"].items())))
    cold = results.get("cold_start")
    if cold:
        parts += ["", "### Cold start (median of fresh processes, ms)", ""]
        parts.append(
            _table(
                [
                    "function",
                    "import framework",
                    "load module",
                    "first request",
                    "whole probe process",
                    "spawn server → first answer",
                ],
                [
                    [
                        name,
                        f["framework_ms"],
                        f["module_ms"],
                        f["first_request_ms"],
                        f["process_ms"],
                        f["server_to_first_answer_ms"],
                    ]
                    for name, f in cold.items()
                ],
            )
        )
    imports = results.get("cold_start_imports", {}).get("ingest")
    if imports:
        parts += [
            "",
            "Slowest imports of the ingest module (cumulative ms, one run, `-X importtime`):",
        ]
        parts += ["", _table(["module", "ms"], imports)]
    money = results.get("cost")
    if money:
        parts += ["", "### Dollars per million events (list prices, before free tiers)", ""]
        parts.append(
            _table(
                ["batch", "functions", "Pub/Sub", "Firestore", "total"],
                [
                    [
                        b,
                        _money(c["functions"]),
                        _money(c["pubsub"]),
                        _money(c["firestore"]),
                        _money(c["total"]),
                    ]
                    for b, c in money["per_million"].items()
                ],
            )
        )
        parts += ["", "### A month, by volume (relay: list price / after free tiers)", ""]
        batches = list(money["per_million"])
        parts.append(
            _table(
                [
                    "events/month",
                    *[f"relay, batch {b}" for b in batches],
                    "sGTM Cloud Run (instances)",
                    "Stape",
                ],
                [
                    [
                        f"{r['events_per_month']:,}",
                        *[
                            _money(r[f"relay_batch_{b}"])
                            + " / "
                            + _money(r[f"relay_batch_{b}_after_free_tier"])
                            for b in batches
                        ],
                        f"{_money(r['sgtm_cloud_run'])} ({r['sgtm_instances']})",
                        f"{_money(r['stape'])} ({r['stape_plan']})",
                    ]
                    for r in money["monthly"]
                ],
            )
        )
        parts += ["", money["note"]]
    e2e = results.get("end_to_end")
    if e2e and "status" in e2e:
        parts += ["", f"End to end: {e2e['status']}"]
    elif e2e:
        parts += ["", "### End to end (POST to ingest → event in the GA4 stand-in)", ""]
        parts.append(
            _table(
                ["batches sent", "arrived", "p50 ms", "p99 ms", "max ms"],
                [[e2e["sent"], e2e["arrived"], e2e["p50_ms"], e2e["p99_ms"], e2e["max_ms"]]],
            )
        )
    relay = results.get("relay")
    if relay and relay.get("status") == "measured":
        parts += ["", f"### Relay in-process ({relay['process']})", ""]
        parts.append(
            _table(
                ["batch", "events/s per core", "CPU ms/message", "wall ms/message", "CPU ms/event"],
                [
                    [
                        key.removeprefix("batch_"),
                        f["events_per_second_per_core"],
                        f["cpu_ms_per_message"],
                        f["wall_ms_per_message"],
                        f["cpu_ms_per_event"],
                    ]
                    for key, f in relay.items()
                    if key.startswith("batch_")
                ],
            )
        )
    elif relay:
        parts += ["", f"Relay: {relay['status']}"]
    return "\n".join(parts)
