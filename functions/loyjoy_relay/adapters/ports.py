"""The interfaces of the I/O the services use, and the plain values that cross them.

Each real adapter (Firestore, Pub/Sub, GA4 over HTTP) and each fake in :mod:`.fakes`
implements one of these, so a service is wired with either and cannot tell them apart.
Nothing here does I/O or imports a client library.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:  # ingest ships this module without the consent core
    from loyjoy_relay.core.consent.history import ConsentRecord


class ConsentLedger(Protocol):
    """Per client id, the recent profiling decisions (oldest first).

    A ledger that cannot be read raises :class:`~loyjoy_relay.errors.StoreUnavailable`:
    the relay then retries, never guesses.
    """

    def read(self, client_id: str) -> list[ConsentRecord]:
        """The client's known records; raises StoreUnavailable when it cannot be read."""
        ...

    def record(self, client_id: str, records: Sequence[ConsentRecord]) -> list[ConsentRecord]:
        """Merge ``records`` into the client's history atomically; return the merged history.

        Idempotent: a record whose source (or decision) is already known is not added twice.
        Raises StoreUnavailable when the history cannot be read or written.
        """
        ...


@dataclass(frozen=True, slots=True)
class ClaimResult:
    """What a claim found: ours to send, already sent, or held by another delivery."""

    claimed: frozenset[str]
    already_sent: frozenset[str]
    busy: frozenset[str]


class DedupStore(Protocol):
    """Claims, completes and releases event ids (exactly once in effect)."""

    def claim(self, event_ids: Sequence[str], now_ms: int) -> ClaimResult:
        """Claim every unseen (or lease-expired) event id."""
        ...

    def complete(self, event_ids: Sequence[str]) -> None:
        """Mark event ids as sent."""
        ...

    def release(self, event_ids: Sequence[str]) -> None:
        """Give up the claims of event ids that were not sent."""
        ...


@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    """One Pub/Sub message: body and filterable attributes (no ordering key: DESIGN.md)."""

    data: bytes
    attributes: dict[str, str]


class MessagePublisher(Protocol):
    """Publishes messages and returns only once all are durable."""

    def publish_all(self, messages: Sequence[OutgoingMessage]) -> list[str]:
        """Publish every message; return their ids, or raise PublishError."""
        ...
