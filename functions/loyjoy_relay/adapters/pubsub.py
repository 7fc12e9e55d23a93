"""Publishing client batches to Pub/Sub, and the seam the ingest function uses.

Ingest answers 2xx only after Pub/Sub acknowledged every message of the request, so a
2xx means the events are durable. A message that was not acknowledged raises
:class:`~loyjoy_relay.errors.PublishError` (ingest answers 503 and the client retries;
the relay's deduplication absorbs any message that did get through twice).
"""

from __future__ import annotations

import random
import threading
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from loyjoy_relay.adapters.ports import OutgoingMessage
from loyjoy_relay.errors import PublishError

# Ingest answers a browser, so a publish may not hang for the library's default 60 s
# deadline: give up after a few seconds and let the client retry.
PUBLISH_DEADLINE_SECONDS = 5.0
# Pub/Sub's limits per Publish request are 1,000 messages and 10 MB; stay inside them
# with room for the request's own framing.
MAX_MESSAGES_PER_RPC = 1000
MAX_BYTES_PER_RPC = 9 * 1024 * 1024
RETRY_FIRST_DELAY_SECONDS = 0.05
RETRY_MAX_DELAY_SECONDS = 1.0
# The codes google-cloud-pubsub itself retries Publish on (its generated transport's
# default), by name so that this module does not import grpc before it is needed.
_RETRIED_NAMES = (
    "ABORTED",
    "CANCELLED",
    "DEADLINE_EXCEEDED",
    "INTERNAL",
    "RESOURCE_EXHAUSTED",
    "UNAVAILABLE",
    "UNKNOWN",
)


@dataclass(eq=False)
class _Waiting:
    """One caller's messages, waiting to be sent or for its turn to send."""

    messages: Sequence[OutgoingMessage]
    ready: threading.Event = field(default_factory=threading.Event)
    ids: list[str] | None = None
    error: PublishError | None = None
    leads: bool = False  # set when this caller is handed the sending

    @property
    def size(self) -> int:
        return sum(
            len(m.data) + sum(len(k) + len(v) for k, v in m.attributes.items())
            for m in self.messages
        )


class PubSubPublisher:
    """Publishes to one topic with ``google-cloud-pubsub``, coalescing concurrent callers.

    Ingest waits for Pub/Sub's acknowledgement before it answers, so the library's
    client-side batching (a timer, a commit thread and a future per batch) buys nothing;
    the profile showed it at half of ingest's CPU (bench/README.md). This calls the
    Publish RPC directly, and shares it between the requests a function instance serves
    at once (``max_instance_request_concurrency``): leader and followers, no timer and no
    thread of its own. A caller that finds no RPC in flight sends everything queued so
    far, itself included; callers arriving meanwhile queue up, and when the RPC returns
    the first of them is handed the next one. Alone, a request pays one RPC and no wait;
    under load one RPC carries many requests' messages. Each caller returns only once
    Pub/Sub acknowledged *its* messages; a failed RPC fails every caller in it.

    Messages carry no ordering key (DESIGN.md: the relay decides by event time), which is
    what lets messages of different clients share one Publish request.

    The client honours ``PUBSUB_EMULATOR_HOST`` by itself; there is no emulator branch here.
    """

    def __init__(
        self,
        project: str,
        topic: str,
        deadline: float = PUBLISH_DEADLINE_SECONDS,
        *,
        max_messages: int = MAX_MESSAGES_PER_RPC,
        max_bytes: int = MAX_BYTES_PER_RPC,
    ):
        from google.cloud import pubsub_v1  # type: ignore[attr-defined]
        from google.pubsub_v1.types import PublishRequest, PublishResponse, PubsubMessage

        client = pubsub_v1.PublisherClient()
        self.topic_path: str = client.topic_path(project, topic)
        # The Publish RPC on the client's own channel (its endpoint, credentials and the
        # emulator), with the protobuf classes under the generated types. The generated
        # method wraps every call in api_core's retry, timeout and error-mapping layers
        # and converts every message through proto-plus; under load that cost as much CPU
        # as the RPC itself (bench/README.md), so the retry is the few lines of _call.
        self._rpc = client.transport.grpc_channel.unary_unary(
            "/google.pubsub.v1.Publisher/Publish",
            request_serializer=PublishRequest.pb().SerializeToString,
            response_deserializer=PublishResponse.pb().FromString,
        )
        self._request = PublishRequest.pb()
        self._message = PubsubMessage.pb()
        # The routing header the generated method sends (the topic, URL-encoded).
        self._metadata = (("x-goog-request-params", "topic=" + quote(self.topic_path, safe="/")),)
        self._deadline = deadline
        self._max_messages = max_messages
        self._max_bytes = max_bytes
        self._lock = threading.Lock()
        self._queue: deque[_Waiting] = deque()
        self._sending = False

    @property
    def deadline(self) -> float:
        """Seconds one Publish RPC may take, retries included."""
        return self._deadline

    @property
    def waiting(self) -> int:
        """Callers queued behind the RPC in flight."""
        with self._lock:
            return len(self._queue)

    def publish_all(self, messages: Sequence[OutgoingMessage]) -> list[str]:
        """Publish every message and wait for Pub/Sub's acknowledgement of each."""
        if not messages:
            return []
        waiting = _Waiting(messages)
        with self._lock:
            self._queue.append(waiting)
            waiting.leads = not self._sending
            self._sending = True
        # At most one RPC is ahead of ours, and each gives up after the deadline.
        patience = 2 * self._deadline + 1.0
        while True:
            if waiting.leads:
                self._send_next()
            elif not waiting.ready.wait(patience):
                self._give_up(waiting)
            if waiting.error is not None:
                raise waiting.error
            if waiting.ids is not None:
                return waiting.ids
            waiting.ready.clear()  # handed the sending: go round and send

    def _send_next(self) -> None:
        """Send the queue's head (this caller's messages first) in one RPC; pass the turn on."""
        with self._lock:
            taken = self._take()
        try:
            ids = self.publish_rpc([message for item in taken for message in item.messages])
        except PublishError as failure:
            for item in taken:
                item.error = failure
        else:
            start = 0
            for item in taken:
                item.ids = ids[start : start + len(item.messages)]
                start += len(item.messages)
        finally:
            with self._lock:
                self._hand_on()
            for item in taken:
                item.ready.set()

    def _take(self) -> list[_Waiting]:
        """Callers from the queue's head, as many as one Publish request holds (at least one)."""
        taken = [self._queue.popleft()]
        count, size = len(taken[0].messages), taken[0].size
        while self._queue:
            following = self._queue[0]
            count += len(following.messages)
            size += following.size
            if count > self._max_messages or size > self._max_bytes:
                break
            taken.append(self._queue.popleft())
        return taken

    def _hand_on(self) -> None:
        """The next queued caller sends next; with none, the next arrival will."""
        if self._queue:
            following = self._queue[0]
            following.leads = True
            following.ready.set()
        else:
            self._sending = False

    def _give_up(self, waiting: _Waiting) -> None:
        """After too long a wait: leave the queue (handing the turn on) and fail."""
        with self._lock:
            if waiting.ids is not None or waiting.error is not None:
                return  # answered just now
            if waiting in self._queue:
                self._queue.remove(waiting)
                if waiting.leads:
                    self._hand_on()
            waiting.error = PublishError("Pub/Sub did not accept the message in time")

    def publish_rpc(self, messages: Sequence[OutgoingMessage]) -> list[str]:
        """One Publish RPC for ``messages``; their ids in order, or PublishError."""
        request = self._request(
            topic=self.topic_path,
            messages=[self._message(data=m.data, attributes=m.attributes) for m in messages],
        )
        try:
            response = self._call(request)
        except Exception as error:  # any failure means "not durable": the client retries
            raise PublishError(
                f"Pub/Sub did not accept the message: {_status_name(error)}"
            ) from None
        return list(response.message_ids)

    def _call(self, request: Any) -> Any:
        """The RPC, retried on the codes the library retries Publish on, within the deadline."""
        import grpc

        give_up_at = time.monotonic() + self._deadline
        delay = RETRY_FIRST_DELAY_SECONDS
        while True:
            remaining = give_up_at - time.monotonic()
            try:
                return self._rpc(request, timeout=remaining, metadata=self._metadata)
            except grpc.RpcError as error:
                wait = random.uniform(0, delay)  # noqa: S311 -- jitter, not security
                retried = _status_name(error) in _RETRIED_NAMES
                if not retried or give_up_at - time.monotonic() <= wait:
                    raise
            time.sleep(wait)  # backoff before the next attempt
            delay = min(RETRY_MAX_DELAY_SECONDS, delay * 2)


def _status_name(error: Exception) -> str:
    """The gRPC status (``UNAVAILABLE``, ...) of a failed call, else the error's class."""
    code = getattr(error, "code", None)
    status = code() if callable(code) else None
    return str(getattr(status, "name", None) or type(error).__name__)
