"""The shipped ingest publisher and the bench's coalescing one deliver what they are given."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from loyjoy_relay.adapters.ports import OutgoingMessage
from loyjoy_relay.adapters.pubsub import PubSubPublisher
from loyjoy_relay.errors import PublishError

from bench.coalescing_publisher import CoalescingPublisher
from tests.conftest import PROJECT
from tests.support.emulators import Emulator
from tests.support.pubsub import pull_messages

Factory = Callable[..., Any]
PUBLISHERS: dict[str, tuple[Factory, bool]] = {
    "shipped": (PubSubPublisher, True),
    "coalescing, ordered": (CoalescingPublisher, True),
    "coalescing, unordered": (
        lambda *args, **kw: CoalescingPublisher(*args, keep_ordering_keys=False, **kw),
        False,
    ),
}


def _request(index: int) -> list[OutgoingMessage]:
    return [
        OutgoingMessage(f"{index}-{part}".encode(), {"bot_id": "b", "n": str(part)}, f"c{index}")
        for part in range(2)
    ]


@pytest.mark.emulator
@pytest.mark.parametrize("name", list(PUBLISHERS))
def test_concurrent_requests_each_get_their_own_ids_and_every_message_arrives(
    name: str, topic_and_subscription: tuple[str, str]
) -> None:
    """40 requests of 2 messages from 8 threads: 80 distinct ids, 80 messages as sent."""
    factory, ordered = PUBLISHERS[name]
    topic, subscription = topic_and_subscription
    publisher = factory(PROJECT, topic)
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(lambda i: publisher.publish_all(_request(i)), range(40)))
    assert all(len(ids) == 2 for ids in answers)
    assert len({message_id for ids in answers for message_id in ids}) == 80
    pulled = pull_messages(subscription, expected=80)
    sent = {
        (m.data, m.ordering_key if ordered else "", m.attributes["n"])
        for i in range(40)
        for m in _request(i)
    }
    assert {(m.data, m.ordering_key, m.attributes["n"]) for m in pulled} == sent


@pytest.mark.emulator
@pytest.mark.parametrize("name", list(PUBLISHERS))
def test_a_missing_topic_raises_publish_error(name: str, pubsub_emulator: Emulator) -> None:
    """When Pub/Sub refuses the message the publisher raises PublishError (ingest: 503)."""
    factory, _ = PUBLISHERS[name]
    publisher = factory(PROJECT, "no-such-topic", deadline=1.0)
    with pytest.raises(PublishError):
        publisher.publish_all(_request(0))
