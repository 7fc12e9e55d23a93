"""The consent ledger in Firestore: one document per client, merged in a transaction.

Collection ``consent_ledger``; the document id is the client's keyed pseudonym
(``client_key``: deployed, an HMAC under the deployment's key; by default a salted
SHA-256), so the raw id is never stored. Fields: ``records`` (the history, oldest first),
``updated_at`` and ``expire_at`` (``updated_at`` + :data:`RETENTION`), which a Firestore
TTL policy on ``expire_at`` uses to delete idle histories.

Every merge reads and writes the document in one Firestore transaction: when two relays
record into the same history at once, Firestore aborts one and it is run again on the
fresh document, so neither's records (a revocation above all) are lost. Every call has a
short deadline: an unreachable Firestore raises StoreUnavailable in seconds, and the
relay's message is retried by Pub/Sub rather than decided without the ledger.
"""

from __future__ import annotations

import concurrent.futures
import datetime
import hashlib
import threading
from collections.abc import Callable, Sequence
from typing import Any

from google.api_core import exceptions as google_exceptions
from google.api_core.retry import Retry, if_transient_error
from google.cloud import firestore

from loyjoy_relay.adapters.firestore_errors import store_call
from loyjoy_relay.core.consent.history import HISTORY_LIMIT, ConsentRecord, merge_history

COLLECTION = "consent_ledger"
# 13 months after the last change, as long as the consent stamp a browser keeps is
# trusted (the CNIL's guidance for consent choices). Documented in docs/consent.md.
RETENTION = datetime.timedelta(days=396)
CALL_TIMEOUT_S = 4.0  # one RPC attempt
DEADLINE_S = 6.0  # a whole read or merge, retries included
TRANSACTION_ATTEMPTS = 10  # contention on one client's history: runs before giving up
_ID_SALT = b"loyjoy-ga4-relay/consent-ledger/v1:"


def _transient(error: Exception) -> bool:
    # A first call on a cold connection can run past one attempt's timeout: try again.
    return if_transient_error(error) or isinstance(error, google_exceptions.DeadlineExceeded)


_RETRY = Retry(predicate=_transient, initial=0.1, maximum=1.0, multiplier=2.0, timeout=DEADLINE_S)


def document_id(client_id: str) -> str:
    """The ledger document id of a client: a salted hash, never the id itself."""
    return hashlib.sha256(_ID_SALT + client_id.encode()).hexdigest()


def _records(snapshot: Any) -> list[ConsentRecord]:
    if not snapshot.exists:
        return []
    stored = (snapshot.to_dict() or {}).get("records", [])
    if not isinstance(stored, list):
        raise ValueError("consent ledger document: 'records' is not a list")
    return [ConsentRecord.from_json(item) for item in stored]


class FirestoreConsentLedger:
    """The consent ledger in the ``consent_ledger`` collection of a Firestore database."""

    def __init__(
        self,
        client: firestore.Client,
        *,
        limit: int = HISTORY_LIMIT,
        deadline_s: float = DEADLINE_S,
        client_key: Callable[[str], str] = document_id,
    ) -> None:
        # client_key: the document id of a client; deployed, its keyed pseudonym
        # (core.pseudonyms.Pseudonyms.ledger_key), so the id is never stored
        self._client_key = client_key
        self._client = client
        self._collection = client.collection(COLLECTION)
        self._limit = limit
        self._deadline_s = deadline_s

    def read(self, client_id: str) -> list[ConsentRecord]:
        """The client's known records, oldest first; StoreUnavailable when unreadable."""
        reference = self._collection.document(self._client_key(client_id))
        with store_call("consent ledger", "be read"):
            snapshot = reference.get(retry=_RETRY, timeout=CALL_TIMEOUT_S)
            return _records(snapshot)

    def record(self, client_id: str, records: Sequence[ConsentRecord]) -> list[ConsentRecord]:
        """Merge ``records`` into the client's history in a transaction; return it merged."""
        if not records:
            return self.read(client_id)
        # Transaction calls (begin, commit) take no deadline of their own, so the merge runs
        # on a daemon thread that is abandoned after the deadline (and cannot hold up the
        # process's exit). An abandoned merge that still commits is harmless: recording
        # is idempotent.
        future: concurrent.futures.Future[list[ConsentRecord]] = concurrent.futures.Future()

        def run() -> None:
            try:
                future.set_result(self._merge(client_id, list(records)))
            except BaseException as error:  # handed to the caller below
                future.set_exception(error)

        threading.Thread(target=run, name="consent-ledger-merge", daemon=True).start()
        # ValueError: transaction attempts exhausted under contention, or a stored history
        # of the wrong shape; either way the batch is retried, not guessed.
        with store_call("consent ledger", "be updated"):
            return future.result(timeout=self._deadline_s + CALL_TIMEOUT_S)

    def _merge(self, client_id: str, records: list[ConsentRecord]) -> list[ConsentRecord]:
        reference = self._collection.document(self._client_key(client_id))
        limit = self._limit

        @firestore.transactional
        def merge_in(transaction: Any) -> list[ConsentRecord]:
            snapshot = reference.get(transaction=transaction, retry=_RETRY, timeout=CALL_TIMEOUT_S)
            known = _records(snapshot)
            merged = merge_history(known, records, limit)
            if merged != known:
                now = datetime.datetime.now(datetime.UTC)
                transaction.set(
                    reference,
                    {
                        "records": [record.as_json() for record in merged],
                        "updated_at": now,
                        "expire_at": now + RETENTION,
                    },
                )
            return merged

        result: list[ConsentRecord] = merge_in(
            self._client.transaction(max_attempts=TRANSACTION_ATTEMPTS)
        )
        return result

    def close(self) -> None:
        """Nothing to release: the Firestore client is the caller's to close."""
