"""Dedup claims against the Firestore emulator (and the in-memory twin), incl. races."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from loyjoy_relay.adapters.fakes import InMemoryDedup
from loyjoy_relay.adapters.firestore_dedup import LEASE_MS, FirestoreDedup
from loyjoy_relay.errors import StoreUnavailable

from tests.conftest import PROJECT
from tests.support.emulators import Emulator


def firestore_store(emulator: Emulator) -> FirestoreDedup:
    from google.cloud import firestore

    client = firestore.Client(project=PROJECT)
    return FirestoreDedup(client, collection=f"dedup-{uuid.uuid4().hex[:8]}")


@pytest.fixture(params=["firestore", "memory"])
def make_store(request: pytest.FixtureRequest) -> Callable[[], Any]:
    """A factory of stores sharing one backend: Firestore (emulator) or memory."""
    if request.param == "memory":
        store = InMemoryDedup()
        return lambda: store
    emulator = request.getfixturevalue("firestore_emulator")
    shared = firestore_store(emulator)
    return lambda: shared


def ids(n: int) -> list[str]:
    return [str(uuid.uuid4()) for _ in range(n)]


def test_claim_then_complete_makes_redelivery_a_duplicate(make_store: Callable[[], Any]) -> None:
    """Events completed once are reported as already sent on the next delivery."""
    store, events = make_store(), ids(3)
    first = store.claim(events, now_ms=1_000)
    assert first.claimed == set(events)
    store.complete(events)
    again = store.claim(events, now_ms=2_000)
    assert again.already_sent == set(events)
    assert not again.claimed
    assert not again.busy


def test_live_claim_is_busy_and_expired_claim_is_reclaimed(make_store: Callable[[], Any]) -> None:
    """A claim within its lease blocks others; after the lease it can be claimed again."""
    store, events = make_store(), ids(2)
    store.claim(events, now_ms=10_000)
    assert store.claim(events, now_ms=10_001).busy == set(events)
    later = store.claim(events, now_ms=10_000 + LEASE_MS + 1)
    assert later.claimed == set(events)


def test_release_lets_the_retry_claim_at_once(make_store: Callable[[], Any]) -> None:
    """Released claims (a transient failure) are claimable immediately."""
    store, events = make_store(), ids(2)
    store.claim(events, now_ms=5_000)
    store.release(events)
    assert store.claim(events, now_ms=5_001).claimed == set(events)


def test_concurrent_claims_never_share_an_event(make_store: Callable[[], Any]) -> None:
    """Two deliveries claiming the same events at once: each event is claimed by one only."""
    events = ids(20)
    results: list[Any] = []
    barrier = threading.Barrier(2)

    def worker() -> None:
        store = make_store()
        barrier.wait()
        results.append(store.claim(events, now_ms=50_000))

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(results) == 2
    first, second = results
    assert not first.claimed & second.claimed
    assert first.claimed | second.claimed == set(events)


def test_unreachable_firestore_raises_store_unavailable(monkeypatch: pytest.MonkeyPatch) -> None:
    """With no Firestore listening, a claim fails fast with StoreUnavailable (fail closed)."""
    from google.cloud import firestore

    from tests.support.net import free_port

    monkeypatch.setenv("FIRESTORE_EMULATOR_HOST", f"127.0.0.1:{free_port()}")
    store = FirestoreDedup(firestore.Client(project=PROJECT))
    with pytest.raises(StoreUnavailable):
        store.claim(ids(1), now_ms=1)
