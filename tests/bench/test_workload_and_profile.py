"""The bench's request bodies are valid contract batches; profiles are grouped by layer."""

from __future__ import annotations

import json

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


def test_report_renders_every_section_of_a_run() -> None:
    """The printed report holds the load table, the cost tables and the pending relay note."""
    from bench import cost, report

    row = {
        "function": "ingest",
        "batch": 5,
        "requests_per_second": 500.0,
        "events_per_second": 2500.0,
        "p50_ms": 10.0,
        "p99_ms": 40.0,
        "ratio_to_baseline": 0.5,
        "cpu_ms_per_request": 1.0,
        "requests_per_server_core_second": 1000.0,
        "emulator_cpu_seconds": 0.5,
        "errors": 0,
    }
    pipeline = cost.Pipeline(
        batch=5,
        ingest=cost.FunctionUse(cpu_seconds=0.001, wall_seconds=0.01),
        relay=cost.FunctionUse(cpu_seconds=0.005, wall_seconds=0.06),
        message_bytes=2500,
    )
    results = {
        "machine": {"cpus": 2, "python": "3.11"},
        "settings": {
            "server": "1 worker x 8 threads",
            "connections": 8,
            "seconds": 5,
            "rounds": 3,
            "load_generator": "wrk",
        },
        "load": [row],
        "cost": {
            "per_million": {5: cost.price(pipeline.usage_per_million_events())},
            "monthly": cost.comparison({5: pipeline}),
            "note": "assumed relay",
        },
        "relay": {"status": "pending: no relay yet"},
    }
    text = report.render(results)
    assert "| ingest | 5 | 500.0 | 2500.0 | 10.0 | 40.0 | 0.5 |" in text
    assert "| 100,000,000 |" in text
    assert "Relay: pending: no relay yet" in text
