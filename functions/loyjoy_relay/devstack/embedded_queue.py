"""An in-process stand-in for Pub/Sub, for ``loyjoy-relay dev`` when no emulator exists.

It behaves like a topic with one push subscription: every published message is handed
to ``deliver`` (the relay) in a worker thread, unordered as the relay's subscription is
(a message waiting out its backoff does not hold back later ones); a delivery that
raises is retried with exponential backoff and moved to ``dead_letters`` after
``max_attempts``, as a subscription with a dead-letter policy does. ``taps`` see every
message as published (the live view uses one).
"""

from __future__ import annotations

import base64
import itertools
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from loyjoy_relay.adapters.ports import OutgoingMessage

Envelope = dict[str, Any]


@dataclass
class _Pending:
    message: OutgoingMessage
    message_id: str
    attempt: int = 1
    not_before: float = 0.0


@dataclass
class EmbeddedQueue:
    """A topic plus push subscription in one process (implements ``MessagePublisher``)."""

    deliver: Callable[[Envelope], object]
    max_attempts: int = 5
    min_backoff: float = 0.5
    max_backoff: float = 8.0
    taps: list[Callable[[OutgoingMessage], None]] = field(default_factory=list)
    dead_letters: list[tuple[OutgoingMessage, str]] = field(default_factory=list)
    _pending: deque[_Pending] = field(default_factory=deque)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _wake: threading.Condition = field(default_factory=threading.Condition)
    _stopped: bool = False

    def publish_all(self, messages: Sequence[OutgoingMessage]) -> list[str]:
        """Queue every message (durable for as long as this process lives)."""
        ids = []
        with self._wake:
            for message in messages:
                pending = _Pending(message, str(next(self._ids)))
                self._pending.append(pending)
                ids.append(pending.message_id)
            self._wake.notify_all()
        for message in messages:
            for tap in self.taps:
                tap(message)
        return ids

    def start(self) -> EmbeddedQueue:
        """Start the delivery worker."""
        threading.Thread(target=self._run, name="embedded-queue", daemon=True).start()
        return self

    def stop(self) -> None:
        """Stop delivering."""
        with self._wake:
            self._stopped = True
            self._wake.notify_all()

    def _next_due(self) -> _Pending | None:
        now = time.monotonic()
        for pending in self._pending:
            if pending.not_before <= now:
                self._pending.remove(pending)
                return pending
        return None

    def _run(self) -> None:
        while True:
            with self._wake:
                pending = self._next_due()
                while pending is None and not self._stopped:
                    self._wake.wait(timeout=0.1)
                    pending = self._next_due()
                if self._stopped:
                    return
            assert pending is not None
            self._attempt(pending)

    def _attempt(self, pending: _Pending) -> None:
        try:
            self.deliver(envelope(pending.message, pending.message_id, pending.attempt))
        except Exception as error:  # the relay raised: retry, as Pub/Sub would
            if pending.attempt >= self.max_attempts:
                self.dead_letters.append((pending.message, f"{type(error).__name__}: {error}"))
                return
            backoff = min(self.max_backoff, self.min_backoff * 2 ** (pending.attempt - 1))
            pending.attempt += 1
            pending.not_before = time.monotonic() + backoff
            with self._wake:
                self._pending.appendleft(pending)
                self._wake.notify_all()


def envelope(message: OutgoingMessage, message_id: str, attempt: int) -> Envelope:
    """The body of a Pub/Sub push request for ``message`` (what the relay receives)."""
    return {
        "message": {
            "data": base64.b64encode(message.data).decode(),
            "attributes": message.attributes,
            "messageId": message_id,
            "publishTime": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        },
        "subscription": "projects/local/subscriptions/embedded",
        "deliveryAttempt": attempt,
    }
