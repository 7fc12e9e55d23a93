"""Shared fixtures: the emulators (started once per session) and Pub/Sub helpers."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

from tests.support.emulators import Emulator, start_emulator

PROJECT = "test-project"


@pytest.fixture(scope="session")
def pubsub_emulator() -> Iterator[Emulator]:
    """A Pub/Sub emulator for the whole session; the client libraries point at it."""
    emulator = start_emulator("pubsub")
    previous = os.environ.get("PUBSUB_EMULATOR_HOST")
    os.environ["PUBSUB_EMULATOR_HOST"] = emulator.host
    yield emulator
    emulator.stop()
    if previous is None:
        os.environ.pop("PUBSUB_EMULATOR_HOST", None)
    else:
        os.environ["PUBSUB_EMULATOR_HOST"] = previous


@pytest.fixture(scope="session")
def firestore_emulator() -> Iterator[Emulator]:
    """A Firestore emulator for the whole session; the client libraries point at it."""
    emulator = start_emulator("firestore")
    previous = os.environ.get("FIRESTORE_EMULATOR_HOST")
    os.environ["FIRESTORE_EMULATOR_HOST"] = emulator.host
    yield emulator
    emulator.stop()
    if previous is None:
        os.environ.pop("FIRESTORE_EMULATOR_HOST", None)
    else:
        os.environ["FIRESTORE_EMULATOR_HOST"] = previous


@pytest.fixture
def topic_and_subscription(pubsub_emulator: Emulator) -> tuple[str, str]:
    """A fresh topic with an ordered pull subscription on it: (topic name, subscription path)."""
    from google.cloud import pubsub_v1

    topic = f"events-{uuid.uuid4().hex[:8]}"
    publisher = pubsub_v1.PublisherClient()
    subscriber = pubsub_v1.SubscriberClient()
    topic_path = publisher.topic_path(PROJECT, topic)
    publisher.create_topic(name=topic_path)
    subscription = subscriber.subscription_path(PROJECT, f"{topic}-pull")
    subscriber.create_subscription(
        request={"name": subscription, "topic": topic_path, "enable_message_ordering": True}
    )
    return topic, subscription
