"""Feed the cost model (``bench.cost``) with what this run measured."""

from __future__ import annotations

import time
from typing import Any

from bench import cost
from bench.workload import make_bodies

PUBSUB_METADATA_BYTES = 20 + 16  # publish timestamp + a message id (pubsub/pricing)


def message_bytes(batch: int) -> int:
    """Billable size of the Pub/Sub message ingest makes from a bench body of ``batch``."""
    from loyjoy_relay.core.events import parse_request

    parsed = parse_request(
        make_bodies(batch, 1)[0], received_at=int(time.time() * 1000), bot_allowed=lambda _: True
    )
    data, attributes = parsed.batches[0].to_message()
    attribute_bytes = sum(len(k) + len(v) for k, v in attributes.items())
    return len(data) + attribute_bytes + PUBSUB_METADATA_BYTES


def pipelines(
    load_rows: list[dict[str, Any]],
    connections: int,
    relay: dict[int, cost.FunctionUse] | None = None,
    function: str = "ingest",
) -> dict[int, cost.Pipeline]:
    """One pipeline per batch size, from the ingest rows of the load runs."""
    found = {}
    for row in load_rows:
        if row["function"] != function:
            continue
        ingest = cost.FunctionUse(
            cpu_seconds=row["cpu_ms_per_request"] / 1000,
            wall_seconds=row["p50_ms"] / 1000,
            concurrency=connections,
        )
        batch = int(row["batch"])
        found[batch] = cost.Pipeline(
            batch=batch,
            ingest=ingest,
            relay=cost.with_measured_relay((relay or {}).get(batch), batch),
            message_bytes=message_bytes(batch),
        )
    return found


def figures(
    load_rows: list[dict[str, Any]],
    connections: int,
    relay: dict[int, cost.FunctionUse] | None = None,
) -> dict[str, Any]:
    """Per-million and monthly dollars, with a note on what is measured and what assumed."""
    built = pipelines(load_rows, connections, relay)
    per_million = {
        batch: {k: round(v, 4) for k, v in cost.price(p.usage_per_million_events()).items()}
        for batch, p in built.items()
    }
    note = (
        "Ingest CPU per request and p50 latency: measured in this run (shipped ingest; 1 vCPU, "
        f"0.5 GiB, concurrency {connections}, 60 % target CPU). Relay: "
        + (
            "measured."
            if relay
            else "ASSUMED until the relay bench is wired (3 ms CPU + "
            "0.5 ms per event, 60 ms wall per message)."
        )
        + " Firestore per message of n events (counted from the code): 1 read and 2 "
        "writes, whatever n. sGTM: 1 vCPU / 0.5 GiB instances, CPU always "
        "allocated, min 2, 17.5 req/s each at 3x the average rate. Egress to GA4 is not priced."
    )
    return {
        "inputs": {
            b: {
                "ingest_cpu_ms": p.ingest.cpu_seconds * 1000,
                "ingest_wall_ms": p.ingest.wall_seconds * 1000,
                "relay_cpu_ms": p.relay.cpu_seconds * 1000,
                "message_bytes": p.message_bytes,
                "relay_measured": relay is not None,
            }
            for b, p in built.items()
        },
        "per_million": per_million,
        "monthly": cost.comparison(built),
        "note": note,
    }
