"""Wiring for the relay, which is built elsewhere: its emulators, cold start and bench.

``bench.run`` measures the shipped relay by default (``bench.relay_factory:create``); see
bench/README.md.
"""

from __future__ import annotations

import os
import sys
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from loyjoy_relay.adapters.client_ids import random_pseudonym_key

from bench import cold_start, relay_bench
from bench.cost import FunctionUse
from bench.servers import PROJECT
from bench.workload import BATCH_SIZES
from tests.support.emulators import Emulator
from tests.support.processes import ROOT, ServerProcess

RELAY_SOURCE = ROOT / "functions" / "relay" / "main.py"


class RelayEnvironment:
    """The relay's emulators: Pub/Sub (running) and Firestore, started on first use."""

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
            # In its own process, so that its CPU is not counted as the relay's.
            cli = Path(sys.executable).parent / "loyjoy-relay"
            self._sink = ServerProcess([str(cli), "ga4", "sink", "--port", "{port}"], {}).start()
            self._stack.callback(self._sink.stop)
        variables = {
            "GOOGLE_CLOUD_PROJECT": PROJECT,
            "PUBSUB_EMULATOR_HOST": self._pubsub_host,
            "FIRESTORE_EMULATOR_HOST": self._firestore.host,
            "GA4_MEASUREMENT_ID": "G-BENCH12345",
            "GA4_API_SECRET": "bench-secret",
            "PSEUDONYM_KEY": self._pseudonym_key,
            "GA4_ENDPOINT": self._sink.url,
        }
        os.environ.update(variables)  # for a relay built in this process
        return variables


def relay_cold_target(relay_env: RelayEnvironment) -> cold_start.Target | None:
    """The relay as a cold-start target (its GA4_* variables set by the caller), if built."""
    message = relay_bench.client_batch_messages(5, 1)[0]
    return cold_start.Target(
        "relay",
        RELAY_SOURCE,
        "relay",
        relay_env.variables(),
        signature="cloudevent",
        body=cold_start.pubsub_cloudevent(message),
        headers={"Content-Type": "application/cloudevents+json"},
    )


def relay_figures(
    spec: str | None, messages: int, concurrency: int, relay_env: RelayEnvironment
) -> tuple[dict[str, Any], dict[int, FunctionUse] | None]:
    """The relay's in-process figures per batch size, when a relay callable is given."""
    if not spec:
        return {"status": "pending: run with --relay-process MODULE:FACTORY"}, None
    relay_env.variables()
    process = relay_bench.load_process(spec)
    figures: dict[str, Any] = {"status": "measured", "process": spec}
    uses = {}
    for size in BATCH_SIZES:
        result = relay_bench.measure(process, relay_bench.client_batch_messages(size, messages))
        figures[f"batch_{size}"] = result.as_json()
        uses[size] = result.function_use(concurrency)
    return figures, uses
