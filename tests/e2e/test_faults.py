"""Faults on the real pipeline, counted at the GA4 stand-in: each event arrives exactly
once, or, in the two windows no relay can close (README, "The relay function"), at most
once more.

The relay reaches Firestore through a gRPC proxy that can fail its writes while its reads
still work (between the relay's read and its claim, or after GA4 answered); the GA4
stand-in can lose or hold its answers; the relay process can be killed with SIGKILL.
Pub/Sub's push subscription redelivers as in production (attempts raised here so that a
relay restart never exhausts them).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from loyjoy_relay.adapters.logs import LogMessage
from loyjoy_relay.devstack.emulators import Emulator
from loyjoy_relay.devstack.pipeline import EmulatorPipeline
from loyjoy_relay.service.audit import decisions_in

from tests.e2e.conftest import post_batch, relay_log_records, sent_events, start_pipeline
from tests.e2e.events import event, new_client_id, now_ms
from tests.support.firestore_proxy import FirestoreFaultProxy
from tests.support.net import wait_until


@pytest.fixture(scope="module")
def firestore_proxy(firestore_emulator: Emulator) -> Iterator[FirestoreFaultProxy]:
    """The relay's way to Firestore, which a test can break."""
    proxy = FirestoreFaultProxy(firestore_emulator.host).start()
    yield proxy
    proxy.stop()


@pytest.fixture(scope="module")
def faulty(
    pubsub_emulator: Emulator, firestore_emulator: Emulator, firestore_proxy: FirestoreFaultProxy
) -> Iterator[EmulatorPipeline]:
    """A pipeline whose relay talks to Firestore through the proxy."""
    started = start_pipeline(
        pubsub_emulator,
        firestore_emulator,
        max_delivery_attempts=30,
        relay_env={"FIRESTORE_EMULATOR_HOST": firestore_proxy.host},
    )
    yield started
    started.stop()


@pytest.fixture(autouse=True)
def _healthy(faulty: EmulatorPipeline, firestore_proxy: FirestoreFaultProxy) -> Iterator[None]:
    assert faulty.sink is not None
    faulty.sink.clear()
    yield
    firestore_proxy.heal()
    faulty.sink.control(fail_next=0, lose_next=0, release=True)


def granted_events(client: str, count: int) -> list[dict[str, Any]]:
    """``count`` opted-in events of one client, a millisecond apart (their GA4 times)."""
    t = now_ms() - 20_000
    stamp = {"profiling": "granted", "at": t - 1000, "evt": "profiling_single_opt_in"}
    return [event("interaction", client, t + i, consent=stamp) for i in range(count)]


def arrivals(pipeline: EmulatorPipeline, client: str) -> Counter[int]:
    """How often each of the client's events reached GA4, by its time (µs, unique here)."""
    return Counter(e["timestamp_micros"] for e in sent_events(pipeline) if e["client_id"] == client)


def wait_for_arrivals(pipeline: EmulatorPipeline, client: str, total: int) -> Counter[int]:
    """Poll the stand-in until the client's events arrived ``total`` times in all."""
    assert pipeline.relay is not None
    try:
        wait_until(
            lambda: sum(arrivals(pipeline, client).values()) >= total,
            timeout=90,
            what=f"{total} arrivals",
        )
    except TimeoutError as error:
        raise AssertionError(f"{error}\n{pipeline.relay.log_text()[-4000:]}") from None
    return arrivals(pipeline, client)


def handled(pipeline: EmulatorPipeline) -> int:
    """How many deliveries the relay finished (acknowledged)."""
    return len(relay_log_records(pipeline, LogMessage.RELAY_MESSAGE))


def test_firestore_failing_between_read_and_claim_sends_nothing_then_once(
    faulty: EmulatorPipeline, firestore_proxy: FirestoreFaultProxy
) -> None:
    """Firestore answers reads but refuses writes: the relay reads the ledger, cannot
    claim, sends nothing and fails; once writes work again every event arrives once."""
    assert faulty.ingest is not None
    client = new_client_id()
    firestore_proxy.fail("Commit")
    refused_before = firestore_proxy.refused["Commit"]
    reads_before = firestore_proxy.calls["BatchGetDocuments"]
    assert post_batch(faulty.ingest.url, granted_events(client, 5)) == 202
    wait_until(
        lambda: "StoreUnavailable" in faulty.relay.log_text(),  # type: ignore[union-attr]
        timeout=60,
        what="the relay to fail on the claim",
    )
    assert firestore_proxy.calls["BatchGetDocuments"] > reads_before, "the ledger was read"
    assert firestore_proxy.refused["Commit"] > refused_before, "the claim was refused"
    assert arrivals(faulty, client) == Counter(), "fail closed: nothing sent"
    firestore_proxy.heal()
    received = wait_for_arrivals(faulty, client, 5)
    assert sorted(received.values()) == [1] * 5


def test_firestore_failing_after_ga4_answered_sends_each_event_once(
    faulty: EmulatorPipeline, firestore_proxy: FirestoreFaultProxy
) -> None:
    """Firestore fails after GA4 took the request, so the relay cannot settle: it logs that
    and acknowledges (a retry could only send twice); a resend of the same events later is
    left to the claims the first message holds. Each event arrives once."""
    assert faulty.ingest is not None
    assert faulty.sink is not None
    client = new_client_id()
    events = granted_events(client, 5)
    faulty.sink.control(hold_next=1)
    assert post_batch(faulty.ingest.url, events) == 202
    wait_until(lambda: faulty.sink.control()["holding"] == 1, what="GA4 to hold the request")  # type: ignore[union-attr]
    firestore_proxy.fail("Commit")
    faulty.sink.control(release=True)
    wait_until(
        lambda: relay_log_records(faulty, LogMessage.DEDUP_NOT_RECORDED) != [],
        timeout=60,
        what="the relay to give up settling",
    )
    firestore_proxy.heal()
    assert sorted(wait_for_arrivals(faulty, client, 5).values()) == [1] * 5
    before = handled(faulty)
    assert post_batch(faulty.ingest.url, events) == 202  # the browser sends them again
    wait_until(lambda: handled(faulty) > before, timeout=60, what="the resend handled")
    assert relay_log_records(faulty, LogMessage.RELAY_MESSAGE)[-1]["in_flight"] == 5
    assert sorted(arrivals(faulty, client).values()) == [1] * 5


def test_a_lost_ga4_answer_adds_at_most_one_copy(faulty: EmulatorPipeline) -> None:
    """GA4 takes a request but its answer never comes: the relay times out and resends it
    once, which GA4 answers; each event arrives twice (the window stated in the README),
    and the message is done."""
    assert faulty.ingest is not None
    assert faulty.sink is not None
    client = new_client_id()
    faulty.sink.control(lose_next=1)
    before = handled(faulty)
    events = granted_events(client, 5)
    assert post_batch(faulty.ingest.url, events) == 202
    received = wait_for_arrivals(faulty, client, 10)
    wait_until(lambda: handled(faulty) > before, timeout=60, what="the message acknowledged")
    assert sorted(received.values()) == [2] * 5
    ids = sorted(e["event_id"] for e in events)
    attempts = {
        decided["ga4_attempts"]
        for record in relay_log_records(faulty, LogMessage.RELAY_MESSAGE)
        for decided in decisions_in(record)
        if decided["event_id"] in ids
    }
    assert attempts == {2}, "one resend after the lost answer, no more"


def test_relay_killed_mid_message_resends_only_what_ga4_may_have(
    faulty: EmulatorPipeline,
) -> None:
    """SIGKILL while GA4 holds the first of a message's two requests: after the restart the
    redelivery takes over its own claims at once; the 25 events GA4 had arrive twice (the
    crash window), the 5 it never got arrive once."""
    assert faulty.ingest is not None
    assert faulty.sink is not None
    assert faulty.relay is not None
    client = new_client_id()
    faulty.sink.control(hold_next=1)
    assert post_batch(faulty.ingest.url, granted_events(client, 30)) == 202
    wait_until(lambda: faulty.sink.control()["holding"] == 1, what="GA4 to hold the request")  # type: ignore[union-attr]
    [held] = [r for r in faulty.sink.records() if r.body["client_id"] == client]
    faulty.relay.kill()
    faulty.sink.control(release=True)
    before = handled(faulty)
    faulty.relay.start()
    received = wait_for_arrivals(faulty, client, 25 * 2 + 5)
    wait_until(lambda: handled(faulty) > before, timeout=60, what="the redelivery finished")
    in_held = {e["timestamp_micros"] for e in held.body["events"]}
    assert len(in_held) == 25
    assert {t: n for t, n in received.items() if t in in_held} == dict.fromkeys(in_held, 2)
    assert sorted(n for t, n in received.items() if t not in in_held) == [1] * 5
