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


def log_bytes_per_event(
    batch: int, relay: dict[str, Any], ingest_bytes_per_request: dict[int, float]
) -> float:
    """Both functions' log bytes per event at ``batch``: the relay's line, ingest's line."""
    relay_bytes = float(relay[f"batch_{batch}"]["log_bytes_per_event"])
    return relay_bytes + ingest_bytes_per_request[batch] / batch


def pipelines(
    load_rows: list[dict[str, Any]],
    connections: int,
    relay: dict[str, Any],
    relay_uses: dict[int, cost.FunctionUse],
    ingest_log_bytes: dict[int, float],
) -> dict[int, cost.Pipeline]:
    """One pipeline per batch size: ingest from the load rows, the relay from its run."""
    found = {}
    for row in load_rows:
        if row["function"] != "ingest":
            continue
        batch = int(row["batch"])
        measured = relay[f"batch_{batch}"]
        found[batch] = cost.Pipeline(
            batch=batch,
            ingest=cost.FunctionUse(
                cpu_seconds=row["cpu_ms_per_request"] / 1000,
                wall_seconds=row["p50_ms"] / 1000,
                concurrency=connections,
            ),
            relay=relay_uses[batch],
            message_bytes=message_bytes(batch),
            store=cost.StoreUse(
                reads=measured["firestore_reads_per_message"],
                writes=measured["firestore_writes_per_message"],
                deletes=measured["firestore_deletes_per_message"],
            ),
            log_bytes_per_event=log_bytes_per_event(batch, relay, ingest_log_bytes),
        )
    return found


def figures(
    load_rows: list[dict[str, Any]],
    connections: int,
    relay: dict[str, Any],
    relay_uses: dict[int, cost.FunctionUse],
    ingest_log_bytes: dict[int, float],
) -> dict[str, Any]:
    """Per-million and monthly dollars, with a note on where each input comes from."""
    built = pipelines(load_rows, connections, relay, relay_uses, ingest_log_bytes)
    per_million = {
        batch: {k: round(v, 4) for k, v in cost.price(p.usage_per_million_events()).items()}
        for batch, p in built.items()
    }
    note = (
        "All inputs measured in this run. Ingest: CPU per request and p50 latency under load "
        f"(1 vCPU, 0.5 GiB, concurrency {connections}, 60 % target CPU). Relay: CPU and wall "
        "time per message against the Firestore emulator; Firestore reads, writes and (TTL) "
        "deletes per message counted on the real client (bench/firestore_counts.py). Logs: "
        "bytes of both functions' JSON lines per event at INFO (Cloud Logging adds its own "
        "metadata per entry, not priced). Pub/Sub: each message billed at least 1,000 B on "
        "publish and on push. sGTM: 1 vCPU / 0.5 GiB instances, CPU always allocated, min 2, "
        "17.5 req/s each at 3x the average rate. Egress to GA4 is not priced."
    )
    return {
        "inputs": {
            b: {
                "ingest_cpu_ms": round(p.ingest.cpu_seconds * 1000, 3),
                "ingest_wall_ms": round(p.ingest.wall_seconds * 1000, 3),
                "relay_cpu_ms": round(p.relay.cpu_seconds * 1000, 3),
                "relay_wall_ms": round(p.relay.wall_seconds * 1000, 3),
                "message_bytes": p.message_bytes,
                "firestore_per_message": [p.store.reads, p.store.writes, p.store.deletes],
                "log_bytes_per_event": round(p.log_bytes_per_event, 1),
            }
            for b, p in built.items()
        },
        "per_million": per_million,
        "monthly": cost.comparison(built),
        "note": note,
    }
