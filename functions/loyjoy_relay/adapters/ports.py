"""The interfaces of the I/O the services use, and the plain values that cross them.

Each real adapter (Firestore, Pub/Sub, GA4 over HTTP) and each fake in :mod:`.fakes`
implements one of these, so a service is wired with either and cannot tell them apart.
Nothing here does I/O or imports a client library.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:  # ingest ships this module without the consent core
    from loyjoy_relay.core.consent.history import ConsentRecord

# How long a claim keeps other deliveries off an event: longer than a message's whole
# handling (the relay's time budget, under the subscription's 60 s ack deadline).
LEASE_MS = 120_000


@dataclass(frozen=True, slots=True)
class Claim:
    """An event being sent by one Pub/Sub message (``owner``, its message id) until
    ``lease_until`` (ms)."""

    owner: str
    lease_until: int


@dataclass(frozen=True, slots=True)
class Triage:
    """What one delivery may do with its events, given a read of the client's ledger.

    ``claimable``: unseen, or already this message's (a redelivery after a crash or a
    failure), or (for a replay) abandoned by another message; ``done``: sent (or dropped by
    the rules) already; ``in_flight``: claimed by another message, which will send them
    (its own message is retried until it does); ``wait``: claimed by another message that a
    replay may not take over yet (its lease has not run out).
    """

    claimable: frozenset[str] = frozenset()
    done: frozenset[str] = frozenset()
    in_flight: frozenset[str] = frozenset()
    wait: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class ClientState:
    """One read of a client's ledger: its consent history, the event ids settled for good,
    the open claims, and the version a conditional write checks (None: no document yet)."""

    history: tuple[ConsentRecord, ...] = ()
    done: Mapping[str, int] = field(default_factory=dict)  # event id -> settled at (ms)
    claims: Mapping[str, Claim] = field(default_factory=dict)
    version: object = None

    def triage(
        self, event_ids: Iterable[str], *, owner: str, now_ms: int, replay: bool = False
    ) -> Triage:
        """Sort ``event_ids`` (duplicates once) for a delivery of message ``owner``.

        A claim of another message means that message is sending the event and will be
        delivered again until it has (or dead-letter it): a duplicate delivery leaves it to
        that message instead of waiting for it. A replay (``replay``) is the exception: the
        message whose claim it finds may have been dead-lettered by Pub/Sub with its claims
        still set, so a replay takes over a claim whose lease ran out and waits for one
        that has not.
        """
        claimable, done, in_flight, wait = set(), set(), set(), set()
        for event_id in dict.fromkeys(event_ids):
            claim = self.claims.get(event_id)
            if event_id in self.done:
                done.add(event_id)
            elif claim is None or claim.owner == owner:
                claimable.add(event_id)
            elif not replay:
                in_flight.add(event_id)
            elif claim.lease_until <= now_ms:
                claimable.add(event_id)
            else:
                wait.add(event_id)
        return Triage(frozenset(claimable), frozenset(done), frozenset(in_flight), frozenset(wait))


class ConsentLedger(Protocol):
    """Per client id: the profiling decisions (oldest first), and the events being sent or
    settled, so that each event reaches GA4 once (exactly once in effect).

    Any call that cannot reach the store raises :class:`~loyjoy_relay.errors.StoreUnavailable`
    within its deadline: the relay then retries, never guesses.
    """

    def load(self, client_id: str) -> ClientState:
        """One read of everything the relay needs about a client."""
        ...

    def claim(
        self,
        client_id: str,
        seen: ClientState,
        *,
        records: Sequence[ConsentRecord],
        event_ids: Sequence[str],
        owner: str,
        now_ms: int,
    ) -> bool:
        """Record ``records`` and claim ``event_ids`` for message ``owner``, in one write.

        With event ids the write is conditional: it succeeds only if the ledger is still
        as ``seen`` was read, else nothing is written and False comes back (read again).
        Without event ids it only records, unconditionally, and returns True.
        """
        ...

    def settle(
        self,
        client_id: str,
        seen: ClientState,
        *,
        done: Sequence[str],
        released: Sequence[str],
        now_ms: int,
    ) -> None:
        """Mark ``done`` events settled for good (sent, or dropped by the rules) and drop the
        claims of ``released`` ones (not sent: a retry or a replay may claim them), in one
        unconditional write that also trims what ``seen`` shows is no longer needed."""
        ...


def history_of(ledger: ConsentLedger, client_id: str) -> list[ConsentRecord]:
    """The client's known records, oldest first; StoreUnavailable when unreadable."""
    return list(ledger.load(client_id).history)


def record_decisions(
    ledger: ConsentLedger, client_id: str, records: Sequence[ConsentRecord]
) -> list[ConsentRecord]:
    """Add ``records`` to the client's history (an unconditional claim of no events);
    return the history read back. Idempotent, and concurrent callers' records are all kept.
    """
    ledger.claim(
        client_id, ledger.load(client_id), records=records, event_ids=(), owner="", now_ms=0
    )
    return history_of(ledger, client_id)


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
