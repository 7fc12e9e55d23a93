"""The pipeline in one process, for machines without the emulators.

The same ingest and relay services as production, with the in-process adapters: the
embedded queue for Pub/Sub, an in-memory client ledger for Firestore, and the GA4
stand-in. Ingest is served over HTTP (the browser's listener needs a URL); the queue
delivers to the relay service directly, retrying and dead-lettering as Pub/Sub would.
"""

from __future__ import annotations

import contextlib
import io
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import flask
from werkzeug.serving import BaseWSGIServer, make_server

from loyjoy_relay.adapters.client_ids import random_pseudonym_key
from loyjoy_relay.adapters.dead_letters import DeadLetters
from loyjoy_relay.adapters.fakes import InMemoryConsentLedger, RecordingPublisher
from loyjoy_relay.adapters.ga4_sender import Ga4Sender
from loyjoy_relay.adapters.logs import JsonLogger
from loyjoy_relay.adapters.mapping_file import load_mapping
from loyjoy_relay.adapters.ports import MessagePublisher
from loyjoy_relay.adapters.rules_file import load_rules
from loyjoy_relay.adapters.secret_manager import SecretProvider
from loyjoy_relay.config import IngestSettings, shipped_file
from loyjoy_relay.core.ga4.routing import Ga4Property, SecretRef
from loyjoy_relay.core.planner import Planner
from loyjoy_relay.core.pseudonyms import Pseudonyms
from loyjoy_relay.devstack.embedded_queue import EmbeddedQueue
from loyjoy_relay.devstack.ga4_sink import Ga4Sink
from loyjoy_relay.devstack.pipeline import LOCAL_API_SECRET, LOCAL_MEASUREMENT_ID
from loyjoy_relay.service.ingest import IngestService
from loyjoy_relay.service.wiring import build_relay_service


class LogTee(io.TextIOBase):
    """A text stream that hands each JSON log line to ``on_record``."""

    def __init__(self, on_record: Callable[[dict[str, Any]], None]):
        self._on_record = on_record

    def write(self, text: str) -> int:
        """Parse and forward every complete line."""
        for line in text.splitlines():
            if line.startswith("{"):
                with contextlib.suppress(ValueError):
                    self._on_record(json.loads(line))
        return len(text)


@dataclass
class EmbeddedStack:
    """Ingest over HTTP, an in-process queue and relay, and the GA4 stand-in."""

    ingest_url: str
    sink: Ga4Sink
    queue: EmbeddedQueue
    server: BaseWSGIServer

    def stop(self) -> None:
        """Stop serving and delivering."""
        self.queue.stop()
        self.server.shutdown()
        self.sink.stop()


def start_embedded(
    *,
    allowed_origins: str,
    on_log: Callable[[dict[str, Any]], None],
    on_published: Callable[[bytes], None],
) -> EmbeddedStack:
    """Start the whole pipeline in this process; every log line also goes to ``on_log``."""
    stream = LogTee(on_log)
    sink = Ga4Sink().start()
    relay_logger = JsonLogger("relay", stream)  # type: ignore[arg-type]
    relay = build_relay_service(
        planner=Planner(
            rules=load_rules(shipped_file("consent-rules.yaml")),
            mapping=load_mapping(shipped_file("ga4-mapping.yaml")),
            default_property=Ga4Property(
                LOCAL_MEASUREMENT_ID, SecretRef("value", LOCAL_API_SECRET)
            ),
        ),
        ledger=InMemoryConsentLedger(),
        sender=Ga4Sender(sink.url, logger=relay_logger),
        secrets=SecretProvider(),
        dead_letters=DeadLetters(RecordingPublisher()),
        logger=relay_logger,
        pseudonyms=Pseudonyms(random_pseudonym_key().encode()),  # a new key per run
    )
    queue = EmbeddedQueue(deliver=relay.handle_event_data)
    queue.taps.append(lambda message: on_published(message.data))
    publisher: MessagePublisher = queue
    settings = IngestSettings.from_env(
        {"GOOGLE_CLOUD_PROJECT": "local-project", "ALLOWED_ORIGINS": allowed_origins}
    )
    ingest = IngestService(settings, publisher, JsonLogger("ingest", stream))  # type: ignore[arg-type]
    app = flask.Flask("ingest")

    @app.route("/", defaults={"path": ""}, methods=["GET", "POST", "OPTIONS", "PUT", "DELETE"])
    @app.route("/<path:path>", methods=["GET", "POST", "OPTIONS", "PUT", "DELETE"])
    def serve(path: str) -> flask.Response:
        return ingest.handle(flask.request)

    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, name="embedded-ingest", daemon=True).start()
    queue.start()
    return EmbeddedStack(f"http://127.0.0.1:{server.server_port}", sink, queue, server)
