"""The client ledger in Firestore: one document per client, no transactions.

Collection ``consent_ledger``; the document id is the client's keyed pseudonym
(``client_key``: deployed, an HMAC under the deployment's key; by default a salted
SHA-256), so the raw id is never stored. The fields are described
in :mod:`.client_ledger`: the client's consent decisions, the events being sent (claims)
and the events already settled.

Why this shape. The relay handles one client's message per call, and every message needs
the client's consent history and which of its events were sent already. One document per
client makes that **one read per message**. What made the earlier design hang is gone:
it merged the history in a Firestore transaction on this same document (and claimed each
event in another), so concurrent messages of one visitor, the normal case, queued on its
locks, and a transaction abandoned at its deadline kept holding them. Here no call takes a
lock or outlives its deadline:

* **Decisions** are map entries keyed by their source, written with ``set(merge=True)``:
  each record is its own field path, so concurrent writers add records without a
  transaction and none can overwrite another's (a revocation is never lost), and writing a
  record twice changes nothing.
* **Claims** are written in the same single write as the message's new decisions,
  conditional on the document being unchanged since this message read it (an
  ``update_time`` precondition, or ``create`` for a client never seen). Of deliveries
  racing for one event, exactly one write succeeds; the others read again and find the
  event claimed. A precondition fails at once and holds nothing: no delivery ever waits
  on another's lock.
* **Completion** (settled ids, released claims and the trimming of old entries) is one
  unconditional update after GA4 answered.
* ``expire_at`` (the TTL policy's field) moves only when a decision is written or the
  document is created: claims and settled ids never extend how long a visitor's
  decisions are kept (13 months after the last one, docs/consent.md).

Per message that sends anything: 1 read and 2 writes (claim, completion), whatever the
number of events; a message whose events are all dropped or already sent: 1 read, and 1
write only when it brings a decision not yet known. Every call has a per-attempt timeout
and an overall deadline (:data:`CALL_TIMEOUT_S`, :data:`DEADLINE_S`); an unreachable
Firestore raises StoreUnavailable within seconds, and the relay's message is retried by
Pub/Sub rather than decided without the ledger.
"""

from __future__ import annotations

import datetime
import hashlib
from collections.abc import Callable, Sequence
from typing import Any

from google.api_core import exceptions as google_exceptions
from google.api_core.retry import Retry, if_transient_error
from google.cloud import firestore
from google.cloud.firestore_v1.field_path import FieldPath

from loyjoy_relay.adapters.client_ledger import (
    RETENTION,
    claims_to_drop,
    decisions_kept,
    done_to_drop,
    new_records,
    state_from_fields,
)
from loyjoy_relay.adapters.firestore_errors import store_call
from loyjoy_relay.adapters.ports import LEASE_MS, ClientState
from loyjoy_relay.core.consent.history import HISTORY_LIMIT, ConsentRecord

COLLECTION = "consent_ledger"
CALL_TIMEOUT_S = 4.0  # one RPC attempt
DEADLINE_S = 6.0  # one call, retries included
_ID_SALT = b"loyjoy-ga4-relay/consent-ledger/v1:"


def _transient(error: Exception) -> bool:
    # A first call on a cold connection can run past one attempt's timeout: try again.
    return if_transient_error(error) or isinstance(error, google_exceptions.DeadlineExceeded)


def document_id(client_id: str) -> str:
    """The ledger document id of a client: a salted hash, never the id itself."""
    return hashlib.sha256(_ID_SALT + client_id.encode()).hexdigest()


class _Changes:
    """Field changes of one write, as nested data (create, merge) or field paths (update).

    ``expire_at`` moves (the document's 13 months start again) only when a decision is
    written, or when the document is created: claims and settled ids never extend how
    long a visitor's decisions are kept.
    """

    def __init__(self) -> None:
        self.entries: list[tuple[str, str, Any]] = []
        self.now = datetime.datetime.now(datetime.UTC)

    def put(self, field: str, key: str, value: Any) -> None:
        self.entries.append((field, key, value))

    def delete(self, field: str, keys: Sequence[str]) -> None:
        for key in keys:
            self.entries.append((field, key, firestore.DELETE_FIELD))

    def _stamps(self, for_create: bool) -> dict[str, Any]:
        decided = any(
            field == "decisions" and value is not firestore.DELETE_FIELD
            for field, _, value in self.entries
        )
        if not (decided or for_create):
            return {}
        return {"updated_at": self.now, "expire_at": self.now + RETENTION}

    def nested(self, *, for_create: bool = False) -> dict[str, Any]:
        data = self._stamps(for_create)
        for field, key, value in self.entries:
            if for_create and value is firestore.DELETE_FIELD:
                continue
            data.setdefault(field, {})[key] = value
        return data

    def paths(self) -> dict[str, Any]:
        data = self._stamps(False)
        for field, key, value in self.entries:
            data[FieldPath(field, key).to_api_repr()] = value
        return data


class FirestoreConsentLedger:
    """The client ledger in the ``consent_ledger`` collection of a Firestore database."""

    def __init__(
        self,
        client: firestore.Client,
        *,
        client_key: Callable[[str], str] = document_id,
        collection: str = COLLECTION,
        limit: int = HISTORY_LIMIT,
        deadline_s: float = DEADLINE_S,
    ) -> None:
        # client_key: the document id of a client; deployed, its keyed pseudonym
        # (core.pseudonyms.Pseudonyms.ledger_key), so the id is never stored
        self._client = client
        self._limit = limit
        self._retry = Retry(
            predicate=_transient, initial=0.1, maximum=1.0, multiplier=2.0, timeout=deadline_s
        )
        self._timeout = min(CALL_TIMEOUT_S, deadline_s)
        self._collection = client.collection(collection)
        self._client_key = client_key

    def _document(self, client_id: str) -> Any:
        return self._collection.document(self._client_key(client_id))

    def load(self, client_id: str) -> ClientState:
        """Everything the relay needs about a client, in one read."""
        with store_call("consent ledger", "be read"):
            snapshot = self._document(client_id).get(retry=self._retry, timeout=self._timeout)
            # ValueError (a malformed document) is "cannot be read" too: never guess.
            if not snapshot.exists:
                return state_from_fields(None, None)
            return state_from_fields(snapshot.to_dict(), snapshot.update_time)

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
        """Record new decisions and claim events in one write (see the module docstring)."""
        adding = new_records(seen.history, records)
        if not adding and not event_ids:
            return True
        changes = _Changes()
        kept = decisions_kept(seen, adding, self._limit)
        for record in adding:
            if record in kept:
                changes.put("decisions", record.source, record.as_json())
        changes.delete("decisions", [r.source for r in seen.history if r not in kept])
        claim = {"owner": owner, "lease_until": now_ms + LEASE_MS}
        for event_id in event_ids:
            changes.put("claims", event_id, claim)
        document = self._document(client_id)
        with store_call("consent ledger", "be updated"):
            try:
                if not event_ids:
                    document.set(
                        changes.nested(), merge=True, retry=self._retry, timeout=self._timeout
                    )
                elif seen.version is None:
                    document.create(
                        changes.nested(for_create=True), retry=self._retry, timeout=self._timeout
                    )
                else:
                    option = self._client.write_option(last_update_time=seen.version)
                    document.update(
                        changes.paths(), option=option, retry=self._retry, timeout=self._timeout
                    )
            except (google_exceptions.FailedPrecondition, google_exceptions.Conflict):
                return False  # changed since it was read (or created meanwhile): read again
        return True

    def settle(
        self,
        client_id: str,
        seen: ClientState,
        *,
        done: Sequence[str],
        released: Sequence[str],
        now_ms: int,
    ) -> None:
        """Mark events settled and release claims, trimming old entries, in one merge."""
        changes = _Changes()
        for event_id in done:
            changes.put("done", event_id, now_ms)
        finished = set(done) | set(released)
        changes.delete("claims", sorted(finished | set(claims_to_drop(seen, now_ms))))
        fresh = set(done) - set(seen.done)
        changes.delete(
            "done", [i for i in done_to_drop(seen, len(fresh), now_ms) if i not in fresh]
        )
        with store_call("consent ledger", "be updated"):
            # update, not a merge: a document the TTL policy removed meanwhile is not
            # brought back without its expire_at (NotFound: logged by the relay)
            self._document(client_id).update(
                changes.paths(), retry=self._retry, timeout=self._timeout
            )

    def close(self) -> None:
        """Nothing to release: the Firestore client is the caller's to close."""
