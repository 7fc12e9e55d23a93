"""Publishing client batches to Pub/Sub, and the seam the ingest function uses.

Ingest answers 2xx only after Pub/Sub acknowledged every message of the request, so a
2xx means the events are durable. A message that was not acknowledged raises
:class:`~loyjoy_relay.errors.PublishError` (ingest answers 503 and the client retries;
the relay's deduplication absorbs any message that did get through twice).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

from loyjoy_relay.adapters.ports import OutgoingMessage
from loyjoy_relay.errors import PublishError

# Ingest answers a browser, so a publish may not hang for the library's default 60 s
# deadline: give up after a few seconds and let the client retry.
PUBLISH_DEADLINE_SECONDS = 5.0


class PubSubPublisher:
    """Publishes to one topic with ``google-cloud-pubsub``: one synchronous RPC per client.

    Ingest waits for Pub/Sub's acknowledgement of every message before it answers, so the
    library's client-side batching buys nothing and costs much: with ordering keys it keeps
    a batch per key (per browser), starts a commit thread per message and waits out its
    timer; the profile showed it at half of ingest's CPU (bench/README.md). So this calls
    the Publish RPC directly, once per ordering key of the request (Pub/Sub takes one key
    per Publish request; a request is nearly always one client).

    The client honours ``PUBSUB_EMULATOR_HOST`` by itself; there is no emulator branch here.
    """

    def __init__(self, project: str, topic: str, deadline: float = PUBLISH_DEADLINE_SECONDS):
        from google.api_core.retry import Retry
        from google.cloud import pubsub_v1  # type: ignore[attr-defined]
        from google.pubsub_v1.services.publisher import PublisherClient as GeneratedClient

        client = pubsub_v1.PublisherClient()
        # The library's client overrides ``publish`` with its batching one; its base class,
        # the generated client, has the plain RPC (same channel, credentials, emulator).
        self._rpc = functools.partial(GeneratedClient.publish, client)
        self._deadline = deadline
        self._retry = Retry(initial=0.05, maximum=1.0, multiplier=2.0, timeout=deadline)
        self.topic_path: str = client.topic_path(project, topic)

    @property
    def deadline(self) -> float:
        """Seconds a publish may take, retries included."""
        return self._deadline

    def publish_all(self, messages: Sequence[OutgoingMessage]) -> list[str]:
        """Publish every message and wait for Pub/Sub's acknowledgement of each."""
        ids = [""] * len(messages)
        by_key: dict[str, list[int]] = {}
        for index, message in enumerate(messages):
            by_key.setdefault(message.ordering_key, []).append(index)
        for indexes in by_key.values():
            acknowledged = self.publish_rpc([messages[i] for i in indexes])
            for index, message_id in zip(indexes, acknowledged, strict=True):
                ids[index] = message_id
        return ids

    def publish_rpc(self, messages: Sequence[OutgoingMessage]) -> list[str]:
        """One Publish RPC for messages that share one ordering key (or have none)."""
        from google.pubsub_v1.types import PubsubMessage

        request = [
            PubsubMessage(
                data=message.data, attributes=message.attributes, ordering_key=message.ordering_key
            )
            for message in messages
        ]
        try:
            response = self._rpc(
                topic=self.topic_path, messages=request, retry=self._retry, timeout=self._deadline
            )
        except Exception as error:  # any failure means "not durable": the client retries
            raise PublishError(
                f"Pub/Sub did not accept the message: {type(error).__name__}"
            ) from None
        return [str(message_id) for message_id in response.message_ids]
