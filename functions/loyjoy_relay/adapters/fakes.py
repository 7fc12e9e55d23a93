"""In-memory fakes of every adapter, with the real ones' semantics.

Shipped beside the adapters (as ``structlog.testing`` ships with structlog) and used by the
tests, the embedded ``loyjoy-relay dev`` stack, ``explain`` and the benchmarks, so all of
them run the same services the functions run. Secret Manager and GA4's production
endpoint cannot run here; these are their stand-ins behind the real interfaces.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from loyjoy_relay.adapters.client_ledger import claims_to_drop, done_to_drop, new_records
from loyjoy_relay.adapters.ga4_transport import OutboundRequest, TransportResponse
from loyjoy_relay.adapters.ports import LEASE_MS, Claim, ClientState, OutgoingMessage
from loyjoy_relay.adapters.secret_manager import api_exceptions
from loyjoy_relay.core.consent.history import HISTORY_LIMIT, ConsentRecord, merge_history
from loyjoy_relay.core.pseudonyms import Pseudonyms

# A public key: pseudonyms under it are repeatable in tests and worthless for a deployment.
FIXED_PSEUDONYM_KEY = b"loyjoy-ga4-relay tests: public, never deployed"


class InMemoryConsentLedger:
    """A client ledger in this process's memory, with the Firestore one's semantics:
    decisions kept per source, conditional claims (a version per client), settled ids,
    and the same trimming (:mod:`~loyjoy_relay.adapters.client_ledger`)."""

    def __init__(self, limit: int = HISTORY_LIMIT) -> None:
        self._limit = limit
        self._clients: dict[str, _ClientEntry] = {}
        self._lock = threading.Lock()

    def load(self, client_id: str) -> ClientState:
        """Everything the relay needs about a client."""
        with self._lock:
            entry = self._clients.get(client_id)
            if entry is None:
                return ClientState()
            return ClientState(
                history=tuple(merge_history(entry.decisions.values(), (), limit=None)),
                done=dict(entry.done),
                claims=dict(entry.claims),
                version=entry.version,
            )

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
        """Record decisions and claim events; with events, only if unchanged since ``seen``."""
        adding = new_records(seen.history, records)
        if not adding and not event_ids:
            return True
        with self._lock:
            entry = self._clients.get(client_id)
            current = None if entry is None else entry.version
            if event_ids and current != seen.version:
                return False
            entry = self._clients.setdefault(client_id, _ClientEntry())
            for record in adding:
                entry.decisions[record.source] = record
            kept = merge_history(entry.decisions.values(), (), limit=self._limit)
            entry.decisions = {record.source: record for record in kept}
            for event_id in event_ids:
                entry.claims[event_id] = Claim(owner, now_ms + LEASE_MS)
            entry.version += 1
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
        """Mark events settled, release claims and trim, as the Firestore ledger does."""
        with self._lock:
            entry = self._clients.setdefault(client_id, _ClientEntry())
            fresh = set(done) - set(seen.done)
            for event_id in done_to_drop(seen, len(fresh), now_ms):
                if event_id not in fresh:
                    entry.done.pop(event_id, None)
            for event_id in [*done, *released, *claims_to_drop(seen, now_ms)]:
                entry.claims.pop(event_id, None)
            for event_id in done:
                entry.done[event_id] = now_ms
            entry.version += 1


@dataclass
class _ClientEntry:
    decisions: dict[str, ConsentRecord] = field(default_factory=dict)
    claims: dict[str, Claim] = field(default_factory=dict)
    done: dict[str, int] = field(default_factory=dict)
    version: int = 1


class RecordingPublisher:
    """Keeps published messages in memory: the dev stack's dead-letter list, and tests'."""

    def __init__(self) -> None:
        self.messages: list[OutgoingMessage] = []

    def publish_all(self, messages: Sequence[OutgoingMessage]) -> list[str]:
        """Record every message; ids are their positions."""
        self.messages.extend(messages)
        return [str(len(self.messages) - index) for index in range(len(messages), 0, -1)]


class RecordingGa4Transport:
    """A GA4 endpoint in memory: records every request and answers ``status`` (204).

    ``statuses`` (consumed first, one per request) scripts failures, e.g. ``[503, 503]``.
    """

    def __init__(self, status: int = 204, statuses: Sequence[int] = ()) -> None:
        self.status = status
        self.statuses = list(statuses)
        self.requests: list[OutboundRequest] = []
        self._lock = threading.Lock()

    def __call__(self, request: OutboundRequest) -> TransportResponse:
        """Record ``request`` and answer the next scripted status, else ``status``."""
        with self._lock:
            self.requests.append(request)
            status = self.statuses.pop(0) if self.statuses else self.status
        return TransportResponse(status)

    def bodies(self) -> list[bytes]:
        """The bodies received, oldest first, exactly as sent."""
        with self._lock:
            return [request.body for request in self.requests]


@dataclass
class SequentialClientIds:
    """A fixed source of anonymous client ids (``1.1``, ``2.2``, ...), for repeatable tests."""

    start: int = 1
    _counter: itertools.count[int] = field(init=False)

    def __post_init__(self) -> None:
        self._counter = itertools.count(self.start)

    def __call__(self) -> str:
        """The next id."""
        number = next(self._counter)
        return f"{number}.{number}"


def fixed_pseudonyms() -> Pseudonyms:
    """Pseudonyms under :data:`FIXED_PSEUDONYM_KEY`, for repeatable tests."""
    return Pseudonyms(FIXED_PSEUDONYM_KEY)


@dataclass
class _Payload:
    data: bytes


@dataclass
class _Response:
    name: str
    payload: _Payload


class FakeSecretManagerClient:
    """A stand-in for ``SecretManagerServiceClient`` holding versions in memory."""

    def __init__(self, versions: Mapping[str, str]) -> None:
        self.versions = dict(versions)
        self.calls = 0

    def __repr__(self) -> str:
        return f"FakeSecretManagerClient(versions={sorted(self.versions)})"

    def access_secret_version(self, request: Any = None, **kwargs: Any) -> Any:
        """Like the real client: the version's payload, or NotFound."""
        exceptions = api_exceptions()
        self.calls += 1
        name = (request or {}).get("name") or kwargs["name"]
        if name not in self.versions:
            raise exceptions.NotFound(f"Secret Version [{name}] not found.")
        return _Response(name, _Payload(self.versions[name].encode()))
