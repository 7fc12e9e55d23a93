"""The ingest function as a real functions-framework process over HTTP, with the emulator."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import PROJECT
from tests.ingest.conftest import BOT, ORIGIN, make_batch, make_event
from tests.support.emulators import Emulator
from tests.support.processes import ServerProcess, function_process
from tests.support.pubsub import pull_messages


def http_post(url: str, body: Any, content_type: str = "application/json") -> tuple[int, Any]:
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={"Content-Type": content_type, "Origin": ORIGIN},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


@pytest.fixture
def ingest_process(
    pubsub_emulator: Emulator, topic_and_subscription: tuple[str, str]
) -> Iterator[ServerProcess]:
    """``functions-framework --target ingest`` publishing to a fresh emulator topic."""
    topic, _ = topic_and_subscription
    process = function_process(
        "ingest",
        {
            "GOOGLE_CLOUD_PROJECT": PROJECT,
            "RELAY_TOPIC": topic,
            "ALLOWED_ORIGINS": ORIGIN,
            "ALLOWED_BOT_IDS": BOT,
            "PUBSUB_EMULATOR_HOST": pubsub_emulator.host,
        },
    ).start()
    yield process
    process.stop()


def test_batch_over_real_http_reaches_pubsub(
    ingest_process: ServerProcess, topic_and_subscription: tuple[str, str]
) -> None:
    """A POST to the running function answers 202 and the batch can be pulled from Pub/Sub."""
    _, subscription = topic_and_subscription
    status, body = http_post(ingest_process.url, make_batch(make_event(), make_event(evt="start")))
    assert (status, body) == (202, {"accepted": 2, "rejected": []})
    [message] = pull_messages(subscription, 1)
    assert [e["evt"] for e in json.loads(message.data)["events"]] == ["open", "start"]


def test_listener_script_is_served_cacheable(ingest_process: ServerProcess) -> None:
    """GET /listener.js answers the script with a JavaScript content type and a cache lifetime."""
    with urllib.request.urlopen(ingest_process.url + "/listener.js", timeout=10) as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/javascript")
        assert "max-age=" in response.headers["Cache-Control"]
        assert b"LoyJoyRelay" in response.read()


def test_publish_failure_answers_503_and_recovers(monkeypatch: pytest.MonkeyPatch) -> None:
    """With Pub/Sub down, ingest answers 503 (retry); once it is back, the same POST is a 202."""
    from tests.support.emulators import start_emulator

    emulator = start_emulator("pubsub")
    try:
        from google.cloud import pubsub_v1

        monkeypatch.setenv("PUBSUB_EMULATOR_HOST", emulator.host)
        process = function_process(
            "ingest",
            {
                "GOOGLE_CLOUD_PROJECT": PROJECT,
                "RELAY_TOPIC": "outage-topic",
                "ALLOWED_ORIGINS": ORIGIN,
                "PUBSUB_EMULATOR_HOST": emulator.host,
            },
        ).start()
        try:
            publisher = pubsub_v1.PublisherClient()
            publisher.create_topic(name=publisher.topic_path(PROJECT, "outage-topic"))
            batch = make_batch(make_event())
            assert http_post(process.url, batch)[0] == 202
            emulator.stop()
            status, body = http_post(process.url, batch)
            assert status == 503
            assert "Pub/Sub did not accept" in body["error"]
            emulator.start()
            publisher.create_topic(name=publisher.topic_path(PROJECT, "outage-topic"))
            assert http_post(process.url, batch)[0] == 202
        finally:
            process.stop()
    finally:
        emulator.stop()
