"""Claims and settling in the client ledger: Firestore (emulator) and its in-memory twin,
including deliveries racing for the same events."""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from loyjoy_relay.adapters import client_ledger
from loyjoy_relay.adapters.fakes import InMemoryConsentLedger
from loyjoy_relay.adapters.ports import LEASE_MS, ConsentLedger, history_of
from loyjoy_relay.core.consent.history import ConsentRecord

from tests.conftest import PROJECT

CLIENT = "1234567890.1700000000"
NOW = 1_732_450_000_000


@pytest.fixture(params=["firestore", "memory"])
def ledger(request: pytest.FixtureRequest) -> Iterator[ConsentLedger]:
    """An empty client ledger: in Firestore (a fresh collection on the emulator) or memory."""
    if request.param == "memory":
        yield InMemoryConsentLedger()
        return
    request.getfixturevalue("firestore_emulator")
    from google.cloud import firestore
    from loyjoy_relay.adapters.firestore_ledger import FirestoreConsentLedger

    client = firestore.Client(project=PROJECT)
    yield FirestoreConsentLedger(client, collection=f"ledger-{uuid.uuid4().hex[:8]}")
    client.close()


def ids(n: int) -> list[str]:
    return [str(uuid.uuid4()) for _ in range(n)]


def claim(ledger: ConsentLedger, event_ids: list[str], owner: str, now_ms: int = NOW) -> bool:
    """One read and one conditional claim, as a delivery makes them."""
    seen = ledger.load(CLIENT)
    return ledger.claim(CLIENT, seen, records=[], event_ids=event_ids, owner=owner, now_ms=now_ms)


def test_claim_then_settle_makes_redelivery_a_duplicate(ledger: ConsentLedger) -> None:
    """Events settled once are done for every later delivery; their claims are gone."""
    events = ids(3)
    assert claim(ledger, events, "m-1")
    ledger.settle(CLIENT, ledger.load(CLIENT), done=events, released=[], now_ms=NOW + 10)
    state = ledger.load(CLIENT)
    triage = state.triage(events, owner="m-2", now_ms=NOW + 20)
    assert triage.done == set(events)
    assert not triage.claimable
    assert not state.claims


def test_a_claim_fails_when_the_ledger_changed_since_it_was_read(ledger: ConsentLedger) -> None:
    """A conditional claim on a stale read writes nothing and says so."""
    claim(ledger, ids(1), "m-0")
    stale = ledger.load(CLIENT)
    assert claim(ledger, ids(1), "m-1")
    late = ids(1)
    assert not ledger.claim(CLIENT, stale, records=[], event_ids=late, owner="m-2", now_ms=NOW)
    assert late[0] not in ledger.load(CLIENT).claims


def test_claims_of_other_messages_are_in_flight_and_own_ones_claimable(
    ledger: ConsentLedger,
) -> None:
    """A claim is another message's business until its lease ends (for a replay), and
    always its own message's to take over."""
    events = ids(2)
    assert claim(ledger, events, "m-1")
    state = ledger.load(CLIENT)
    assert state.triage(events, owner="m-2", now_ms=NOW + 1).in_flight == set(events)
    assert state.triage(events, owner="m-1", now_ms=NOW + 1).claimable == set(events)
    replay = state.triage(events, owner="r", now_ms=NOW + 1, replay=True)
    assert replay.wait == set(events)
    later = state.triage(events, owner="r", now_ms=NOW + LEASE_MS + 1, replay=True)
    assert later.claimable == set(events)


def test_released_claims_are_claimable_by_another_message(ledger: ConsentLedger) -> None:
    """Released claims (not sent) leave the events free for the next delivery at once."""
    events = ids(2)
    claim(ledger, events, "m-1")
    ledger.settle(CLIENT, ledger.load(CLIENT), done=[], released=events, now_ms=NOW + 5)
    assert ledger.load(CLIENT).triage(events, owner="m-2", now_ms=NOW + 6).claimable == set(events)


def race(ledger: ConsentLedger, events: list[str], racers: int) -> tuple[Counter[str], float]:
    """``racers`` deliveries claiming the same events at once, each retrying on a changed
    ledger until the events are claimed (by it or another): who claimed what, and how long
    the slowest took."""
    barrier = threading.Barrier(racers)
    owners: Counter[str] = Counter()
    lock = threading.Lock()

    def deliver(index: int) -> float:
        owner = f"m-{index}"
        barrier.wait(timeout=30)
        started = time.monotonic()
        for _ in range(50):
            seen = ledger.load(CLIENT)
            free = sorted(seen.triage(events, owner=owner, now_ms=NOW).claimable)
            if not free:
                break
            if ledger.claim(CLIENT, seen, records=[], event_ids=free, owner=owner, now_ms=NOW):
                with lock:
                    owners.update(dict.fromkeys(free, 1))
                break
        return time.monotonic() - started

    with ThreadPoolExecutor(max_workers=racers) as pool:
        elapsed = max(pool.map(deliver, range(racers), timeout=60))
    return owners, elapsed


def test_racing_deliveries_claim_each_event_exactly_once(ledger: ConsentLedger) -> None:
    """Eight deliveries of the same events at the same moment: each event is claimed by one
    of them, and none waits on another (all done within seconds)."""
    events = ids(10)
    claim(ledger, ids(1), "m-setup")  # the client's document exists: the update path
    owners, elapsed = race(ledger, events, racers=8)
    assert owners == Counter(dict.fromkeys(events, 1))
    assert elapsed < 10, f"slowest delivery took {elapsed:.1f} s"


def test_first_claims_on_a_new_client_race_to_create(ledger: ConsentLedger) -> None:
    """Eight deliveries for a client never seen: exactly one creates its document with the
    claims; the others find them there."""
    events = ids(4)
    owners, _ = race(ledger, events, racers=8)
    assert owners == Counter(dict.fromkeys(events, 1))


def test_decisions_written_with_a_claim_are_kept(ledger: ConsentLedger) -> None:
    """The message's new decisions travel in the claim's write, and a record already known
    (by source or decision) is not added twice."""
    revocation = ConsentRecord(NOW - 10, "revoke", "bot-a", "e-1")
    seen = ledger.load(CLIENT)
    assert ledger.claim(
        CLIENT, seen, records=[revocation], event_ids=ids(1), owner="m-1", now_ms=NOW
    )
    same = ConsentRecord(NOW - 10, "revoke", "bot-a", "stamp:e-2")
    seen = ledger.load(CLIENT)
    assert ledger.claim(CLIENT, seen, records=[same], event_ids=ids(1), owner="m-2", now_ms=NOW)
    assert history_of(ledger, CLIENT) == [revocation]


def test_settled_ids_are_trimmed_by_age_and_beyond_the_cap(
    ledger: ConsentLedger, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ids settled longer ago than the retention go, and the oldest beyond the cap."""
    monkeypatch.setattr(client_ledger, "MAX_DONE", 3)
    old, older, recent, newest = ids(2), ids(1), ids(1), ids(2)
    day = 24 * 3600 * 1000
    for batch, at in ((old, NOW - 5 * day), (older, NOW - 2 * day), (recent, NOW - day)):
        claim(ledger, batch, "m", now_ms=at)
        ledger.settle(CLIENT, ledger.load(CLIENT), done=batch, released=[], now_ms=at)
    claim(ledger, newest, "m")
    ledger.settle(CLIENT, ledger.load(CLIENT), done=newest, released=[], now_ms=NOW)
    assert set(ledger.load(CLIENT).done) == {*recent, *newest}
