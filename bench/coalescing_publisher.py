"""A publisher that sends the messages of concurrent ingest requests in one Publish RPC.

Leader and followers, no timer and no extra thread: the request thread that finds no
RPC in flight sends everything queued so far; requests arriving meanwhile queue up and
go together in the next RPC, which the same leader sends when its first one returns.
Under load one RPC carries many requests' messages; alone, a request pays one RPC and
no waiting. Every request still answers only after Pub/Sub acknowledged its messages.
An RPC holds at most one request per server thread (8 x 64 KB bodies), far inside
Pub/Sub's limits of 1,000 messages and 10 MB per Publish request.

Pub/Sub requires one ordering key per Publish request, so messages of different clients
can share an RPC only without ordering keys: ``keep_ordering_keys=False`` (what the bench
variant uses) publishes them unordered, a design decision for the lead (DESIGN.md sets
ordering key = client id). With ordering keys kept, only requests of the same client
share an RPC, which under real traffic is almost never.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import replace

from loyjoy_relay.adapters.ports import OutgoingMessage
from loyjoy_relay.adapters.pubsub import PUBLISH_DEADLINE_SECONDS, PubSubPublisher
from loyjoy_relay.errors import PublishError


class CoalescingPublisher:
    """Publishes concurrent requests' messages together; each caller waits for its own ids."""

    def __init__(
        self,
        project: str,
        topic: str,
        deadline: float = PUBLISH_DEADLINE_SECONDS,
        keep_ordering_keys: bool = True,
    ):
        self._rpc = PubSubPublisher(project, topic, deadline)
        self._keep_ordering_keys = keep_ordering_keys
        self._lock = threading.Lock()
        self._queue: list[tuple[Sequence[OutgoingMessage], Future[list[str]]]] = []
        self._sending = False

    def publish_all(self, messages: Sequence[OutgoingMessage]) -> list[str]:
        """Publish every message; return their ids, or raise PublishError."""
        if not self._keep_ordering_keys:
            messages = [replace(message, ordering_key="") for message in messages]
        done: Future[list[str]] = Future()
        with self._lock:
            self._queue.append((messages, done))
            leader = not self._sending
            self._sending = True
        if leader:
            self._send_until_empty()
        try:
            return done.result(timeout=self._rpc.deadline + 1.0)
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
        try:
            ids = self._rpc.publish_rpc([message for messages, _ in taken for message in messages])
        except PublishError as failure:
            for _, done in taken:
                done.set_exception(failure)
            return
        start = 0
        for messages, done in taken:
            done.set_result(ids[start : start + len(messages)])
            start += len(messages)
