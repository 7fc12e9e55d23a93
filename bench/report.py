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


# The targets (docs: bench/README.md): (name, how it reads, limit, at least?).
TARGETS = (
    ("firestore_reads_per_event", "Firestore reads per event, relay, batch 5", 0.3, False),
    ("firestore_writes_per_event", "Firestore writes per event, relay, batch 5", 0.3, False),
    ("dollars_per_million", "$ per million events, all in, batch 5 (list prices)", 1.0, False),
    ("dollars_month_10m", "$ a month at 10 M events, batch 5 (list prices)", 10.0, False),
    ("ingest_ratio", "ingest req/s ÷ bare function's, batch 5, same run", 0.5, True),
    ("ingest_p99_ms", "ingest p99 ms, batch 5", 30.0, False),
    ("relay_events_per_core_second", "relay events/s per core, fakes, batch 5", 2000.0, True),
    ("ingest_cold_start_ms", "ingest cold start, spawn → first answer, ms", 400.0, False),
    ("log_bytes_per_event", "log bytes per event at INFO, both functions, batch 5", 300.0, False),
)


def targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Each target with what this run measured, and whether it is met."""
    ingest = next(r for r in results["load"] if r["function"] == "ingest" and r["batch"] == 5)
    firestore = results["relay_firestore"]["batch_5"]
    money = results["cost"]
    month = next(r for r in money["monthly"] if r["events_per_month"] == 10_000_000)
    measured = {
        "firestore_reads_per_event": firestore["firestore_reads_per_event"],
        "firestore_writes_per_event": firestore["firestore_writes_per_event"],
        "dollars_per_million": round(money["per_million"][5]["total"], 2),
        "dollars_month_10m": month["relay_batch_5"],
        "ingest_ratio": ingest["ratio_to_baseline"],
        "ingest_p99_ms": ingest["p99_ms"],
        "relay_events_per_core_second": results["relay"]["batch_5"]["events_per_second_per_core"],
        "ingest_cold_start_ms": results["cold_start"]["ingest"]["server_to_first_answer_ms"],
        "log_bytes_per_event": money["inputs"][5]["log_bytes_per_event"],
    }
    rows = []
    for key, label, limit, at_least in TARGETS:
        value = measured[key]
        met = value is not None and (value >= limit if at_least else value <= limit)
        if key.startswith("ingest_") and key != "ingest_cold_start_ms" and ingest["errors"]:
            met = False  # a run with failed or refused requests did not measure ingest
        bound = f"≥ {limit:g}" if at_least else f"≤ {limit:g}"
        rows.append({"target": key, "what": label, "bound": bound, "measured": value, "met": met})
    return rows


def render(results: dict[str, Any]) -> str:
    """The whole report as Markdown tables."""
    settings = results["settings"]
    machine = results["machine"]
    load_average = machine.get("load_average_at_start")
    parts = [
        f"Machine: {machine['cpus']} CPUs, Python {machine['python']}"
        + (
            f", load average {load_average[0]:.1f} at start and "
            f"{machine['load_average_at_end'][0]:.1f} at the end"
            if load_average and machine.get("load_average_at_end")
            else ""
        )
        + f". Server: functions-framework (gunicorn), {settings['server']}; load: "
        f"{settings['load_generator']}, {settings['connections']} connections, "
        f"{settings['rounds']} interleaved runs of {settings['seconds']:g} s per row (medians).",
    ]
    if results.get("targets"):
        parts += ["", "### Targets", ""]
        parts.append(
            _table(
                ["target", "bound", "measured", "met"],
                [
                    [t["what"], t["bound"], t["measured"], "yes" if t["met"] else "**no**"]
                    for t in results["targets"]
                ],
            )
        )
    parts += ["", "### Ingest vs baseline (same server, same concurrency)", ""]
    parts.append(_load_table(results["load"]))
    parts.append("")
    for function in sorted({row["function"] for row in results["load"]} - {"baseline"}):
        parts.append(
            f"req/s of each round ({function} ÷ baseline): "
            + "; ".join(
                f"batch {b}: "
                + ", ".join(
                    f"{i / r:.2f}"
                    for i, r in zip(
                        _rounds(results["load"], function, b),
                        _rounds(results["load"], "baseline", b),
                        strict=False,
                    )
                )
                for b in sorted({row["batch"] for row in results["load"]})
            )
            + "  "
        )
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
        parts += ["", "### Ingest, CPU per step in-process (ms), and its log line", ""]
        parts.append(_table(["step", "CPU ms"], list(breakdown["cpu_ms"].items())))
        parts += [
            "",
            "Ingest log bytes per request (one line): "
            + ", ".join(f"batch {b}: {v:g}" for b, v in breakdown["log_bytes"].items()),
        ]
    relay = results.get("relay")
    if relay:
        parts += ["", f"### Relay in-process ({relay['relay']})", ""]
        parts.append(_relay_table(relay, firestore=False))
    firestore = results.get("relay_firestore")
    if firestore:
        parts += ["", f"### Relay against the emulators ({firestore['relay']})", ""]
        parts.append(_relay_table(firestore, firestore=True))
        parts += ["", f"Counting: {firestore['counting']}."]
    parts += _cold_start_parts(results)
    parts += _cost_parts(results.get("cost"))
    e2e = results.get("end_to_end")
    if e2e and "status" in e2e:
        parts += ["", f"End to end: {e2e['status']}"]
    elif e2e:
        parts += ["", "### End to end (POST to ingest → event in the GA4 stand-in)", ""]
        parts.append(
            _table(
                ["batches sent", "arrived", "p50 ms", "p99 ms", "max ms", "MP requests/event"],
                [
                    [
                        e2e["sent"],
                        e2e["arrived"],
                        e2e["p50_ms"],
                        e2e["p99_ms"],
                        e2e["max_ms"],
                        e2e.get("mp_requests_per_event"),
                    ]
                ],
            )
        )
    return "\n".join(parts)


def _rounds(rows: list[dict[str, Any]], function: str, batch: int) -> list[float]:
    row = next((r for r in rows if r["function"] == function and r["batch"] == batch), None)
    return list(row.get("requests_per_second_each_round", [])) if row else []


def _relay_table(figures: dict[str, Any], *, firestore: bool) -> str:
    headers = ["batch", "events/s per core", "CPU ms/message", "wall ms/message", "log B/event"]
    keys = ["events_per_second_per_core", "cpu_ms_per_message", "wall_ms_per_message"]
    keys.append("log_bytes_per_event")
    if firestore:
        headers += ["Firestore reads/event", "writes/event", "deletes/event (TTL)"]
        keys += ["firestore_reads_per_event", "firestore_writes_per_event"]
        keys.append("firestore_deletes_per_event")
    rows = [
        [key.removeprefix("batch_"), *[f[k] for k in keys]]
        for key, f in figures.items()
        if key.startswith("batch_")
    ]
    return _table(headers, rows)


def _cold_start_parts(results: dict[str, Any]) -> list[str]:
    cold = results.get("cold_start")
    parts: list[str] = []
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
                    "spawn server → first answer (range)",
                ],
                [
                    [
                        name,
                        f["framework_ms"],
                        f["module_ms"],
                        f["first_request_ms"],
                        f["process_ms"],
                        f"{f['server_to_first_answer_ms']}"
                        + (
                            " ({}-{})".format(*f["server_to_first_answer_range_ms"])
                            if "server_to_first_answer_range_ms" in f
                            else ""
                        ),
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
    return parts


def _cost_parts(money: dict[str, Any] | None) -> list[str]:
    if not money:
        return []
    parts = ["", "### Dollars per million events (list prices, before free tiers)", ""]
    parts.append(
        _table(
            ["batch", "functions", "Pub/Sub", "Firestore", "logging", "total"],
            [
                [
                    b,
                    _money(c["functions"]),
                    _money(c["pubsub"]),
                    _money(c["firestore"]),
                    _money(c["logging"]),
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
    return parts
