"""Wiring for the relay, which is built elsewhere: its emulators, cold start and bench.

Everything here is used only when ``bench.run`` is given ``--relay-process`` or
``--relay-cold-start``; see bench/README.md.
"""

from __future__ import annotations

import os
from contextlib import ExitStack
from typing import Any

from bench import cold_start, relay_bench
from bench.cost import FunctionUse
from bench.servers import PROJECT
from bench.workload import BATCH_SIZES
from tests.support.emulators import Emulator
from tests.support.processes import ROOT

RELAY_SOURCE = ROOT / "functions" / "relay" / "main.py"


class RelayEnvironment:
    """The relay's emulators: Pub/Sub (running) and Firestore, started on first use."""

    def __init__(self, pubsub_host: str, stack: ExitStack) -> None:
        self._pubsub_host = pubsub_host
        self._stack = stack
        self._firestore: Emulator | None = None

    def variables(self) -> dict[str, str]:
        """Start Firestore if needed; set and return the variables the relay reads."""
        if self._firestore is None:
            self._firestore = Emulator("firestore", project=PROJECT).start()
            self._stack.callback(self._firestore.stop)
        variables = {
            "GOOGLE_CLOUD_PROJECT": PROJECT,
            "PUBSUB_EMULATOR_HOST": self._pubsub_host,
            "FIRESTORE_EMULATOR_HOST": self._firestore.host,
        }
        os.environ.update(variables)  # for a relay built in this process
        return variables


def relay_cold_target(relay_env: RelayEnvironment) -> cold_start.Target | None:
    """The relay as a cold-start target (its GA4_* variables set by the caller), if built."""
    if not RELAY_SOURCE.is_file():
        print(f"--relay-cold-start: no {RELAY_SOURCE.relative_to(ROOT)} yet, skipped")
        return None
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
