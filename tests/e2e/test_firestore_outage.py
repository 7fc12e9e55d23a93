"""Fail closed: with Firestore down nothing is sent; once it is back, everything arrives once."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from loyjoy_relay.devstack.emulators import Emulator
from loyjoy_relay.devstack.event_factory import granted
from loyjoy_relay.devstack.pipeline import EmulatorPipeline

from tests.e2e.conftest import (
    post_batch,
    relay_log_records,
    sent_events,
    start_pipeline,
    wait_for_events,
)
from tests.e2e.events import event, new_client_id, now_ms
from tests.support.emulators import start_emulator
from tests.support.net import wait_until


@pytest.fixture
def own_firestore() -> Iterator[Emulator]:
    """A Firestore emulator this test may stop and start."""
    emulator = start_emulator("firestore")
    yield emulator
    emulator.stop()


def test_firestore_down_sends_nothing_then_delivers_after_recovery(
    pubsub_emulator: Emulator, own_firestore: Emulator
) -> None:
    """Messages arriving while the ledger is unreadable are not sent, then delivered once."""
    pipeline: EmulatorPipeline = start_pipeline(pubsub_emulator, own_firestore)
    try:
        assert pipeline.ingest is not None
        assert pipeline.relay is not None
        client, t = new_client_id(), now_ms() - 5_000
        stamp = granted(t - 1000)
        assert post_batch(pipeline.ingest.url, [event("start", client, t, consent=stamp)]) == 202
        wait_for_events(pipeline, 1)
        own_firestore.stop()
        events = [event("interaction", client, t + i, consent=stamp) for i in range(1, 6)]
        assert post_batch(pipeline.ingest.url, events) == 202
        wait_until(
            lambda: "StoreUnavailable" in pipeline.relay.log_text(),  # type: ignore[union-attr]
            timeout=60,
            what="the relay to fail on the unreadable ledger",
        )
        assert len(sent_events(pipeline)) == 1  # fail closed: nothing more was sent
        own_firestore.start()
        received = wait_for_events(pipeline, 6, timeout=120)
        assert sorted(e["name"] for e in received) == ["interaction"] * 5 + ["start"]
        assert relay_log_records(pipeline, "relay message")
    finally:
        pipeline.stop()
