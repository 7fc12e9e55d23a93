"""The consent ledgers: the same contract in memory and in Firestore (on the emulator)."""

from __future__ import annotations

import datetime
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from google.cloud import firestore
from loyjoy_relay.adapters.fakes import InMemoryConsentLedger
from loyjoy_relay.adapters.firestore_ledger import (
    CALL_TIMEOUT_S,
    COLLECTION,
    DEADLINE_S,
    RETENTION,
    FirestoreConsentLedger,
    document_id,
)
from loyjoy_relay.adapters.ports import ConsentLedger
from loyjoy_relay.core.consent.history import ConsentRecord
from loyjoy_relay.errors import StoreUnavailable

from tests.conftest import PROJECT
from tests.support.emulators import Emulator
from tests.support.net import free_port

LedgerFactory = Callable[..., ConsentLedger]


@pytest.fixture
def firestore_client(firestore_emulator: Emulator) -> Iterator[firestore.Client]:
    """A Firestore client on the session's emulator."""
    client = firestore.Client(project=PROJECT)
    yield client
    client.close()


@pytest.fixture(params=["memory", "firestore"])
def make_ledger(request: pytest.FixtureRequest) -> Iterator[LedgerFactory]:
    """Builds ledgers of one kind: in memory, or in Firestore on the emulator."""
    if request.param == "memory":
        yield InMemoryConsentLedger
        return
    client = request.getfixturevalue("firestore_client")
    made: list[FirestoreConsentLedger] = []

    def build(**options: Any) -> ConsentLedger:
        ledger = FirestoreConsentLedger(client, **options)
        made.append(ledger)
        return ledger

    yield build
    for ledger in made:
        ledger.close()


def new_client() -> str:
    return f"{uuid.uuid4().int % 10**10}.{int(time.time())}"


def rec(
    at: int, kind: str = "grant", source: str | None = None, bot: str = "bot-a"
) -> ConsentRecord:
    return ConsentRecord(at, kind, bot, source or str(uuid.uuid4()))  # type: ignore[arg-type]


def test_unknown_client_has_no_history(make_ledger: LedgerFactory) -> None:
    """A client never seen reads as an empty history."""
    assert make_ledger().read(new_client()) == []


def test_record_merges_and_returns_the_history_oldest_first(make_ledger: LedgerFactory) -> None:
    """Recorded decisions come back merged and sorted by time, from record and from read."""
    ledger, client = make_ledger(), new_client()
    first, second, third = rec(30, "revoke"), rec(10), rec(20)
    assert ledger.record(client, [first]) == [first]
    merged = ledger.record(client, [second, third])
    assert merged == [second, third, first]
    assert ledger.read(client) == merged


def test_recording_is_idempotent(make_ledger: LedgerFactory) -> None:
    """Recording the same source twice, or the same decision from another source, adds nothing."""
    ledger, client = make_ledger(), new_client()
    record = rec(10, "revoke", source="e1")
    ledger.record(client, [record])
    assert ledger.record(client, [record, rec(10, "revoke", source="stamp:e2")]) == [record]


def test_histories_are_per_client(make_ledger: LedgerFactory) -> None:
    """One client's decisions never show in another's history."""
    ledger, one, other = make_ledger(), new_client(), new_client()
    ledger.record(one, [rec(10, "revoke")])
    assert ledger.read(other) == []


def test_history_is_bounded_but_keeps_the_latest_revocation(make_ledger: LedgerFactory) -> None:
    """Beyond the limit the oldest records go, except the latest revocation."""
    ledger, client = make_ledger(limit=3), new_client()
    revocation = rec(5, "revoke")
    ledger.record(client, [revocation, *(rec(at) for at in (10, 20, 30, 40))])
    assert [r.at for r in ledger.read(client)] == [5, 20, 30, 40]


def test_firestore_document_is_keyed_by_hash_and_expires(
    firestore_client: firestore.Client,
) -> None:
    """The document id is a hash (the raw client id is stored nowhere) and expire_at is set."""
    ledger, client = FirestoreConsentLedger(firestore_client), new_client()
    ledger.record(client, [rec(10, "revoke")])
    snapshot = firestore_client.collection(COLLECTION).document(document_id(client)).get()
    data = snapshot.to_dict()
    assert data is not None
    assert client not in snapshot.id
    assert client not in repr(data)
    expected = datetime.datetime.now(datetime.UTC) + RETENTION
    assert abs((data["expire_at"] - expected).total_seconds()) < 60
    ledger.close()


def test_concurrent_writers_lose_no_revocation(firestore_client: firestore.Client) -> None:
    """Two relays recording into one history at once keep every record, revocations included."""
    client = new_client()
    ledgers = [FirestoreConsentLedger(firestore_client) for _ in range(2)]
    written: list[list[ConsentRecord]] = [[], []]

    def writer(index: int) -> None:
        for step in range(8):
            kind = "revoke" if step % 3 == index else "grant"
            record = rec(1000 * step + index, kind, source=f"w{index}-{step}")
            while True:  # the relay's retry: a contended merge raises and is run again
                try:
                    ledgers[index].record(client, [record])
                    break
                except StoreUnavailable:
                    continue
            written[index].append(record)

    threads = [threading.Thread(target=writer, args=(index,)) for index in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    stored = set(ledgers[0].read(client))
    assert stored == set(written[0]) | set(written[1])
    assert {r for r in stored if r.kind == "revoke"} == {
        r for r in written[0] + written[1] if r.kind == "revoke"
    }
    for ledger in ledgers:
        ledger.close()


def test_unreachable_firestore_raises_store_unavailable_quickly(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With no Firestore to reach, read and record raise StoreUnavailable within seconds."""
    monkeypatch.setenv("FIRESTORE_EMULATOR_HOST", f"127.0.0.1:{free_port()}")
    client = firestore.Client(project=PROJECT)
    ledger = FirestoreConsentLedger(client)
    for call in (lambda: ledger.read("1.2"), lambda: ledger.record("1.2", [rec(10, "revoke")])):
        started = time.monotonic()
        with pytest.raises(StoreUnavailable):
            call()
        assert time.monotonic() - started < DEADLINE_S + CALL_TIMEOUT_S + 2
    ledger.close()
    client.close()
