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

from loyjoy_relay.adapters.firestore_dedup import LEASE_MS, State, classify_claims
from loyjoy_relay.adapters.ga4_transport import OutboundRequest, TransportResponse
from loyjoy_relay.adapters.ports import ClaimResult, OutgoingMessage
from loyjoy_relay.adapters.secret_manager import api_exceptions
from loyjoy_relay.core.consent.history import HISTORY_LIMIT, ConsentRecord, merge_history
from loyjoy_relay.core.pseudonyms import Pseudonyms

# A public key: pseudonyms under it are repeatable in tests and worthless for a deployment.
FIXED_PSEUDONYM_KEY = b"loyjoy-ga4-relay tests: public, never deployed"


class InMemoryConsentLedger:
    """A consent ledger in this process's memory, with the Firestore one's semantics."""

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


@dataclass
class InMemoryDedup:
    """The same semantics in memory, for ``explain``, benchmarks and the embedded mode."""

    records: dict[str, tuple[State, int]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def claim(self, event_ids: Sequence[str], now_ms: int) -> ClaimResult:
        """Claim every unseen (or lease-expired) event id."""
        with self.lock:
            result = classify_claims(event_ids, self.records, now_ms)
            for event_id in result.claimed:
                self.records[event_id] = ("claimed", now_ms + LEASE_MS)
            return result

    def complete(self, event_ids: Sequence[str]) -> None:
        """Mark event ids as sent."""
        with self.lock:
            for event_id in event_ids:
                self.records[event_id] = ("sent", 0)

    def release(self, event_ids: Sequence[str]) -> None:
        """Give up the claims of event ids that were not sent."""
        with self.lock:
            for event_id in event_ids:
                if self.records.get(event_id, ("sent", 0))[0] == "claimed":
                    del self.records[event_id]


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
