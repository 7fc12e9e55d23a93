"""A Pub/Sub publisher for ingest without the client library's batching machinery.

The profile (bench/README.md) shows ``google-cloud-pubsub``'s publisher batching dominating
ingest's CPU: per message it starts a commit-timer thread and a commit thread, keeps a
sequencer per ordering key, and marshals through proto-plus. Ingest waits for the
acknowledgement of every message anyway, so the batching buys nothing there. This
publisher calls the generated client's ``publish`` once per request instead; it has the
same interface as ``loyjoy_relay.publishing.MessagePublisher``.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

from google.api_core.exceptions import GoogleAPICallError
from google.api_core.retry import Retry
from google.cloud import pubsub_v1
from google.pubsub_v1.services.publisher import PublisherClient as GapicPublisherClient
from google.pubsub_v1.types import PubsubMessage
from loyjoy_relay.errors import PublishError
from loyjoy_relay.publishing import PUBLISH_DEADLINE_SECONDS, OutgoingMessage


class DirectPublisher:
    """Publishes all messages of a request in one synchronous Publish RPC."""

    def __init__(self, project: str, topic: str, deadline: float = PUBLISH_DEADLINE_SECONDS):
        # The high-level client (it finds PUBSUB_EMULATOR_HOST by itself), called through
        # the generated client's ``publish``, which it overrides with its batching one.
        client = pubsub_v1.PublisherClient()
        self._rpc = functools.partial(GapicPublisherClient.publish, client)
        self._topic = client.topic_path(project, topic)
        self._deadline = deadline
        self._retry = Retry(initial=0.05, maximum=1.0, multiplier=2.0, timeout=deadline)

    def publish_all(self, messages: Sequence[OutgoingMessage]) -> list[str]:
        """Publish every message; return their ids, or raise PublishError."""
        request = [
            PubsubMessage(data=m.data, attributes=m.attributes, ordering_key=m.ordering_key)
            for m in messages
        ]
        try:
            response = self._rpc(
                topic=self._topic, messages=request, retry=self._retry, timeout=self._deadline
            )
        except GoogleAPICallError as error:
            raise PublishError(
                f"Pub/Sub did not accept the message: {type(error).__name__}"
            ) from None
        return list(response.message_ids)
