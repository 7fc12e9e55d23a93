"""The client-batch message: version 2 carries all of a client's bots; version 1 messages
(one bot each, as parked before version 2) still decode, relay and replay."""

from __future__ import annotations

import json
from typing import Any

import pytest
from loyjoy_relay.adapters.dead_letters import DeadLetters
from loyjoy_relay.adapters.fakes import RecordingPublisher
from loyjoy_relay.core.events import ClientBatch
from loyjoy_relay.devstack.event_factory import client_batch, contract_event, granted, now_ms
from loyjoy_relay.devstack.ga4_sink import Ga4Sink
from loyjoy_relay.errors import UndecodableMessage

from tests.relay.test_relay_service import CLIENT, make_service, sent


def events(*bots: str) -> list[dict[str, Any]]:
    """Granted events of CLIENT, one per bot."""
    ts = now_ms() - 1000
    return [
        contract_event("start", bot_id=bot, client_id=CLIENT, ts=ts + i, consent=granted(ts - 9))
        for i, bot in enumerate(bots)
    ]


def version_1(items: list[dict[str, Any]]) -> bytes:
    """A message as ingest published it before version 2: one bot, named by ``bot_id``."""
    batch = {**client_batch(items), "schema_version": 1, "bot_id": items[0]["bot_id"]}
    return json.dumps(batch).encode()


@pytest.fixture
def sink() -> Any:
    """A running GA4 stand-in."""
    with Ga4Sink() as running:
        yield running


def test_a_version_1_message_is_still_relayed(sink: Ga4Sink) -> None:
    """A message parked as version 1 still decodes, and its events reach GA4 when replayed."""
    report = make_service(sink).process(version_1(events("bot-a", "bot-a")))
    assert (report.forwarded, report.dead_lettered) == (2, 0)
    assert len(sent(sink)[0]["events"]) == 2


def test_a_version_2_message_carries_several_bots_and_parks_as_version_2() -> None:
    """A client's events of two bots decode from one message; parking some of them (also of a
    version 1 message) writes version 2 with the bots as an attribute."""
    for raw in (
        json.dumps(client_batch(events("bot-b", "bot-a"))).encode(),
        version_1(events("x")),
    ):
        batch = ClientBatch.from_message(raw)
        parked = RecordingPublisher()
        DeadLetters(parked).park_events(batch, list(batch.events), "test")
        [message] = parked.messages
        data = json.loads(message.data)
        assert data["schema_version"] == 2
        assert "bot_id" not in data
        assert message.attributes["bot_ids"] == ",".join(batch.bot_ids)
        assert ClientBatch.from_message(message.data).events == batch.events
    assert ClientBatch.from_message(raw).bot_ids == ("x",)


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"schema_version": 1}, "names its bot_id"),
        ({"schema_version": 3}, "schema_version"),
        ({"client_id": "9.9"}, "of its client_id"),
    ],
)
def test_a_message_of_another_shape_is_undecodable(change: dict[str, Any], words: str) -> None:
    """A version 1 message without its bot, an unknown version, or events of another client
    than the message's are refused (and dead-lettered), never relayed under one history."""
    raw = json.dumps({**client_batch(events("bot-a")), **change}).encode()
    with pytest.raises(UndecodableMessage, match=words):
        ClientBatch.from_message(raw)


def test_many_bots_fit_the_attribute_limit() -> None:
    """The bots attribute holds whole bot ids only, within Pub/Sub's 1024 bytes."""
    bots = [f"bot-{i:03d}-" + "x" * 100 for i in range(20)]
    _, attributes = ClientBatch.from_message(
        json.dumps(client_batch(events(*bots))).encode()
    ).to_message()
    listed = attributes["bot_ids"].split(",")
    assert len(attributes["bot_ids"].encode()) <= 1024
    assert listed == sorted(bots)[: len(listed)]
    assert attributes["event_count"] == "20"
