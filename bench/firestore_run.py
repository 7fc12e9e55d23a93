"""The deployed relay against the emulators: Firestore operations, CPU and time per message.

The relay is built as the function builds it (``create_relay_service``: its Firestore
stores, Pub/Sub dead letters, the real GA4 sender) with one change: its Firestore client
counts billed operations (``bench.firestore_counts``). The GA4 stand-in runs in another
process so that its CPU is not counted as the relay's. What this gives the cost model:
Firestore reads, writes and deletes per message, measured on whatever stores the relay is
wired with, and the relay's CPU and wall time per message with a (loopback) Firestore.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from loyjoy_relay.adapters.client_ids import random_pseudonym_key
from loyjoy_relay.devstack.emulators import Emulator
from loyjoy_relay.devstack.processes import ServerProcess

from bench import cold_start, relay_bench
from bench.firestore_counts import counting_client
from bench.servers import PROJECT, ROOT
from bench.workload import BATCH_SIZES

RELAY_SOURCE = ROOT / "functions" / "relay" / "main.py"


class RelayEnvironment:
    """The relay's surroundings: Pub/Sub (running), Firestore and a GA4 stand-in."""

    def __init__(self, pubsub_host: str, stack: ExitStack) -> None:
        self._pubsub_host = pubsub_host
        self._stack = stack
        self._firestore: Emulator | None = None
        self._sink: ServerProcess | None = None
        self._pseudonym_key = random_pseudonym_key()  # one per bench run

    @property
    def firestore(self) -> Emulator:
        """The Firestore emulator (started on first use)."""
        self.variables()
        assert self._firestore is not None
        return self._firestore

    def variables(self) -> dict[str, str]:
        """Start Firestore and a GA4 stand-in if needed; set and return the relay's variables."""
        if self._firestore is None:
            self._firestore = Emulator("firestore", project=PROJECT).start()
            self._stack.callback(self._firestore.stop)
        if self._sink is None:
            cli = Path(sys.executable).parent / "loyjoy-relay"
            self._sink = ServerProcess([str(cli), "ga4", "sink", "--port", "{port}"], {}).start()
            self._stack.callback(self._sink.stop)
        variables = {
            "GOOGLE_CLOUD_PROJECT": PROJECT,
            "PUBSUB_EMULATOR_HOST": self._pubsub_host,
            "FIRESTORE_EMULATOR_HOST": self._firestore.host,
            "GA4_MEASUREMENT_ID": relay_bench.MEASUREMENT_ID,
            "GA4_API_SECRET": "bench-secret",
            "PSEUDONYM_KEY": self._pseudonym_key,
            "GA4_ENDPOINT": self._sink.url,
        }
        os.environ.update(variables)  # for the relay built in this process
        return variables

    def cold_target(self) -> cold_start.Target:
        """The relay as a cold-start target, its first request a pushed client batch."""
        message = relay_bench.client_batch_messages(5, 1)[0]
        return cold_start.Target(
            "relay",
            RELAY_SOURCE,
            "relay",
            self.variables(),
            signature="cloudevent",
            body=cold_start.pubsub_cloudevent(message),
            headers={"Content-Type": "application/cloudevents+json"},
        )


def _per(total: float, count: int) -> float:
    return round(total / count, 3) if count else 0.0


def measure(
    relay_env: RelayEnvironment,
    *,
    messages: int = 200,
    batch_sizes: Sequence[int] = BATCH_SIZES,
    concurrency: int = 8,
) -> tuple[dict[str, Any], dict[int, Any]]:
    """Per batch size: Firestore operations per message and event, CPU and wall time.

    Returns the figures and, per batch size, the relay's ``FunctionUse`` for the cost model.
    """
    from loyjoy_relay.service.wiring import create_relay_service

    relay_env.variables()
    client, counts = counting_client(PROJECT)
    log = relay_bench.ByteCounter()
    figures: dict[str, Any] = {
        "relay": "create_relay_service(firestore_client=<counting client>), Firestore emulator",
        "counting": "bench/firestore_counts.py (reads: documents a lookup or query returns, "
        "found or missing, one for an empty query; writes: documents a commit writes; "
        "TTL deletes: distinct documents written with expire_at)",
    }
    uses = {}
    with contextlib.redirect_stdout(log):  # the relay logs to stdout, as deployed
        relay = create_relay_service(firestore_client=client)
        for size in batch_sizes:
            timed = relay_bench.client_batch_messages(size, messages, seed=30 + size)
            warmup = relay_bench.client_batch_messages(size, 10, seed=60 + size)
            for message in warmup:
                relay.process(message)
            before = counts.snapshot()
            result = relay_bench.measure(relay.process, timed, log=log)
            reads, writes, deletes, ttl = (
                after - first for after, first in zip(counts.snapshot(), before, strict=True)
            )
            figures[f"batch_{size}"] = {
                **result.as_json(),
                "firestore_reads_per_message": _per(reads, result.messages),
                "firestore_writes_per_message": _per(writes, result.messages),
                "firestore_deletes_per_message": _per(deletes + ttl, result.messages),
                "firestore_reads_per_event": _per(reads, result.events),
                "firestore_writes_per_event": _per(writes, result.events),
                "firestore_deletes_per_event": _per(deletes + ttl, result.events),
            }
            uses[size] = result.function_use(concurrency)
    return figures, uses
