"""Shared fixtures: the emulators (started once per session) and Pub/Sub helpers."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

from tests.support.emulators import Emulator, start_emulator

PROJECT = "test-project"


def _session_emulator(kind: str) -> Iterator[Emulator]:
    """Start an emulator and point the client libraries at it until the session ends."""
    emulator = start_emulator(kind)
    variable = next(iter(emulator.env))
    previous = os.environ.get(variable)
    os.environ[variable] = emulator.host
    yield emulator
    emulator.stop()
    if previous is None:
        os.environ.pop(variable, None)
    else:
        os.environ[variable] = previous


@pytest.fixture(scope="session")
def pubsub_emulator() -> Iterator[Emulator]:
    """A Pub/Sub emulator for the whole session; the client libraries point at it."""
    yield from _session_emulator("pubsub")


@pytest.fixture(scope="session")
def firestore_emulator() -> Iterator[Emulator]:
    """A Firestore emulator for the whole session; the client libraries point at it."""
    yield from _session_emulator("firestore")


def create_topic_and_subscription(prefix: str) -> tuple[str, str]:
    """A fresh topic with a pull subscription on it: (topic name, subscription path)."""
    from google.cloud import pubsub_v1

    topic = f"{prefix}-{uuid.uuid4().hex[:8]}"
    publisher = pubsub_v1.PublisherClient()
    subscriber = pubsub_v1.SubscriberClient()
    topic_path = publisher.topic_path(PROJECT, topic)
    publisher.create_topic(name=topic_path)
    subscription = subscriber.subscription_path(PROJECT, f"{topic}-pull")
    subscriber.create_subscription(request={"name": subscription, "topic": topic_path})
    return topic, subscription


@pytest.fixture
def topic_and_subscription(pubsub_emulator: Emulator) -> tuple[str, str]:
    """A fresh topic with a pull subscription on it: (topic name, subscription path)."""
    return create_topic_and_subscription("events")
