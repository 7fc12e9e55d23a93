"""The whole pipeline on the emulators, started once per module (see devstack.pipeline)."""

from __future__ import annotations

import ipaddress
import json
import urllib.error
import urllib.request
import uuid
import zlib
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from loyjoy_relay.devstack.emulators import Emulator
from loyjoy_relay.devstack.pipeline import EmulatorPipeline, PipelineOptions

from tests.conftest import PROJECT
from tests.support.net import wait_until


def start_pipeline(pubsub: Emulator, firestore: Emulator, **options: Any) -> EmulatorPipeline:
    """A started pipeline on a fresh topic of the given emulators."""
    topic = f"events-{uuid.uuid4().hex[:8]}"
    return EmulatorPipeline(
        pubsub, firestore, PipelineOptions(project=PROJECT, topic=topic, **options)
    ).start()


@pytest.fixture(scope="module")
def pipeline(pubsub_emulator: Emulator, firestore_emulator: Emulator) -> Iterator[EmulatorPipeline]:
    """The pipeline shared by a test module."""
    started = start_pipeline(pubsub_emulator, firestore_emulator)
    yield started
    started.stop()


@pytest.fixture(autouse=True)
def _clear_sink(request: pytest.FixtureRequest) -> None:
    if "pipeline" in request.fixturenames:
        request.getfixturevalue("pipeline").sink.clear()


def post_batch(url: str, events: list[dict[str, Any]], sent_at: int | None = None) -> int:
    """POST a batch to ingest as its client's own browser would, from an address of its
    own (as Google's front end reports it: ingest limits each address); the HTTP status."""
    body = {"sent_at": sent_at or max(e["ts"] for e in events), "events": events}
    address = ipaddress.IPv4Address(
        0x0A000000 + zlib.crc32(events[0]["client_id"].encode()) % 2**24
    )
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "X-Forwarded-For": str(address)},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


def sent_events(pipeline: EmulatorPipeline) -> list[dict[str, Any]]:
    """Every event the GA4 stand-in received on /mp/collect, with its request's identity."""
    assert pipeline.sink is not None
    events = []
    for record in pipeline.sink.records():
        if record.path != "/mp/collect" or not isinstance(record.body, dict):
            continue
        for event in record.body.get("events", []):
            events.append(
                {
                    **event,
                    "client_id": record.body.get("client_id"),
                    "user_id": record.body.get("user_id"),
                    "consent": record.body.get("consent"),
                }
            )
    return events


def wait_for_events(pipeline: EmulatorPipeline, count: int, timeout: float = 60) -> list[Any]:
    """Poll the stand-in until ``count`` events arrived; fail with the relay's log if not."""
    try:
        wait_until(
            lambda: len(sent_events(pipeline)) >= count,
            timeout=timeout,
            what=f"{count} events at the GA4 stand-in",
        )
    except (TimeoutError, AssertionError) as error:
        assert pipeline.relay is not None
        raise AssertionError(f"{error}\nrelay log:\n{pipeline.relay.log_text()[-4000:]}") from None
    return sent_events(pipeline)


def relay_log_records(pipeline: EmulatorPipeline, message: str) -> list[dict[str, Any]]:
    """The relay's structured log lines with this ``message``."""
    assert pipeline.relay is not None
    records = []
    for line in pipeline.relay.log_text().splitlines():
        if line.startswith("{"):
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if record.get("message") == message:
                records.append(record)
    return records


def count_by_name(events: list[dict[str, Any]]) -> Counter[str]:
    """How many events of each GA4 name."""
    return Counter(event["name"] for event in events)
