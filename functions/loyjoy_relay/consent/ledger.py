"""The consent ledger: each client's recent profiling decisions, as the relay learns them.

The relay records what every event contributes (:func:`records_from_event`) and decides
with the merged history, so a decision seen once protects later events of that client
that arrive without it. :class:`FirestoreConsentLedger` (in ``firestore_ledger``) is the
production store; :class:`InMemoryConsentLedger` serves ``explain``, the embedded local
mode and tests. A ledger that cannot be read raises
:class:`~loyjoy_relay.errors.StoreUnavailable`: the relay then retries, never guesses.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Protocol

from loyjoy_relay.consent.history import HISTORY_LIMIT, ConsentRecord, merge_history

__all__ = ["ConsentLedger", "ConsentRecord", "InMemoryConsentLedger"]


class ConsentLedger(Protocol):
    """Per client id, the recent profiling decisions (oldest first)."""

    def read(self, client_id: str) -> list[ConsentRecord]:
        """The client's known records; raises StoreUnavailable when it cannot be read."""
        ...

    def record(self, client_id: str, records: Sequence[ConsentRecord]) -> list[ConsentRecord]:
        """Merge ``records`` into the client's history atomically; return the merged history.

        Idempotent: a record whose source (or decision) is already known is not added twice.
        Raises StoreUnavailable when the history cannot be read or written.
        """
        ...


class InMemoryConsentLedger:
    """A ledger in this process's memory, with the same semantics as the Firestore one."""

    def __init__(self, limit: int = HISTORY_LIMIT) -> None:
        self._limit = limit
        self._histories: dict[str, list[ConsentRecord]] = {}
        self._lock = threading.Lock()

    def read(self, client_id: str) -> list[ConsentRecord]:
        """The client's known records, oldest first."""
        with self._lock:
            return list(self._histories.get(client_id, ()))

    def record(self, client_id: str, records: Sequence[ConsentRecord]) -> list[ConsentRecord]:
        """Merge ``records`` into the client's history; return the merged history."""
        with self._lock:
            merged = merge_history(self._histories.get(client_id, ()), records, self._limit)
            self._histories[client_id] = merged
            return list(merged)
