"""The cost model's arithmetic, checked against figures worked out by hand."""

from __future__ import annotations

import pytest

from bench import cost
from bench.cost import FunctionUse, Pipeline, Prices, StoreUse, TagManagerSetup, Usage

MILLION = 1_000_000


@pytest.mark.parametrize(
    ("use", "billed"),
    [
        # CPU-bound: 1.2 ms CPU at 60 % of 1 vCPU = 2 ms; wall 8 ms / 8 in flight = 1 ms.
        (FunctionUse(cpu_seconds=0.0012, wall_seconds=0.008), 0.002),
        # Wait-bound: 0.3 ms CPU → 0.5 ms; wall 16 ms / 8 = 2 ms.
        (FunctionUse(cpu_seconds=0.0003, wall_seconds=0.016), 0.002),
        # Concurrency 1: the whole wall time is billed.
        (FunctionUse(cpu_seconds=0.01, wall_seconds=0.1, concurrency=1), 0.1),
    ],
)
def test_billed_instance_seconds_is_the_larger_of_cpu_and_shared_wall(
    use: FunctionUse, billed: float
) -> None:
    """An invocation bills the larger of its CPU need and its share of the instance's time."""
    assert use.billed_instance_seconds() == pytest.approx(billed)


def test_reference_worked_figure_for_a_million_100_ms_requests() -> None:
    """1 M requests of 100 ms on 1 vCPU / 0.5 GiB cost $2.40 + $0.125 + $0.40 = $2.925."""
    use = FunctionUse(cpu_seconds=0.06, wall_seconds=0.1, concurrency=1)
    dollars = cost.price(cost.function_usage(use, MILLION))
    assert dollars["functions"] == pytest.approx(2.925)
    assert dollars["total"] == pytest.approx(2.925)


def test_pubsub_bills_publish_and_push_at_least_1000_bytes_each() -> None:
    """1 M small messages bill 2 x 10^9 bytes: 2e9 / 2^40 x $40 = $0.0728 (reference: $0.073)."""
    dollars = cost.price(Usage(pubsub_bytes=2 * MILLION * 1000))
    assert dollars["pubsub"] == pytest.approx(2e9 / 2**40 * 40)
    assert dollars["pubsub"] == pytest.approx(0.0728, abs=1e-4)


def test_pipeline_per_million_events_at_batch_5() -> None:
    """200 k messages: their Firestore documents, Pub/Sub bytes, logs and both functions."""
    ingest = FunctionUse(cpu_seconds=0.0012, wall_seconds=0.008)  # 2 ms billed
    relay = FunctionUse(cpu_seconds=0.0006, wall_seconds=0.032)  # 4 ms billed
    store = StoreUse(reads=1, writes=1, deletes=0.5)
    pipeline = Pipeline(5, ingest, relay, message_bytes=2500, store=store, log_bytes_per_event=300)
    usage = pipeline.usage_per_million_events()
    assert usage.requests == pytest.approx(400_000)
    assert usage.vcpu_seconds == pytest.approx(200_000 * 0.006)
    assert usage.pubsub_bytes == pytest.approx(2 * 200_000 * 2500)
    assert usage.logging_bytes == pytest.approx(3e8)
    dollars = cost.price(usage)
    # 200 k reads x $0.03, 200 k writes x $0.09, 100 k deletes x $0.01 (per 100 k)
    assert dollars["firestore"] == pytest.approx(0.06 + 0.18 + 0.01)
    assert dollars["logging"] == pytest.approx(3e8 / 2**30 * 0.50)
    functions = 1200 * 0.000024 + 600 * 0.0000025 + 400_000 * 0.40 / MILLION
    assert dollars["functions"] == pytest.approx(functions)
    pubsub = 1e9 / 2**40 * 40
    assert dollars["total"] == pytest.approx(
        functions + 0.25 + dollars["logging"] + pubsub, rel=1e-9
    )


def test_free_tier_removes_allowances_but_not_ttl_deletes() -> None:
    """Within the free allowances only TTL deletes are billed ($0.01 per 100 k)."""
    usage = Usage(
        vcpu_seconds=1000,
        gib_seconds=500,
        requests=10_000,
        pubsub_bytes=10**9,
        firestore_reads=1000,
        firestore_writes=1000,
        firestore_deletes=100_000,
        logging_bytes=10 * 2**30,
    )
    dollars = cost.price(usage, free_tier=True)
    assert dollars["functions"] == 0
    assert dollars["pubsub"] == 0
    assert dollars["logging"] == 0
    assert dollars["firestore"] == pytest.approx(0.01)


@pytest.mark.parametrize(
    ("events", "instances", "dollars"),
    [
        # 2 instances x 2,592,000 s x ($0.000018 + 0.5 x $0.000002) = $98.496
        (1 * MILLION, 2, 98.496),
        (10 * MILLION, 2, 98.496),
        # 1e8 / 2,592,000 s = 38.6 req/s; x3 peak = 115.7; / 17.5 = 6.6 → 7 instances
        (100 * MILLION, 7, 344.736),
    ],
)
def test_tag_manager_on_cloud_run(events: int, instances: int, dollars: float) -> None:
    """sGTM keeps at least 2 always-on instances and adds one per 17.5 req/s of peak."""
    setup = TagManagerSetup()
    assert setup.instances(events) == instances
    assert setup.monthly(events, Prices()) == pytest.approx(dollars)


@pytest.mark.parametrize(
    ("events", "plan", "dollars"),
    [
        (500_000, "Pro", 17.0),
        (1 * MILLION, "Business", 83.0),
        (10 * MILLION, "Enterprise", 167.0),
        (100 * MILLION, "Custom (quote)", None),
    ],
)
def test_stape_picks_the_smallest_plan_that_holds_the_volume(
    events: int, plan: str, dollars: float | None
) -> None:
    """Stape's plan is the first whose monthly request quota holds every event."""
    assert cost.stape_monthly(events) == (plan, dollars)


def test_comparison_scales_linearly_with_volume() -> None:
    """The relay's list-price cost at 100 M events is 100 times that at 1 M."""
    pipeline = Pipeline(
        batch=5,
        ingest=FunctionUse(cpu_seconds=0.002, wall_seconds=0.02),
        relay=FunctionUse(cpu_seconds=0.005, wall_seconds=0.06),
        message_bytes=2500,
        store=StoreUse(reads=11, writes=11, deletes=6),
        log_bytes_per_event=250,
    )
    small, _, large = cost.comparison({5: pipeline})
    assert large["relay_batch_5"] == pytest.approx(100 * small["relay_batch_5"], rel=1e-3)
    assert small["relay_batch_5_after_free_tier"] < small["relay_batch_5"]
    assert (small["sgtm_instances"], large["stape"]) == (2, None)
