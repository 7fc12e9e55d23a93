"""End to end on real parts: ingest → Pub/Sub emulator push → relay → Firestore → GA4 stand-in."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter

from loyjoy_relay.devstack.event_factory import granted
from loyjoy_relay.devstack.pipeline import EmulatorPipeline
from loyjoy_relay.service.audit import decisions_in

from tests.e2e.conftest import (
    count_by_name,
    post_batch,
    relay_log_records,
    sent_events,
    wait_for_events,
)
from tests.e2e.events import event, new_client_id, now_ms
from tests.support.net import wait_until
from tests.support.pubsub import pull_messages

SENDER_ATTEMPTS = 4  # Ga4Sender's default RetryPolicy.attempts


def publish(pipeline: EmulatorPipeline, data: bytes) -> None:
    """Publish raw bytes to the pipeline's topic, as ingest would (no ordering key)."""
    from google.cloud import pubsub_v1

    publisher = pubsub_v1.PublisherClient()
    topic = publisher.topic_path(pipeline.options.project, pipeline.options.topic)
    publisher.publish(topic, data).result(timeout=30)


def client_batch(events: list[dict[str, object]]) -> bytes:
    """A Pub/Sub message body as ingest publishes it."""
    first = events[0]
    return json.dumps(
        {
            "schema_version": 1,
            "client_id": first["client_id"],
            "bot_id": first["bot_id"],
            "received_at": now_ms(),
            "events": [{**e, "client_ts": e["ts"], "received_at": now_ms()} for e in events],
        }
    ).encode()


def test_events_reach_ga4_with_the_shipped_consent_rules(pipeline: EmulatorPipeline) -> None:
    """Anonymous-always events go anonymized, granted ones forwarded, denied ones dropped."""
    assert pipeline.ingest is not None
    client, other, t = new_client_id(), new_client_id(), now_ms() - 60_000
    batch = [
        event("load", client, t),
        event("start", client, t + 1000),  # before any decision: default denied → drop
        event("profiling_single_opt_in", client, t + 2000),
        event("interaction", client, t + 3000, user_id="member-42"),  # granted → forward
        event("profiling_opt_out", client, t + 4000),
        event("end", client, t + 5000),  # revoked → drop
    ]
    assert post_batch(pipeline.ingest.url, batch) == 202
    assert post_batch(pipeline.ingest.url, [event("start", other, t)]) == 202
    received = wait_for_events(pipeline, 3)
    names = count_by_name(received)
    assert names == Counter({"load": 1, "profiling_single_opt_in": 1, "interaction": 1})
    forwarded = [e for e in received if e["client_id"] == client]
    assert {e["name"] for e in forwarded} == {"profiling_single_opt_in", "interaction"}
    interaction = next(e for e in received if e["name"] == "interaction")
    assert interaction["user_id"] == "member-42"
    assert interaction["params"]["session_id"]
    load = next(e for e in received if e["name"] == "load")
    assert load["client_id"] != client
    assert load["user_id"] is None
    assert "session_id" not in load["params"]
    assert load["consent"] == {"ad_user_data": "DENIED", "ad_personalization": "DENIED"}
    wait_until(lambda: len(relay_log_records(pipeline, "relay message")) >= 2, timeout=30)
    decisions = Counter(
        decided["decision"]
        for record in relay_log_records(pipeline, "relay message")
        for decided in decisions_in(record)
    )
    assert decisions["drop"] >= 3


def test_same_message_three_times_reaches_ga4_once(pipeline: EmulatorPipeline) -> None:
    """A message delivered three times: each of its events reaches GA4 exactly once."""
    client, t = new_client_id(), now_ms() - 30_000
    stamp = granted(t - 1000)
    events = [event("start", client, t + i, consent=stamp) for i in range(3)]
    data = client_batch(events)
    before = len(relay_log_records(pipeline, "relay message"))
    for _ in range(3):
        publish(pipeline, data)
    wait_until(
        lambda: len(relay_log_records(pipeline, "relay message")) >= before + 3,
        timeout=60,
        what="three deliveries handled",
    )
    mine = [e for e in sent_events(pipeline) if e["client_id"] == client]
    assert len(mine) == 3
    # Each later delivery found the events sent (duplicates) or still being sent by the
    # first (in flight), never sent them again.
    later = relay_log_records(pipeline, "relay message")[before:]
    assert sum(r["duplicates"] + r["in_flight"] for r in later) == 6


def test_ga4_outage_is_retried_and_nothing_lost_or_doubled(pipeline: EmulatorPipeline) -> None:
    """GA4 answers 503 for a while: the relay fails, Pub/Sub redelivers, each event arrives once."""
    assert pipeline.sink is not None
    assert pipeline.ingest is not None
    client, t = new_client_id(), now_ms() - 10_000
    stamp = granted(t - 1000)
    pipeline.sink.control(fail_next=6, status=503)
    events = [event("start", client, t + i, consent=stamp) for i in range(30)]
    assert post_batch(pipeline.ingest.url, events) == 202
    received = wait_for_events(pipeline, 30, timeout=90)
    mine = [e for e in received if e["client_id"] == client]
    assert len(mine) == 30
    assert len({e["timestamp_micros"] for e in mine}) == 30
    assert pipeline.sink.control()["fail_next"] == 0  # all six failures were served


def test_poison_message_is_dead_lettered_and_does_not_block(pipeline: EmulatorPipeline) -> None:
    """An undecodable message lands on the dead-letter topic with its reason; later ones flow."""
    from google.cloud import pubsub_v1

    assert pipeline.ingest is not None
    subscriber = pubsub_v1.SubscriberClient()
    replay = subscriber.subscription_path(pipeline.options.project, pipeline.replay_subscription)
    publish(pipeline, b"\x00 this is not a client batch")
    client, t = new_client_id(), now_ms()
    stamp = granted(t - 1000)
    assert post_batch(pipeline.ingest.url, [event("start", client, t, consent=stamp)]) == 202
    wait_for_events(pipeline, 1)
    [dead] = pull_messages(replay, 1)
    assert dead.data == b"\x00 this is not a client batch"
    assert "not a client batch" in dead.attributes["reason"]


def test_dead_lettered_after_retries_is_delivered_once_by_replay(
    pipeline: EmulatorPipeline,
) -> None:
    """GA4 down past the retry limit: the message is dead-lettered; replay delivers it once."""
    assert pipeline.sink is not None
    assert pipeline.ingest is not None
    client, t = new_client_id(), now_ms() - 5_000
    stamp = granted(t - 1000)
    attempts = pipeline.options.max_delivery_attempts * SENDER_ATTEMPTS
    pipeline.sink.control(fail_next=attempts, status=503)
    events = [event("start", client, t + i, consent=stamp) for i in range(4)]
    assert post_batch(pipeline.ingest.url, events) == 202
    dry_runs: list[dict[str, object]] = []

    def dead_lettered() -> bool:
        dry = run_cli(pipeline, "replay", "--dry-run")
        dry_runs.append(json.loads(dry.stdout))
        return int(dry_runs[-1]["found"]) >= 1  # type: ignore[call-overload]

    try:
        wait_until(dead_lettered, timeout=120, interval=1, what="the message to be dead-lettered")
    except TimeoutError:
        raise AssertionError(
            f"{pipeline.sink.control()} {dry_runs[-3:]}\n{pipeline.relay.log_text()[-5000:]}"  # type: ignore[union-attr]
        ) from None
    assert pipeline.sink.control()["fail_next"] == 0
    assert "delivery attempts exhausted" in json.dumps(dry_runs[-1]["reasons"])
    assert sent_events(pipeline) == []
    replay = run_cli(pipeline, "replay")
    assert replay.returncode == 0, replay.stderr
    assert json.loads(replay.stdout)["replayed"] >= 1
    received = wait_for_events(pipeline, 4, timeout=60)
    mine = [e for e in received if e["client_id"] == client]
    assert len(mine) == 4


def test_burst_of_2000_events_from_200_clients_arrives_complete(
    pipeline: EmulatorPipeline,
) -> None:
    """2,000 events from 200 clients: every client's 10 events arrive, none lost, none twice."""
    from concurrent.futures import ThreadPoolExecutor

    assert pipeline.ingest is not None
    url = pipeline.ingest.url
    t = now_ms() - 20_000
    clients = [new_client_id() for _ in range(200)]
    stamp = granted(t - 1000)
    batches = [[event("start", c, t + i, consent=stamp) for i in range(10)] for c in clients]
    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(lambda b: post_batch(url, b), batches))
    assert statuses == [202] * 200
    received = wait_for_events(pipeline, 2000, timeout=180)
    per_client = Counter(e["client_id"] for e in received)
    assert len(received) == 2000
    assert all(per_client[c] == 10 for c in clients)


def run_cli(pipeline: EmulatorPipeline, *args: str) -> subprocess.CompletedProcess[str]:
    """Run ``loyjoy-relay`` against the pipeline's emulators."""
    env = {k: v for k, v in os.environ.items() if not k.endswith("_EMULATOR_HOST")}
    return subprocess.run(
        [sys.executable, "-m", "loyjoy_relay.cli.main", *args],
        env={**env, **pipeline.env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
