"""The bench's request bodies are valid contract batches; profiles are grouped by layer."""

from __future__ import annotations

import json
from typing import Any

import pytest
from loyjoy_relay.core.catalogue import lookup
from loyjoy_relay.core.events import parse_request
from loyjoy_relay.devstack.event_factory import CHAT_EVENTS

from bench import profiling, workload


def test_bench_event_names_are_in_the_catalogue() -> None:
    """Every name the bench sends is a LoyJoy catalogue name, so ingest accepts it."""
    assert all(lookup(name) is not None for name in CHAT_EVENTS)


@pytest.mark.parametrize("size", workload.BATCH_SIZES)
def test_bench_bodies_are_accepted_whole_by_ingest_parsing(size: int) -> None:
    """Each body parses with no rejection into one client batch of ``size`` events."""
    for body in workload.make_bodies(size, 20):
        sent_at = json.loads(body)["sent_at"]
        parsed = parse_request(body, received_at=sent_at, bot_allowed=lambda b: b == workload.BOT)
        assert parsed.rejected == []
        assert [len(batch.events) for batch in parsed.batches] == [size]


def test_summarise_counts_each_sample_in_its_first_matching_layer() -> None:
    """A stack through the Pub/Sub client counts as publishing even under gunicorn."""
    folded = "\n".join(
        [
            "run (gunicorn/workers/gthread.py:1);"
            "publish (google/cloud/pubsub_v1/publisher/client.py:9) 3",
            "run (gunicorn/workers/gthread.py:1);wsgi_app (flask/app.py:2) 1",
            "garbage line",
        ]
    )
    summary = profiling.summarise(folded)
    assert summary["samples"] == 4
    assert summary["layers_percent"] == {
        "publish: google-cloud-pubsub client + gRPC": 75.0,
        "flask + functions-framework": 25.0,
    }


def test_rounds_merge_into_medians_with_every_error_kept() -> None:
    """A row of several rounds holds each figure's median, the sum of errors, and the ratio."""
    from bench import report

    rounds = [
        {"function": "ingest", "batch": 5, "requests_per_second": rps, "p99_ms": p99, "errors": e}
        for rps, p99, e in [(100.0, 30.0, 0), (300.0, 90.0, 2), (200.0, 40.0, 0)]
    ]
    merged = report.median_row(rounds)
    assert (merged["requests_per_second"], merged["p99_ms"], merged["errors"]) == (200.0, 40.0, 2)
    baseline = {"function": "baseline", "batch": 5, "requests_per_second": 400.0}
    assert report.with_ratios([baseline, merged])[1]["ratio_to_baseline"] == 0.5


def _run_results() -> dict[str, Any]:
    """A small but complete results dict, as bench.run assembles it."""
    from bench import cost

    def row(function: str, rps: float, p99: float) -> dict[str, Any]:
        return {
            "function": function,
            "batch": 5,
            "requests_per_second": rps,
            "requests_per_second_each_round": [rps],
            "events_per_second": 5 * rps,
            "p50_ms": 10.0,
            "p99_ms": p99,
            "cpu_ms_per_request": 1.0,
            "requests_per_server_core_second": 1000.0,
            "emulator_cpu_seconds": 0.5,
            "errors": 0,
        }

    relay_row = {
        "events_per_second_per_core": 2500.0,
        "cpu_ms_per_message": 2.0,
        "wall_ms_per_message": 2.0,
        "log_bytes_per_event": 200.0,
    }
    firestore_row = {
        **relay_row,
        "firestore_reads_per_event": 0.2,
        "firestore_writes_per_event": 0.4,
        "firestore_deletes_per_event": 0.2,
    }
    pipeline = cost.Pipeline(
        batch=5,
        ingest=cost.FunctionUse(cpu_seconds=0.001, wall_seconds=0.01),
        relay=cost.FunctionUse(cpu_seconds=0.005, wall_seconds=0.06),
        message_bytes=2500,
        store=cost.StoreUse(reads=1, writes=2, deletes=1),
        log_bytes_per_event=240,
    )
    from bench import report

    return {
        "machine": {"cpus": 2, "python": "3.11"},
        "settings": {
            "server": "1 worker x 8 threads",
            "connections": 8,
            "seconds": 5,
            "rounds": 3,
            "load_generator": "wrk",
        },
        "load": report.with_ratios([row("baseline", 1000.0, 9.0), row("ingest", 500.0, 40.0)]),
        "relay": {"relay": "fakes", "batch_5": relay_row},
        "relay_firestore": {"relay": "emulator", "counting": "c", "batch_5": firestore_row},
        "cold_start": {
            "ingest": {
                "framework_ms": 1.0,
                "module_ms": 2.0,
                "first_request_ms": 3.0,
                "process_ms": 4.0,
                "server_to_first_answer_ms": 380.0,
            }
        },
        "cost": {
            "inputs": {5: {"log_bytes_per_event": 240.0}},
            "per_million": {5: cost.price(pipeline.usage_per_million_events())},
            "monthly": cost.comparison({5: pipeline}),
            "note": "all measured",
        },
    }


def test_targets_say_which_are_met_and_by_what_figure() -> None:
    """Each target compares its measured figure with its bound, upward or downward."""
    from bench import report

    verdicts = {t["target"]: (t["measured"], t["met"]) for t in report.targets(_run_results())}
    assert verdicts["firestore_reads_per_event"] == (0.2, True)
    assert verdicts["firestore_writes_per_event"] == (0.4, False)
    assert verdicts["ingest_ratio"] == (0.5, True)
    assert verdicts["ingest_p99_ms"] == (40.0, False)
    assert verdicts["relay_events_per_core_second"] == (2500.0, True)
    assert verdicts["ingest_cold_start_ms"] == (380.0, True)
    assert verdicts["log_bytes_per_event"] == (240.0, True)
    assert len(verdicts) == len(report.TARGETS)


def test_an_ingest_run_with_errors_meets_no_ingest_target() -> None:
    """Requests that failed or were refused (a 429 is fast) void the throughput figures."""
    from bench import report

    results = _run_results()
    next(r for r in results["load"] if r["function"] == "ingest")["errors"] = 3
    verdicts = {t["target"]: t["met"] for t in report.targets(results)}
    assert (verdicts["ingest_ratio"], verdicts["ingest_p99_ms"]) == (False, False)


def test_report_renders_every_section_of_a_run() -> None:
    """The printed report holds the targets, the load table, both relay tables and the cost."""
    from bench import report

    results = _run_results()
    results["targets"] = report.targets(results)
    text = report.render(results)
    assert "| ingest | 5 | 500.0 | 2500.0 | 10.0 | 40.0 | 0.5 |" in text
    assert "| ingest p99 ms, batch 5 | ≤ 30 | 40.0 | **no** |" in text
    assert "| 5 | 2500.0 | 2.0 | 2.0 | 200.0 | 0.2 | 0.4 | 0.2 |" in text
    assert "| 100,000,000 |" in text
    assert "logging" in text
