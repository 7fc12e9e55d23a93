"""A Pub/Sub publisher for ingest without the client library's batching machinery.

The profile (bench/README.md) shows ``google-cloud-pubsub``'s publisher batching dominating
ingest's CPU: per message it starts a commit-timer thread and a commit thread, keeps a
sequencer per ordering key, and marshals through proto-plus. Ingest waits for the
acknowledgement of every message anyway, so the batching buys nothing there. This
publisher calls the generated client's ``publish`` directly instead, once per ordering key
in the request (Pub/Sub takes one key per Publish request; a request is nearly always one
client, so one RPC); it has the interface of ``loyjoy_relay.publishing.MessagePublisher``.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

from google.api_core.exceptions import GoogleAPICallError
from google.api_core.retry import Retry
from google.cloud import pubsub_v1  # type: ignore[attr-defined]
from google.pubsub_v1.services.publisher import PublisherClient as GapicPublisherClient
from google.pubsub_v1.types import PubsubMessage
from loyjoy_relay.errors import PublishError
from loyjoy_relay.publishing import PUBLISH_DEADLINE_SECONDS, OutgoingMessage


def rpc_groups(messages: Sequence[OutgoingMessage]) -> list[list[int]]:
    """Indexes of ``messages`` grouped by ordering key, first appearance first.

    Pub/Sub requires every message of one Publish request to carry the same ordering key
    (``PubsubMessage.ordering_key`` in the API reference), so each group is one RPC.
    """
    groups: dict[str, list[int]] = {}
    for index, message in enumerate(messages):
        groups.setdefault(message.ordering_key, []).append(index)
    return list(groups.values())


class PublishRpc:
    """The generated client's synchronous Publish RPC, one call per ordering key."""

    def __init__(self, project: str, topic: str, deadline: float = PUBLISH_DEADLINE_SECONDS):
        # The high-level client (it finds PUBSUB_EMULATOR_HOST by itself), called through
        # the generated client's ``publish``, which it overrides with its batching one.
        client = pubsub_v1.PublisherClient()
        self._rpc = functools.partial(GapicPublisherClient.publish, client)
        self._topic = client.topic_path(project, topic)
        self.deadline = deadline
        self._retry = Retry(initial=0.05, maximum=1.0, multiplier=2.0, timeout=deadline)

    def send(self, messages: Sequence[OutgoingMessage]) -> list[str]:
        """Publish ``messages``; their ids in the same order, or raise PublishError."""
        ids = [""] * len(messages)
        for group in rpc_groups(messages):
            request = [
                PubsubMessage(
                    data=messages[i].data,
                    attributes=messages[i].attributes,
                    ordering_key=messages[i].ordering_key,
                )
                for i in group
            ]
            try:
                response = self._rpc(
                    topic=self._topic, messages=request, retry=self._retry, timeout=self.deadline
                )
            except GoogleAPICallError as error:
                raise PublishError(
                    f"Pub/Sub did not accept the message: {type(error).__name__}"
                ) from None
            for index, message_id in zip(group, response.message_ids, strict=True):
                ids[index] = str(message_id)
        return ids


class DirectPublisher:
    """Publishes the messages of a request synchronously: one RPC per client in it."""

    def __init__(self, project: str, topic: str, deadline: float = PUBLISH_DEADLINE_SECONDS):
        self._rpc = PublishRpc(project, topic, deadline)

    def publish_all(self, messages: Sequence[OutgoingMessage]) -> list[str]:
        """Publish every message; return their ids, or raise PublishError."""
        return self._rpc.send(messages)
