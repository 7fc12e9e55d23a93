"""The processes a bench run needs: the Pub/Sub emulator and functions under the server.

Uses the dev stack's process and emulator helpers (``loyjoy_relay.devstack``), as the
tests do. Both functions run under functions-framework's production server (gunicorn,
non-debug) with the same explicit settings, so the only difference is the function.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from loyjoy_relay.devstack.emulators import Emulator, gcloud_has
from loyjoy_relay.devstack.processes import ServerProcess, function_process

from bench.workload import BOT, ORIGIN

ROOT = Path(__file__).resolve().parents[1]
PROJECT = "bench-project"
TOPIC = "bench-events"
BASELINE_SOURCE = ROOT / "bench" / "baseline" / "main.py"
INGEST_SOURCE = ROOT / "functions" / "ingest" / "main.py"


@dataclass(frozen=True)
class ServerSettings:
    """functions-framework's gunicorn knobs (read by it from WORKERS and THREADS)."""

    workers: int = 1
    threads: int = 8

    def env(self) -> dict[str, str]:
        """The environment that sets them."""
        return {"WORKERS": str(self.workers), "THREADS": str(self.threads)}

    def label(self) -> str:
        """How the table names them."""
        return f"{self.workers} worker x {self.threads} threads"


def start_pubsub() -> Emulator:
    """A started Pub/Sub emulator holding the bench topic (no subscription: see README)."""
    if not gcloud_has("pubsub"):
        raise SystemExit("the Pub/Sub emulator is not installed (see README, make test)")
    emulator = Emulator("pubsub", project=PROJECT).start()
    os.environ["PUBSUB_EMULATOR_HOST"] = emulator.host
    from google.cloud import pubsub_v1  # type: ignore[attr-defined]

    publisher = pubsub_v1.PublisherClient()
    publisher.create_topic(name=publisher.topic_path(PROJECT, TOPIC))
    return emulator


# The load comes from one address and cycles through a thousand clients far faster than a
# browser sends: limits this high are checked on every request (their CPU is measured) but
# never refuse one. A run with refusals would measure 429s, not ingest.
UNLIMITED = {
    "CLIENT_RATE_PER_SECOND": "1000000000",
    "CLIENT_RATE_BURST": "1000000000",
    "ADDRESS_RATE_PER_SECOND": "1000000000",
    "ADDRESS_RATE_BURST": "1000000000",
}


def ingest_env(emulator: Emulator) -> dict[str, str]:
    """The ingest function's configuration for the bench."""
    return {
        "GOOGLE_CLOUD_PROJECT": PROJECT,
        "RELAY_TOPIC": TOPIC,
        "ALLOWED_ORIGINS": ORIGIN,
        "ALLOWED_BOT_IDS": BOT,
        "PUBSUB_EMULATOR_HOST": emulator.host,
        **UNLIMITED,
    }


def function_server(
    source: Path,
    target: str,
    env: dict[str, str],
    settings: ServerSettings,
    signature: str = "http",
) -> ServerProcess:
    """A functions-framework process (not debug: gunicorn) serving ``target``."""
    return function_process(target, {**env, **settings.env()}, signature, source=source)
