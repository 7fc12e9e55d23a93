"""Dollars per million events: this relay on Cloud Run functions vs server-side GTM / Stape.

Pure arithmetic, no I/O. Everything it is fed is measured by ``bench.run``: each
function's CPU and time per invocation, the Firestore operations per message (counted on
the real client, ``bench.firestore_counts``), the Pub/Sub message size and the bytes of
log lines per event; prices are the published list prices below.

Prices, as read in 2026 for ``shared/reference/gcp-pricing.md`` (most Google price pages
show no date; the reference gives dates where a page did):
- Cloud Run functions (2nd gen) are billed at Cloud Run prices (cloud.google.com/functions/pricing).
  Request-based, Tier 1: $0.000024 per vCPU-second, $0.0000025 per GiB-second, $0.40 per
  million requests; free per billing account per month 180,000 vCPU-s, 360,000 GiB-s,
  2 M requests (cloud.google.com/run/pricing). Instance-based ("CPU always allocated"):
  $0.000018 per vCPU-s, $0.000002 per GiB-s (secondary quotes of the same page).
- Pub/Sub: $40 per TiB of publish and delivery throughput, each publish or push request
  billed at least 1,000 bytes; first 10 GiB a month free (cloud.google.com/pubsub/pricing).
- Firestore Native, regional us-west1 (the reference lists us-central1 at the same rates,
  from a secondary source): reads $0.03, writes $0.09, deletes $0.01 per 100,000 documents;
  free 50,000 reads, 20,000 writes, 20,000 deletes a day; TTL deletes are billed as deletes
  and are not covered by the free quota (cloud.google.com/firestore/pricing).
- Cloud Logging: $0.50 per GiB ingested (30 days' retention included), first 50 GiB per
  project per month free (cloud.google.com/stackdriver/pricing).
- sGTM on Cloud Run: Google's setup guide recommends 1 vCPU / 0.5 GB instances with CPU
  always allocated, at least 2 instances, and says 2-10 instances handle 35-350 requests
  per second (developers.google.com/tag-platform/tag-manager/server-side/cloud-run-setup-guide).
- Stape.io (secondary, stape.io/price read Sep-Oct 2026, annual billing): Pro 500 k
  requests $17/month, Business 5 M $83/month, Enterprise 20 M $167/month, above: a quote.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

SECONDS_PER_MONTH = 30 * 24 * 3600
TIB = 2**40
GIB = 2**30
MILLION = 1_000_000
VOLUMES = (1 * MILLION, 10 * MILLION, 100 * MILLION)
BATCH_SIZES = (1, 5, 20)


@dataclass(frozen=True)
class Prices:
    """List prices (USD) and monthly free allowances; see the module docstring."""

    vcpu_second: float = 0.000024
    gib_second: float = 0.0000025
    request: float = 0.40 / MILLION
    instance_vcpu_second: float = 0.000018
    instance_gib_second: float = 0.000002
    pubsub_tib: float = 40.0
    pubsub_min_bytes: int = 1000
    firestore_read: float = 0.03 / 100_000
    firestore_write: float = 0.09 / 100_000
    firestore_delete: float = 0.01 / 100_000
    free_vcpu_seconds: float = 180_000
    free_gib_seconds: float = 360_000
    free_requests: float = 2 * MILLION
    free_pubsub_bytes: float = 10 * GIB
    free_firestore_reads: float = 50_000 * 30
    free_firestore_writes: float = 20_000 * 30
    logging_gib: float = 0.50
    free_logging_bytes: float = 50 * GIB


@dataclass(frozen=True)
class FunctionUse:
    """What one invocation of a function uses, and the instance shape it runs on."""

    cpu_seconds: float  # CPU per invocation
    wall_seconds: float  # latency per invocation
    vcpu: float = 1.0
    memory_gib: float = 0.5
    concurrency: int = 8  # requests sharing one instance
    target_utilization: float = 0.6  # Cloud Run scales out near 60 % CPU

    def billed_instance_seconds(self) -> float:
        """Instance time billed per invocation (request-based billing, overlaps shared).

        The larger of the CPU the invocation needs at the autoscaler's target utilisation,
        and its wall time shared with the other requests in flight on the instance.
        """
        return max(
            self.cpu_seconds / (self.vcpu * self.target_utilization),
            self.wall_seconds / self.concurrency,
        )


@dataclass(frozen=True)
class StoreUse:
    """Firestore documents billed per message: measured by ``bench.firestore_run``.

    ``deletes`` holds the TTL deletes to come (one per document written with a TTL field),
    which Firestore bills as deletes with no free quota.
    """

    reads: float
    writes: float
    deletes: float


@dataclass(frozen=True)
class Usage:
    """Billable units over some number of events."""

    vcpu_seconds: float = 0.0
    gib_seconds: float = 0.0
    requests: float = 0.0
    pubsub_bytes: float = 0.0
    firestore_reads: float = 0.0
    firestore_writes: float = 0.0
    firestore_deletes: float = 0.0
    logging_bytes: float = 0.0

    def scaled(self, factor: float) -> Usage:
        """The same usage ``factor`` times over."""
        return Usage(**{k: v * factor for k, v in self.__dict__.items()})


def function_usage(use: FunctionUse, invocations: float) -> Usage:
    """Cloud Run units of ``invocations`` of a function."""
    seconds = use.billed_instance_seconds() * invocations
    return Usage(
        vcpu_seconds=seconds * use.vcpu,
        gib_seconds=seconds * use.memory_gib,
        requests=invocations,
    )


@dataclass(frozen=True)
class Pipeline:
    """The relay pipeline's use per ingest request of ``batch`` events (one message)."""

    batch: int
    ingest: FunctionUse
    relay: FunctionUse
    message_bytes: float  # Pub/Sub message: body + attributes + metadata
    store: StoreUse  # Firestore documents per message
    log_bytes_per_event: float = 0.0  # both functions' log lines at INFO

    def usage_per_million_events(self) -> Usage:
        """Billable units of one million events sent in batches of ``batch``."""
        messages = MILLION / self.batch
        ingest = function_usage(self.ingest, messages)
        relay = function_usage(self.relay, messages)
        return Usage(
            vcpu_seconds=ingest.vcpu_seconds + relay.vcpu_seconds,
            gib_seconds=ingest.gib_seconds + relay.gib_seconds,
            requests=ingest.requests + relay.requests,
            # A publish and a push delivery per message, each billed at least 1,000 B. (A
            # Publish request that carries several requests' messages pays the minimum
            # once; not counted here, so this is the upper bound.)
            pubsub_bytes=2 * messages * max(self.message_bytes, 1000),
            firestore_reads=self.store.reads * messages,
            firestore_writes=self.store.writes * messages,
            firestore_deletes=self.store.deletes * messages,
            logging_bytes=self.log_bytes_per_event * MILLION,
        )


def price(usage: Usage, prices: Prices = Prices(), free_tier: bool = False) -> dict[str, float]:
    """Dollars per service for ``usage`` (optionally after the monthly free allowances)."""

    def billable(amount: float, free: float) -> float:
        return max(0.0, amount - free) if free_tier else amount

    functions = (
        billable(usage.vcpu_seconds, prices.free_vcpu_seconds) * prices.vcpu_second
        + billable(usage.gib_seconds, prices.free_gib_seconds) * prices.gib_second
        + billable(usage.requests, prices.free_requests) * prices.request
    )
    pubsub = billable(usage.pubsub_bytes, prices.free_pubsub_bytes) / TIB * prices.pubsub_tib
    firestore = (
        billable(usage.firestore_reads, prices.free_firestore_reads) * prices.firestore_read
        + billable(usage.firestore_writes, prices.free_firestore_writes) * prices.firestore_write
        + usage.firestore_deletes * prices.firestore_delete  # TTL deletes: no free quota
    )
    logging = billable(usage.logging_bytes, prices.free_logging_bytes) / GIB * prices.logging_gib
    return {
        "functions": functions,
        "pubsub": pubsub,
        "firestore": firestore,
        "logging": logging,
        "total": functions + pubsub + firestore + logging,
    }


@dataclass(frozen=True)
class TagManagerSetup:
    """Server-side GTM on Cloud Run as Google's guide recommends it."""

    min_instances: int = 2
    vcpu: float = 1.0
    memory_gib: float = 0.5
    requests_per_second_per_instance: float = 17.5  # guide: 35-350 req/s on 2-10 instances
    peak_to_average: float = 3.0  # traffic is not flat: size for the busy hour

    def instances(self, events_per_month: float) -> int:
        """Instances kept running: the minimum, or what the peak needs."""
        peak = events_per_month / SECONDS_PER_MONTH * self.peak_to_average
        return max(self.min_instances, math.ceil(peak / self.requests_per_second_per_instance))

    def monthly(self, events_per_month: float, prices: Prices = Prices()) -> float:
        """Dollars a month: instance-based billing for every instance, all month."""
        per_instance = SECONDS_PER_MONTH * (
            self.vcpu * prices.instance_vcpu_second + self.memory_gib * prices.instance_gib_second
        )
        return self.instances(events_per_month) * per_instance


STAPE_PLANS = (
    (500_000, 17.0, "Pro"),
    (5 * MILLION, 83.0, "Business"),
    (20 * MILLION, 167.0, "Enterprise"),
)


def stape_monthly(events_per_month: float) -> tuple[str, float | None]:
    """The smallest Stape plan holding the volume (one request per event), or a quote."""
    for quota, dollars, name in STAPE_PLANS:
        if events_per_month <= quota:
            return name, dollars
    return "Custom (quote)", None


def comparison(
    pipelines: dict[int, Pipeline], volumes: tuple[int, ...] = VOLUMES
) -> list[dict[str, Any]]:
    """Monthly dollars at each volume: the relay per batch size, sGTM, Stape."""
    rows = []
    sgtm = TagManagerSetup()
    for volume in volumes:
        row: dict[str, Any] = {"events_per_month": volume}
        for batch, pipeline in pipelines.items():
            usage = pipeline.usage_per_million_events().scaled(volume / MILLION)
            row[f"relay_batch_{batch}"] = round(price(usage)["total"], 2)
            row[f"relay_batch_{batch}_after_free_tier"] = round(
                price(usage, free_tier=True)["total"], 2
            )
        row["sgtm_instances"] = sgtm.instances(volume)
        row["sgtm_cloud_run"] = round(sgtm.monthly(volume), 2)
        plan, dollars = stape_monthly(volume)
        row["stape_plan"] = plan
        row["stape"] = dollars
        rows.append(row)
    return rows
