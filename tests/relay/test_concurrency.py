"""Eight relays at once on one client's messages, against the Firestore emulator.

The messages interleave grants and revocations in two bots and repeat events in further
messages (as a page's beacon copies and two tabs' resends do). Each relay has its own
Firestore client, as separate function instances would. A relay that raises (a contended
ledger) has its message retried, as Pub/Sub would.
"""

from __future__ import annotations

import io
import json
import random
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
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
from loyjoy_relay.adapters.logs import JsonLogger, LogMessage
from loyjoy_relay.adapters.mapping_file import load_mapping
from loyjoy_relay.adapters.ports import history_of
from loyjoy_relay.adapters.rules_file import load_rules
from loyjoy_relay.adapters.secret_manager import SecretProvider
from loyjoy_relay.config import shipped_file
from loyjoy_relay.core.events import LoyJoyEvent
from loyjoy_relay.core.ga4.routing import Ga4Property, SecretRef
from loyjoy_relay.core.planner import Planner
from loyjoy_relay.devstack.event_factory import (
    GRANT_EVENTS,
    REVOKE_EVENTS,
    message_data,
    new_client_id,
    now_ms,
    stamped_chat,
)
from loyjoy_relay.errors import RetryableError
from loyjoy_relay.service.audit import decisions_in
from loyjoy_relay.service.relay import RelayService
from loyjoy_relay.service.wiring import build_relay_service

from tests.conftest import PROJECT
from tests.support.emulators import Emulator
from tests.support.firestore_proxy import FirestoreFaultProxy

RELAYS = 8
BOUND_S = 10.0  # every relay finishes all of its messages within this
PLANNER = Planner(
    load_rules(shipped_file("consent-rules.yaml")),
    load_mapping(shipped_file("ga4-mapping.yaml")),
    Ga4Property("G-TEST12345", SecretRef("value", "s3cr3t")),
)
# Two bots of one client: decisions in both, a revocation in B that holds for A too.
SCRIPT = [
    ("A", "load"), ("A", "open"), ("A", "start"), ("A", "interaction"),
    ("A", "profiling_single_opt_in"), ("A", "interaction"), ("B", "open"), ("B", "start"),
    ("A", "data_collection_question"), ("B", "profiling_single_opt_in"), ("B", "interaction"),
    ("B", "profiling_opt_out"), ("A", "interaction"), ("B", "interaction"), ("A", "end"),
    ("A", "profiling_double_opt_in"), ("A", "interaction"), ("B", "start"),
    ("A", "profiling_single_opt_in_rejected"), ("A", "interaction"), ("B", "hide"),
    ("B", "profiling_single_opt_in"), ("B", "interaction"), ("A", "start"),
]  # fmt: skip


def relay(
    transport: RecordingGa4Transport, client: firestore.Client, log: io.StringIO
) -> RelayService:
    """One relay instance: its own Firestore client, the shared GA4 stand-in."""
    return build_relay_service(
        planner=PLANNER,
        ledger=FirestoreConsentLedger(client),
        sender=Ga4Sender("https://ga4.test", transport=transport),
        secrets=SecretProvider(),
        dead_letters=DeadLetters(RecordingPublisher()),
        logger=JsonLogger("relay", log),
        pseudonyms=fixed_pseudonyms(),
    )


def rounds(events: list[dict[str, Any]], rng: random.Random) -> list[list[tuple[str, bytes]]]:
    """Three rounds of eight messages (message id, data), one per relay, started together:
    two rounds of four three-event messages, each beside a copy of it carrying also the
    next event (a beacon copy of events in flight); then eight random repeats."""
    chunks = [events[i : i + 3] for i in range(0, len(events), 3)]
    assert len(chunks) == 8
    copies = [[*chunk, *events[3 * (i + 1) : 3 * (i + 1) + 1]] for i, chunk in enumerate(chunks)]
    plan = [
        [*chunks[0:4], *copies[0:4]],
        [*chunks[4:8], *copies[4:8]],
        [rng.sample(events, 4) for _ in range(RELAYS)],
    ]
    numbered = [
        [(f"m-{r}-{i}", message_data(chunk)) for i, chunk in enumerate(round_)]
        for r, round_ in enumerate(plan)
    ]
    for round_ in numbered:
        rng.shuffle(round_)
    return numbered


def expected_plan(events: list[dict[str, Any]]) -> tuple[dict[str, str], set[int]]:
    """The contract's decisions with every decision known (one message of the whole chat),
    and the times (µs) of the events that reach GA4."""
    parsed = [LoyJoyEvent.model_validate(e) for e in events]
    plan = PLANNER.plan(parsed, [], now_ms=now_ms(), new_client_id=lambda: "1.1")
    actions = {outcome.event_id: outcome.action for outcome in plan.outcomes}
    sent = {e.ts * 1000 for e in parsed if actions[e.event_id] != "drop"}
    return actions, sent


def test_eight_relays_on_one_clients_messages(
    firestore_emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Eight relays on one client's messages, eight at a time with copies racing their
    originals: all finish within the bound, GA4 gets every sendable event exactly once,
    every decision is the contract's, and the ledger keeps every grant and revocation."""
    rng = random.Random(13)
    client_id = new_client_id(rng)
    bots = {"A": "bot-a-0001", "B": "bot-b-0002"}
    steps = [(bots[bot], evt) for bot, evt in SCRIPT]
    events = stamped_chat(steps, client_id=client_id, start_ms=now_ms() - 600_000)
    work = rounds(events, rng)
    transport = RecordingGa4Transport()
    proxy = FirestoreFaultProxy(firestore_emulator.host).start()  # counts the RPCs
    monkeypatch.setenv("FIRESTORE_EMULATOR_HOST", proxy.host)
    clients = [firestore.Client(project=PROJECT) for _ in range(RELAYS)]
    logs = [io.StringIO() for _ in range(RELAYS)]
    relays = [relay(transport, clients[i], logs[i]) for i in range(RELAYS)]
    for client in clients:  # a running instance's client has its connection open already
        FirestoreConsentLedger(client).load("warm-up")
    calls_before = Counter(proxy.calls)
    barrier = threading.Barrier(RELAYS)
    retries = Counter[int]()

    def run(index: int) -> float:
        busy = 0.0
        for round_ in work:
            barrier.wait(timeout=60)
            started = time.monotonic()
            message_id, data = round_[index]
            for _ in range(20):  # Pub/Sub's redelivery, without its backoff
                try:
                    relays[index].process(data, message_id=message_id)
                    break
                except RetryableError:
                    retries[index] += 1
            else:
                pytest.fail(f"{message_id} was still failing after 20 deliveries")
            busy += time.monotonic() - started
        return busy

    with ThreadPoolExecutor(max_workers=RELAYS) as pool:
        durations = list(pool.map(run, range(RELAYS), timeout=BOUND_S + 30))
    assert max(durations) < BOUND_S, f"slowest relay: {max(durations):.1f} s"
    messages = sum(len(round_) for round_ in work)
    calls = Counter(proxy.calls)
    calls.subtract(calls_before)
    print(
        f"relays busy at most {max(durations):.2f} s; deliveries retried: "
        f"{sum(retries.values())}; per message {calls['BatchGetDocuments'] / messages:.2f} "
        f"reads, {calls['Commit'] / messages:.2f} write attempts"
    )

    actions, expected_sent = expected_plan(events)
    arrivals = Counter(
        event["timestamp_micros"]
        for body in transport.bodies()
        for event in json.loads(body)["events"]
    )
    assert set(arrivals) == expected_sent
    assert set(arrivals.values()) == {1}, "an event reached GA4 more than once"

    decided = [
        decision
        for log in logs
        for line in log.getvalue().splitlines()
        if json.loads(line)["message"] == LogMessage.RELAY_MESSAGE
        for decision in decisions_in(json.loads(line))
    ]
    assert {line["event_id"] for line in decided} == set(actions)
    for line in decided:
        assert line["decision"] == actions[line["event_id"]], line["reason"]

    ledger = FirestoreConsentLedger(clients[0])
    stored = {(r.at, r.kind, r.bot_id) for r in history_of(ledger, client_id)}
    made = {
        (e["ts"], "grant" if e["evt"] in GRANT_EVENTS else "revoke", e["bot_id"])
        for e in events
        if e["evt"] in (*GRANT_EVENTS, *REVOKE_EVENTS)
    }
    assert made <= stored
    for client in clients:
        client.close()
    proxy.stop()
