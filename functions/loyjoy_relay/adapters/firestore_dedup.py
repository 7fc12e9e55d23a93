"""Exactly-once in effect: a claim per ``event_id`` before sending, with a lease.

Pub/Sub delivers at least once and GA4 does not deduplicate, so the relay keeps a record
per event id (collection ``relay_dedup``):

* ``claim`` (one transaction per message) marks each unseen event ``claimed`` with a
  lease. An event already ``sent`` is a duplicate and is skipped. An event claimed by
  another delivery whose lease has not run out is ``busy``: that delivery is still
  working, so this one fails and Pub/Sub retries it later.
* ``complete`` marks events ``sent`` right after GA4 accepted the request that held them.
* ``release`` drops the claims of events that were not sent (a transient failure), so
  the retry may claim them again at once.

A relay that dies between claim and send loses nothing: its lease runs out and the
redelivered message claims the events again. The price is a possible duplicate only if
the relay dies after GA4 accepted a request but before ``complete`` was written, a window
of one Firestore write. Records expire (TTL field ``expire_at``) after GA4's 72-hour
window plus a day: an event older than that is refused by the mapping anyway.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from loyjoy_relay.adapters.firestore_errors import store_call
from loyjoy_relay.adapters.ports import ClaimResult

COLLECTION = "relay_dedup"
LEASE_MS = 120_000  # longer than the relay's own timeout, so a live claim is never stolen
RETENTION = timedelta(days=4)
STORE_TIMEOUT_SECONDS = 10.0

State = Literal["claimed", "sent"]


def classify_claims(
    event_ids: Sequence[str], records: dict[str, tuple[State, int]], now_ms: int
) -> ClaimResult:
    claimed, sent, busy = set(), set(), set()
    for event_id in dict.fromkeys(event_ids):
        state, lease_until = records.get(event_id, ("claimed", 0))
        if state == "sent":
            sent.add(event_id)
        elif lease_until > now_ms:
            busy.add(event_id)
        else:
            claimed.add(event_id)
    return ClaimResult(frozenset(claimed), frozenset(sent), frozenset(busy))


class FirestoreDedup:
    """The dedup records in Firestore, claimed in one transaction per message."""

    def __init__(self, client: Any, collection: str = COLLECTION) -> None:
        from google.api_core.retry import Retry

        self._client = client
        self._collection = client.collection(collection)
        self._retry = Retry(initial=0.1, maximum=1.0, multiplier=2.0, timeout=STORE_TIMEOUT_SECONDS)

    def claim(self, event_ids: Sequence[str], now_ms: int) -> ClaimResult:
        """Claim every unseen (or lease-expired) event id, atomically.

        A plain read comes first. It serves two ends: a redelivered message whose events
        were all sent costs no transaction, and an unreachable Firestore fails within
        ``STORE_TIMEOUT_SECONDS`` (the library's BeginTransaction would retry for 60 s).
        """
        refs = [self._collection.document(event_id) for event_id in dict.fromkeys(event_ids)]
        with store_call("dedup", "claim"):
            seen = self._read(refs, transaction=None)
            first_look = classify_claims(event_ids, seen, now_ms)
            if not first_look.claimed:
                return first_look
            result: ClaimResult = self._claim_in_transaction(refs, event_ids, now_ms)
        return result

    def _read(self, refs: list[Any], transaction: Any) -> dict[str, tuple[State, int]]:
        snapshots = self._client.get_all(
            refs, transaction=transaction, retry=self._retry, timeout=STORE_TIMEOUT_SECONDS
        )
        records: dict[str, tuple[State, int]] = {}
        for snapshot in snapshots:
            if snapshot.exists:
                data = snapshot.to_dict()
                records[snapshot.id] = (data["state"], int(data.get("lease_until", 0)))
        return records

    def _claim_in_transaction(
        self, refs: list[Any], event_ids: Sequence[str], now_ms: int
    ) -> ClaimResult:
        from google.cloud import firestore

        @firestore.transactional
        def run(transaction: Any) -> ClaimResult:
            result = classify_claims(event_ids, self._read(refs, transaction), now_ms)
            expire_at = datetime.now(UTC) + RETENTION
            for event_id in result.claimed:
                transaction.set(
                    self._collection.document(event_id),
                    {"state": "claimed", "lease_until": now_ms + LEASE_MS, "expire_at": expire_at},
                )
            return result

        claimed: ClaimResult = run(self._client.transaction(max_attempts=5))
        return claimed

    def complete(self, event_ids: Sequence[str]) -> None:
        """Mark event ids as sent (one batched write); raises StoreUnavailable.

        The caller logs a failure here and does not retry the message: the events were
        delivered, and a retry could only send them again.
        """
        expire_at = datetime.now(UTC) + RETENTION
        self._write(event_ids, {"state": "sent", "lease_until": 0, "expire_at": expire_at})

    def release(self, event_ids: Sequence[str]) -> None:
        """Give up claims: the lease is set to 0 so the next delivery may claim at once."""
        expire_at = datetime.now(UTC) + RETENTION
        self._write(event_ids, {"state": "claimed", "lease_until": 0, "expire_at": expire_at})

    def _write(self, event_ids: Sequence[str], data: dict[str, Any]) -> None:
        if not event_ids:
            return
        batch = self._client.batch()
        for event_id in event_ids:
            batch.set(self._collection.document(event_id), data)
        with store_call("dedup", "write"):
            batch.commit(retry=self._retry, timeout=STORE_TIMEOUT_SECONDS)
