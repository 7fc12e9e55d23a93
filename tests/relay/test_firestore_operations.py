"""What one message costs in Firestore, counted on the wire: the relay's client talks to
the emulator through a proxy that counts each RPC (one document per read and per write
here, as Firestore bills them)."""

from __future__ import annotations

import io
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from google.cloud import firestore
from loyjoy_relay.adapters.dead_letters import DeadLetters
from loyjoy_relay.adapters.fakes import (
    RecordingGa4Transport,
    RecordingPublisher,
    fixed_pseudonyms,
)
from loyjoy_relay.adapters.firestore_ledger import FirestoreConsentLedger
from loyjoy_relay.adapters.ga4_sender import Ga4Sender
from loyjoy_relay.adapters.logs import JsonLogger
from loyjoy_relay.adapters.secret_manager import SecretProvider
from loyjoy_relay.devstack.event_factory import (
    contract_event,
    granted,
    message_data,
    new_client_id,
    now_ms,
)
from loyjoy_relay.service.relay import RelayService
from loyjoy_relay.service.wiring import build_relay_service

from tests.conftest import PROJECT
from tests.relay.test_concurrency import PLANNER
from tests.support.emulators import Emulator
from tests.support.firestore_proxy import FirestoreFaultProxy


@pytest.fixture
def counted(
    firestore_emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[RelayService, FirestoreFaultProxy]]:
    """A relay whose Firestore client goes through a counting proxy, and the proxy."""
    proxy = FirestoreFaultProxy(firestore_emulator.host).start()
    monkeypatch.setenv("FIRESTORE_EMULATOR_HOST", proxy.host)
    client = firestore.Client(project=PROJECT)
    FirestoreConsentLedger(client).load("warm-up")  # the connection, as a running instance
    service = build_relay_service(
        planner=PLANNER,
        ledger=FirestoreConsentLedger(client),
        sender=Ga4Sender("https://ga4.test", transport=RecordingGa4Transport()),
        secrets=SecretProvider(),
        dead_letters=DeadLetters(RecordingPublisher()),
        logger=JsonLogger("relay", io.StringIO()),
        pseudonyms=fixed_pseudonyms(),
    )
    yield service, proxy
    client.close()
    proxy.stop()


def operations(proxy: FirestoreFaultProxy, run: Any) -> tuple[int, int]:
    """(document reads, document writes) that ``run()`` made."""
    before = Counter(proxy.calls)
    run()
    after = Counter(proxy.calls)
    return after["BatchGetDocuments"] - before["BatchGetDocuments"], after["Commit"] - before[
        "Commit"
    ]


def test_a_message_costs_one_read_and_two_writes_whatever_its_size(
    counted: tuple[RelayService, FirestoreFaultProxy],
) -> None:
    """5 or 20 events sent: 1 read, 2 writes; the same events again: 1 read, no write; a
    message the rules drop entirely: 1 read, and 1 write only for a decision not yet known."""
    service, proxy = counted
    client, t = new_client_id(), now_ms() - 60_000
    stamp = granted(t - 1000)

    def events(count: int, at: int, **fields: Any) -> list[dict[str, Any]]:
        return [
            contract_event("interaction", client_id=client, ts=at + i, **fields)
            for i in range(count)
        ]

    five, twenty = events(5, t, consent=stamp), events(20, t + 100, consent=stamp)
    assert operations(proxy, lambda: service.process(message_data(five), message_id="a")) == (1, 2)
    assert operations(proxy, lambda: service.process(message_data(twenty), message_id="b")) == (
        1,
        2,
    )
    assert operations(proxy, lambda: service.process(message_data(five), message_id="c")) == (1, 0)
    opt_out = contract_event("profiling_opt_out", client_id=client, ts=t + 500)
    dropped = [opt_out, *events(4, t + 600)]
    assert operations(proxy, lambda: service.process(message_data(dropped), message_id="d")) == (
        1,
        1,
    )
    more_dropped = events(5, t + 700)
    assert operations(
        proxy, lambda: service.process(message_data(more_dropped), message_id="e")
    ) == (1, 0)
