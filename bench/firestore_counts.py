"""Firestore's billed operations, counted on the real client while the relay runs.

``counting_client`` returns a real ``google.cloud.firestore.Client`` whose RPC layer (the
generated ``_firestore_api`` every store call goes through: lookups, queries, commits)
is wrapped to count what Firestore bills (shared/reference/gcp-pricing.md, section 3):

- a read per document a lookup (``get``, ``get_all``, a transaction's reads) returns,
  found or missing, and per document a query returns, one when it returns none;
- a write per document a commit sets, updates or transforms; a delete per deleted one;
- the distinct documents written that carry a TTL field (``expire_at``): each is deleted
  once by Firestore's TTL policy later, billed as a delete (no free quota).

Beginning and rolling back transactions is free. Whatever stores the relay is wired with
(``create_relay_service(firestore_client=...)``) are measured, not a model of them.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

TTL_FIELD = "expire_at"


@dataclass
class FirestoreCounts:
    """Billed operations so far (thread-safe: the ledger merges on a thread of its own)."""

    reads: int = 0
    writes: int = 0
    deletes: int = 0
    ttl_documents: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def snapshot(self) -> tuple[int, int, int, int]:
        """(reads, writes, deletes, documents with a TTL) now."""
        with self.lock:
            return self.reads, self.writes, self.deletes, len(self.ttl_documents)

    def add(self, reads: int = 0, writes: int = 0, deletes: int = 0) -> None:
        """Count operations."""
        with self.lock:
            self.reads += reads
            self.writes += writes
            self.deletes += deletes


class _CountingApi:
    """The generated Firestore client, counting the documents each call bills."""

    def __init__(self, api: Any, counts: FirestoreCounts) -> None:
        self._api = api
        self._counts = counts

    def __getattr__(self, name: str) -> Any:
        return getattr(self._api, name)

    def batch_get_documents(self, *args: Any, **kwargs: Any) -> Iterator[Any]:
        for response in self._api.batch_get_documents(*args, **kwargs):
            if response.found or response.missing:
                self._counts.add(reads=1)
            yield response

    def run_query(self, *args: Any, **kwargs: Any) -> Iterator[Any]:
        returned = 0
        for response in self._api.run_query(*args, **kwargs):
            if response.document:
                returned += 1
                self._counts.add(reads=1)
            yield response
        if returned == 0:
            self._counts.add(reads=1)

    def run_aggregation_query(self, *args: Any, **kwargs: Any) -> Any:
        self._counts.add(reads=1)  # one read per batch of up to 1,000 index entries
        return self._api.run_aggregation_query(*args, **kwargs)

    def commit(self, *args: Any, **kwargs: Any) -> Any:
        response = self._api.commit(*args, **kwargs)
        request = kwargs.get("request") or (args[0] if args else None)
        writes = list(getattr(request, "writes", None) or request.get("writes", []))
        for write in writes:
            update = _field(write, "update")
            if _field(write, "delete"):
                self._counts.add(deletes=1)
                continue
            self._counts.add(writes=1)
            if update and TTL_FIELD in (_field(update, "fields") or {}):
                with self._counts.lock:
                    self._counts.ttl_documents.add(str(_field(update, "name")))
        return response


def _field(message: Any, name: str) -> Any:
    """A field of a proto-plus message or of the dict form the client sometimes passes."""
    if isinstance(message, dict):
        return message.get(name)
    return getattr(message, name, None)


def counting_client(project: str) -> tuple[Any, FirestoreCounts]:
    """A real Firestore client for ``project`` whose billed operations are counted."""
    from google.cloud import firestore

    client = firestore.Client(project=project)
    counts = FirestoreCounts()
    client._firestore_api_internal = _CountingApi(client._firestore_api, counts)
    return client, counts
