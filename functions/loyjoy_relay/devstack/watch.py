"""Feeding the live view from the running stack: log files, a tap subscription, the sink."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from loyjoy_relay.devstack.flow import FlowBoard
from loyjoy_relay.devstack.ga4_sink import Ga4Sink

POLL_SECONDS = 0.3


def _forever(name: str, step: Callable[[], None], stop: threading.Event) -> None:
    def loop() -> None:
        while not stop.is_set():
            try:
                step()
            except Exception:  # a view must never take the stack down; try again
                time.sleep(1)
            stop.wait(POLL_SECONDS)

    threading.Thread(target=loop, name=name, daemon=True).start()


def follow_log(
    path: Path, on_record: Callable[[dict[str, Any]], None], stop: threading.Event
) -> None:
    """Hand every JSON line appended to ``path`` to ``on_record``."""
    offset = 0

    def step() -> None:
        nonlocal offset
        with path.open("rb") as log:
            log.seek(offset)
            chunk = log.read()
        complete = chunk[: chunk.rfind(b"\n") + 1]
        offset += len(complete)
        for line in complete.decode(errors="replace").splitlines():
            if line.startswith("{"):
                try:
                    on_record(json.loads(line))
                except ValueError:
                    continue

    _forever(f"follow-{path.name}", step, stop)


def follow_sink(sink: Ga4Sink, board: FlowBoard, stop: threading.Event) -> None:
    """Keep the board's view of the GA4 stand-in's requests current."""
    _forever(
        "follow-sink", lambda: board.on_ga4_requests([r.as_json() for r in sink.records()]), stop
    )


def follow_tap(subscription_path: str, board: FlowBoard, stop: threading.Event) -> None:
    """Pull a tap subscription on the topic and show each published batch."""
    from google.api_core.exceptions import DeadlineExceeded
    from google.cloud import pubsub_v1  # type: ignore[attr-defined]

    subscriber = pubsub_v1.SubscriberClient()

    def step() -> None:
        try:
            response = subscriber.pull(
                request={"subscription": subscription_path, "max_messages": 100}, timeout=2
            )
        except DeadlineExceeded:
            return
        if response.received_messages:
            for received in response.received_messages:
                board.on_published(received.message.data)
            subscriber.acknowledge(
                request={
                    "subscription": subscription_path,
                    "ack_ids": [m.ack_id for m in response.received_messages],
                }
            )

    _forever("follow-tap", step, stop)
