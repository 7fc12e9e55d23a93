"""Pulling from the Pub/Sub emulator in tests, polling until the expected count arrives."""

from __future__ import annotations

import time
from typing import Any


def pull_messages(subscription: str, expected: int, timeout: float = 30.0) -> list[Any]:
    """Pull (and acknowledge) until ``expected`` messages arrived; fail on timeout."""
    from google.cloud import pubsub_v1

    subscriber = pubsub_v1.SubscriberClient()
    received: list[Any] = []
    deadline = time.monotonic() + timeout
    while len(received) < expected and time.monotonic() < deadline:
        response = subscriber.pull(
            request={"subscription": subscription, "max_messages": 100}, timeout=5
        )
        if response.received_messages:
            subscriber.acknowledge(
                request={
                    "subscription": subscription,
                    "ack_ids": [m.ack_id for m in response.received_messages],
                }
            )
            received.extend(m.message for m in response.received_messages)
    assert len(received) >= expected, f"pulled {len(received)} of {expected} messages"
    return received


def pull_nothing(subscription: str, wait: float = 1.0) -> list[Any]:
    """Pull once with ``wait`` seconds of patience; what arrived (expected: nothing)."""
    from google.api_core.exceptions import DeadlineExceeded
    from google.cloud import pubsub_v1

    subscriber = pubsub_v1.SubscriberClient()
    try:
        response = subscriber.pull(
            request={"subscription": subscription, "max_messages": 100}, timeout=wait
        )
    except DeadlineExceeded:
        return []
    return [m.message for m in response.received_messages]
