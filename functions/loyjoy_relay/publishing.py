"""Publishing client batches to Pub/Sub, and the seam the ingest function uses.

Ingest answers 2xx only after Pub/Sub acknowledged every message of the request, so a
2xx means the events are durable. A message that was not acknowledged raises
:class:`~loyjoy_relay.errors.PublishError` (ingest answers 503 and the client retries;
the relay's deduplication absorbs any message that did get through twice).
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from loyjoy_relay.errors import PublishError


@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    """One Pub/Sub message: body, filterable attributes, and its ordering key."""

    data: bytes
    attributes: dict[str, str]
    ordering_key: str


class MessagePublisher(Protocol):
    """Publishes messages and returns only once all are durable."""

    def publish_all(self, messages: Sequence[OutgoingMessage]) -> list[str]:
        """Publish every message; return their ids, or raise PublishError."""
        ...


class RecordingPublisher:
    """Keeps published messages in memory: the dev stack's dead-letter list, and tests'."""

    def __init__(self) -> None:
        self.messages: list[OutgoingMessage] = []

    def publish_all(self, messages: Sequence[OutgoingMessage]) -> list[str]:
        """Record every message; ids are their positions."""
        self.messages.extend(messages)
        return [str(len(self.messages) - index) for index in range(len(messages), 0, -1)]


# Ingest answers a browser, so a publish may not hang for the library's default 60 s
# deadline: give up after a few seconds and let the client retry.
PUBLISH_DEADLINE_SECONDS = 5.0


class PubSubPublisher:
    """Publishes to one topic with ``google-cloud-pubsub``.

    The client honours ``PUBSUB_EMULATOR_HOST`` by itself; there is no emulator branch here.
    """

    def __init__(self, project: str, topic: str, deadline: float = PUBLISH_DEADLINE_SECONDS):
        from google.api_core.retry import Retry
        from google.cloud import pubsub_v1  # type: ignore[attr-defined]

        self._deadline = deadline
        self._retry = Retry(initial=0.05, maximum=1.0, multiplier=2.0, timeout=deadline)
        self._client = pubsub_v1.PublisherClient(
            batch_settings=pubsub_v1.types.BatchSettings(
                # Library defaults: 100 messages, 1 MB, 10 ms. One request of ingest is
                # one message per client, so waiting to fill a batch only adds latency:
                # flush after 1 ms, which still coalesces concurrent requests.
                max_messages=100,
                max_bytes=1_000_000,
                max_latency=0.001,
            ),
            publisher_options=pubsub_v1.types.PublisherOptions(
                enable_message_ordering=True,  # ordering key = client id
                retry=self._retry,
                timeout=deadline,
            ),
        )
        self.topic_path: str = self._client.topic_path(project, topic)

    def publish_all(self, messages: Sequence[OutgoingMessage]) -> list[str]:
        """Publish every message and wait for Pub/Sub's acknowledgement of each."""
        futures = [(message, self._publish_one(message)) for message in messages]
        ids, failure = [], None
        for message, future in futures:
            try:
                ids.append(str(future.result(timeout=self._deadline + 1.0)))
            except Exception as error:  # any failure means "not durable"
                self._resume(message.ordering_key)
                failure = failure or error
        if failure is not None:
            raise PublishError(f"Pub/Sub did not accept the message: {type(failure).__name__}")
        return ids

    def _publish_one(self, message: OutgoingMessage) -> Any:
        from google.cloud.pubsub_v1.publisher.exceptions import (
            PublishToPausedOrderingKeyException,
        )

        def publish() -> Any:
            return self._client.publish(
                self.topic_path,
                message.data,
                ordering_key=message.ordering_key,
                **message.attributes,
            )

        try:
            return publish()
        except PublishToPausedOrderingKeyException:
            # A key stays paused after a failed publish; this request is a new attempt.
            self._resume(message.ordering_key)
            return publish()

    def _resume(self, ordering_key: str) -> None:
        # After a failure the library pauses the ordering key until it is resumed; a
        # publish that merely timed out is not paused yet, which the library reports as
        # a RuntimeError we can ignore.
        with contextlib.suppress(RuntimeError):
            self._client.resume_publish(self.topic_path, ordering_key)
