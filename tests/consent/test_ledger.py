"""The client ledger's consent history: the same contract in memory and in Firestore (emulator)."""

from __future__ import annotations

import datetime
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from google.cloud import firestore
from loyjoy_relay.adapters.client_ledger import RETENTION
from loyjoy_relay.adapters.fakes import InMemoryConsentLedger
from loyjoy_relay.adapters.firestore_ledger import (
    COLLECTION,
    FirestoreConsentLedger,
    document_id,
)
from loyjoy_relay.adapters.ports import ClientState, ConsentLedger, history_of, record_decisions
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
    yield lambda **options: FirestoreConsentLedger(client, **options)


def new_client() -> str:
    return f"{uuid.uuid4().int % 10**10}.{int(time.time())}"


def rec(
    at: int, kind: str = "grant", source: str | None = None, bot: str = "bot-a"
) -> ConsentRecord:
    return ConsentRecord(at, kind, bot, source or str(uuid.uuid4()))  # type: ignore[arg-type]


def test_unknown_client_has_no_history(make_ledger: LedgerFactory) -> None:
    """A client never seen reads as an empty history."""
    assert history_of(make_ledger(), new_client()) == []


def test_record_merges_and_returns_the_history_oldest_first(make_ledger: LedgerFactory) -> None:
    """Recorded decisions come back merged and sorted by time, from record and from read."""
    ledger, client = make_ledger(), new_client()
    first, second, third = rec(30, "revoke"), rec(10), rec(20)
    assert record_decisions(ledger, client, [first]) == [first]
    merged = record_decisions(ledger, client, [second, third])
    assert merged == [second, third, first]
    assert history_of(ledger, client) == merged


def test_recording_is_idempotent(make_ledger: LedgerFactory) -> None:
    """Recording the same source twice, or the same decision from another source, adds nothing."""
    ledger, client = make_ledger(), new_client()
    record = rec(10, "revoke", source="e1")
    record_decisions(ledger, client, [record])
    assert record_decisions(ledger, client, [record, rec(10, "revoke", source="stamp:e2")]) == [
        record
    ]


def test_histories_are_per_client(make_ledger: LedgerFactory) -> None:
    """One client's decisions never show in another's history."""
    ledger, one, other = make_ledger(), new_client(), new_client()
    record_decisions(ledger, one, [rec(10, "revoke")])
    assert history_of(ledger, other) == []


def test_history_is_bounded_but_keeps_the_latest_revocation(make_ledger: LedgerFactory) -> None:
    """Beyond the limit the oldest records go, except the latest revocation."""
    ledger, client = make_ledger(limit=3), new_client()
    revocation = rec(5, "revoke")
    record_decisions(ledger, client, [revocation, *(rec(at) for at in (10, 20, 30, 40))])
    assert [r.at for r in history_of(ledger, client)] == [5, 20, 30, 40]


def test_firestore_document_is_keyed_by_hash_and_expires(
    firestore_client: firestore.Client,
) -> None:
    """The document id is a hash (the raw client id is stored nowhere) and expire_at is set."""
    ledger, client = FirestoreConsentLedger(firestore_client), new_client()
    record_decisions(ledger, client, [rec(10, "revoke")])
    snapshot = firestore_client.collection(COLLECTION).document(document_id(client)).get()
    data = snapshot.to_dict()
    assert data is not None
    assert client not in snapshot.id
    assert client not in repr(data)
    expected = datetime.datetime.now(datetime.UTC) + RETENTION
    assert abs((data["expire_at"] - expected).total_seconds()) < 60


def test_firestore_document_id_comes_from_the_client_key(
    firestore_client: firestore.Client,
) -> None:
    """A ``client_key`` callable names the client's document (keyed pseudonyms plug in here)."""
    ledger = FirestoreConsentLedger(firestore_client, client_key=lambda c: f"key-{c[::-1]}")
    client = new_client()
    record_decisions(ledger, client, [rec(10, "revoke")])
    assert firestore_client.collection(COLLECTION).document(f"key-{client[::-1]}").get().exists


def test_a_history_written_before_the_map_layout_is_still_read(
    firestore_client: firestore.Client,
) -> None:
    """A document of the earlier layout (records as a list) keeps counting after an upgrade,
    and new decisions are added beside it without rewriting it."""
    client = new_client()
    legacy = rec(10, "revoke", source="old-1")
    reference = firestore_client.collection(COLLECTION).document(document_id(client))
    reference.set({"records": [legacy.as_json()]})
    ledger = FirestoreConsentLedger(firestore_client)
    assert history_of(ledger, client) == [legacy]
    added = rec(20, "grant", source="new-1")
    assert record_decisions(ledger, client, [added]) == [legacy, added]
    assert reference.get().to_dict()["records"] == [legacy.as_json()]  # type: ignore[index]


def test_a_malformed_document_is_unreadable_not_guessed(
    firestore_client: firestore.Client,
) -> None:
    """A document the relay did not write in its shape raises StoreUnavailable (fail closed)."""
    client = new_client()
    reference = firestore_client.collection(COLLECTION).document(document_id(client))
    reference.set({"decisions": {"x": {"at": "yesterday", "kind": "revoke"}}})
    with pytest.raises(StoreUnavailable):
        history_of(FirestoreConsentLedger(firestore_client), client)


def test_concurrent_writers_lose_no_revocation(firestore_client: firestore.Client) -> None:
    """Eight writers recording into one history at once, without a transaction, keep every
    record, revocations included, and all finish within seconds."""
    client, writers, steps = new_client(), 8, 6
    ledgers = [FirestoreConsentLedger(firestore_client) for _ in range(writers)]
    barrier = threading.Barrier(writers)

    def write(index: int) -> list[ConsentRecord]:
        barrier.wait(timeout=30)
        written = []
        for step in range(steps):
            kind = "revoke" if (step + index) % 3 == 0 else "grant"
            record = rec(1000 * step + index, kind, source=f"w{index}-{step}")
            record_decisions(ledgers[index], client, [record])
            written.append(record)
        return written

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=writers) as pool:
        results = [pool.submit(write, index) for index in range(writers)]
        written = [record for result in results for record in result.result(timeout=60)]
    elapsed = time.monotonic() - started
    assert elapsed < 30, f"{writers} writers took {elapsed:.1f} s"
    stored = set(history_of(ledgers[0], client))
    assert stored == set(written)
    assert {r for r in stored if r.kind == "revoke"} == {r for r in written if r.kind == "revoke"}


def test_unreachable_firestore_raises_store_unavailable_quickly(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With no Firestore to reach, every call raises StoreUnavailable within its deadline."""
    monkeypatch.setenv("FIRESTORE_EMULATOR_HOST", f"127.0.0.1:{free_port()}")
    client = firestore.Client(project=PROJECT)
    ledger = FirestoreConsentLedger(client, deadline_s=1.5)
    seen = ClientState(version=None)
    calls: list[Callable[[], object]] = [
        lambda: history_of(ledger, "1.2"),
        lambda: record_decisions(ledger, "1.2", [rec(10, "revoke")]),
        lambda: ledger.claim(
            "1.2", seen, records=[rec(10, "revoke")], event_ids=["e"], owner="m", now_ms=1
        ),
        lambda: ledger.settle("1.2", seen, done=["e"], released=[], now_ms=1),
    ]
    for call in calls:
        started = time.monotonic()
        with pytest.raises(StoreUnavailable):
            call()
        assert time.monotonic() - started < 1.5 + 2
    client.close()


def test_only_a_decision_extends_how_long_the_history_is_kept(
    firestore_client: firestore.Client,
) -> None:
    """Claims and settled events leave ``expire_at`` alone; a new decision moves it, so a
    grant is never kept longer because its visitor keeps chatting."""
    ledger, client = FirestoreConsentLedger(firestore_client), new_client()
    reference = firestore_client.collection(COLLECTION).document(document_id(client))
    record_decisions(ledger, client, [rec(10, "grant")])
    first = reference.get().to_dict()["expire_at"]  # type: ignore[index]
    seen = ledger.load(client)
    assert ledger.claim(client, seen, records=[], event_ids=["e-1"], owner="m", now_ms=1)
    ledger.settle(client, ledger.load(client), done=["e-1"], released=[], now_ms=2)
    assert reference.get().to_dict()["expire_at"] == first  # type: ignore[index]
    record_decisions(ledger, client, [rec(20, "revoke")])
    assert reference.get().to_dict()["expire_at"] > first  # type: ignore[index]
