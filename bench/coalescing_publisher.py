"""A publisher that sends the messages of concurrent ingest requests in one Publish RPC.

Leader and followers, no timer and no extra thread: the request thread that finds no
RPC in flight sends everything queued so far; requests arriving meanwhile queue up and
go together in the next RPC, which the same leader sends when its first one returns.
Under load one RPC carries many requests' messages; alone, a request pays one RPC and
no waiting. Every request still answers only after Pub/Sub acknowledged its messages.
An RPC holds at most one request per server thread (8 x 64 KB bodies), far inside
Pub/Sub's limits of 1,000 messages and 10 MB per Publish request.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Sequence
from concurrent.futures import Future

from google.api_core.exceptions import GoogleAPICallError
from google.api_core.retry import Retry
from google.cloud import pubsub_v1
from google.pubsub_v1.services.publisher import PublisherClient as GapicPublisherClient
from google.pubsub_v1.types import PubsubMessage
from loyjoy_relay.errors import PublishError
from loyjoy_relay.publishing import PUBLISH_DEADLINE_SECONDS, OutgoingMessage


class CoalescingPublisher:
    """Publishes concurrent requests' messages together; each caller waits for its own ids."""

    def __init__(self, project: str, topic: str, deadline: float = PUBLISH_DEADLINE_SECONDS):
        # The high-level client (it finds PUBSUB_EMULATOR_HOST by itself), called through
        # the generated client's ``publish``, which it overrides with its batching one.
        client = pubsub_v1.PublisherClient()
        self._rpc = functools.partial(GapicPublisherClient.publish, client)
        self._topic = client.topic_path(project, topic)
        self._deadline = deadline
        self._retry = Retry(initial=0.05, maximum=1.0, multiplier=2.0, timeout=deadline)
        self._lock = threading.Lock()
        self._queue: list[tuple[Sequence[OutgoingMessage], Future[list[str]]]] = []
        self._sending = False

    def publish_all(self, messages: Sequence[OutgoingMessage]) -> list[str]:
        """Publish every message; return their ids, or raise PublishError."""
        done: Future[list[str]] = Future()
        with self._lock:
            self._queue.append((messages, done))
            leader = not self._sending
            self._sending = True
        if leader:
            self._send_until_empty()
        try:
            return done.result(timeout=self._deadline + 1.0)
        except PublishError:
            raise
        except Exception as error:  # a timeout: not durable
            raise PublishError(
                f"Pub/Sub did not accept the message: {type(error).__name__}"
            ) from None

    def _send_until_empty(self) -> None:
        while True:
            with self._lock:
                taken, self._queue = self._queue, []
                if not taken:
                    self._sending = False
                    return
            self._send(taken)

    def _send(self, taken: list[tuple[Sequence[OutgoingMessage], Future[list[str]]]]) -> None:
        request = [
            PubsubMessage(data=m.data, attributes=m.attributes, ordering_key=m.ordering_key)
            for messages, _ in taken
            for m in messages
        ]
        try:
            response = self._rpc(
                topic=self._topic, messages=request, retry=self._retry, timeout=self._deadline
            )
        except GoogleAPICallError as error:
            failure = PublishError(f"Pub/Sub did not accept the message: {type(error).__name__}")
            for _, done in taken:
                done.set_exception(failure)
            return
        ids, start = list(response.message_ids), 0
        for messages, done in taken:
            done.set_result(ids[start : start + len(messages)])
            start += len(messages)
