"""The ingest entry point, in process through ``create_app``, publishing to the emulator."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from loyjoy_relay.devstack.event_factory import granted, now_ms

from tests.ingest.conftest import BOT, ORIGIN, make_batch, make_event
from tests.support.pubsub import pull_messages, pull_nothing


def post(
    client: Any, body: Any, *, origin: str | None = ORIGIN, content_type: str = "application/json"
) -> Any:
    headers = {"Origin": origin} if origin else {}
    data = body if isinstance(body, (bytes, str)) else json.dumps(body)
    return client.post("/", data=data, headers=headers, content_type=content_type)


def test_batch_is_published_with_attributes_and_no_ordering_key(
    client: Any, topic_and_subscription: tuple[str, str]
) -> None:
    """A valid batch answers 202 and lands as one message with its attributes, unordered."""
    _, subscription = topic_and_subscription
    events = [make_event(evt="open"), make_event(evt="start"), make_event(evt="end")]
    response = post(client, make_batch(*events))
    assert response.status_code == 202
    assert response.get_json() == {"accepted": 3, "rejected": []}
    [message] = pull_messages(subscription, 1)
    assert message.ordering_key == ""
    assert dict(message.attributes) == {"bot_ids": BOT, "schema_version": "2", "event_count": "3"}
    body = json.loads(message.data)
    assert [e["evt"] for e in body["events"]] == ["open", "start", "end"]
    assert [e["event_id"] for e in body["events"]] == [e["event_id"] for e in events]
    assert body["client_id"] == "1234567890.1700000000"
    assert all(e["received_at"] == body["received_at"] for e in body["events"])


def test_single_event_object_is_accepted(
    client: Any, topic_and_subscription: tuple[str, str]
) -> None:
    """A body that is one event (not a batch) is accepted as a batch of one."""
    _, subscription = topic_and_subscription
    response = post(client, make_event(evt="load"))
    assert response.status_code == 202
    [message] = pull_messages(subscription, 1)
    assert json.loads(message.data)["events"][0]["evt"] == "load"


def test_beacon_text_plain_is_accepted(
    client: Any, topic_and_subscription: tuple[str, str]
) -> None:
    """``text/plain`` holding JSON (what navigator.sendBeacon sends) is accepted."""
    _, subscription = topic_and_subscription
    response = post(client, make_batch(make_event()), content_type="text/plain;charset=UTF-8")
    assert response.status_code == 202
    assert len(pull_messages(subscription, 1)) == 1


def test_one_message_per_client(client: Any, topic_and_subscription: tuple[str, str]) -> None:
    """Events of two clients in one batch become two messages, one per client."""
    _, subscription = topic_and_subscription
    batch = make_batch(
        make_event(client_id="1.1"), make_event(client_id="2.2"), make_event(client_id="1.1")
    )
    assert post(client, batch).status_code == 202
    messages = pull_messages(subscription, 2)
    counts = {json.loads(m.data)["client_id"]: len(json.loads(m.data)["events"]) for m in messages}
    assert counts == {"1.1": 2, "2.2": 1}


def test_one_message_per_client_holds_all_its_bots(
    make_client: Any, topic_and_subscription: tuple[str, str]
) -> None:
    """A client's events of two bots travel in one message (schema version 2), each event
    keeping its bot and its consent stamp (with the event that made the decision)."""
    _, subscription = topic_and_subscription
    client = make_client(ALLOWED_BOT_IDS="")
    stamp = {"profiling": "denied", "at": now_ms() - 1000, "evt": "profiling_opt_out"}
    batch = make_batch(
        make_event(bot_id="bot-b", consent=stamp), make_event(bot_id="bot-a"), sent_at=now_ms()
    )
    assert post(client, batch).status_code == 202
    [message] = pull_messages(subscription, 1)
    body = json.loads(message.data)
    assert body["schema_version"] == 2
    assert "bot_id" not in body
    assert [e["bot_id"] for e in body["events"]] == ["bot-b", "bot-a"]
    assert body["events"][0]["consent"]["evt"] == "profiling_opt_out"
    assert message.attributes["bot_ids"] == "bot-a,bot-b"


def test_bad_event_is_rejected_and_good_ones_delivered(
    client: Any, topic_and_subscription: tuple[str, str]
) -> None:
    """One invalid event is reported by index; the valid events beside it are published."""
    _, subscription = topic_and_subscription
    batch = make_batch(make_event(), make_event(evt="not_a_loyjoy_event"), make_event(ts="soon"))
    response = post(client, batch)
    assert response.status_code == 202
    payload = response.get_json()
    assert payload["accepted"] == 1
    assert [r["index"] for r in payload["rejected"]] == [1, 2]
    assert "not a LoyJoy event name" in payload["rejected"][0]["reason"]
    assert payload["rejected"][1]["reason"].startswith("ts:")
    [message] = pull_messages(subscription, 1)
    assert message.attributes["event_count"] == "1"


def test_personal_fields_and_unknown_fields_never_reach_pubsub(
    client: Any, topic_and_subscription: tuple[str, str]
) -> None:
    """``email``, ``token`` and any field outside the contract are dropped at ingest."""
    _, subscription = topic_and_subscription
    event = make_event(email="ann@example.com", token="eyJhbGciOi.x.y", shoe_size=42)
    assert post(client, make_batch(event)).status_code == 202
    [message] = pull_messages(subscription, 1)
    assert b"ann@example.com" not in message.data
    assert b"eyJhbGciOi" not in message.data
    assert b"shoe_size" not in message.data


def test_clock_skew_is_corrected_and_original_kept(
    client: Any, topic_and_subscription: tuple[str, str]
) -> None:
    """A client clock 1 h behind: ``ts`` moves by the skew, ``client_ts`` keeps the original."""
    _, subscription = topic_and_subscription
    behind = int(time.time() * 1000) - 3_600_000
    event = make_event(ts=behind - 2000, consent=granted(behind - 9000))
    assert post(client, make_batch(event, sent_at=behind)).status_code == 202
    [message] = pull_messages(subscription, 1)
    relayed = json.loads(message.data)["events"][0]
    assert relayed["client_ts"] == behind - 2000
    assert relayed["received_at"] - relayed["ts"] == 2000
    assert relayed["received_at"] - relayed["consent"]["at"] == 9000


@pytest.mark.parametrize(
    ("body", "content_type", "status", "reason"),
    [
        ("{not json", "application/json", 400, "not valid JSON"),
        ("[1, 2]", "application/json", 400, "must be a JSON object"),
        ('{"events": []}', "application/json", 400, "non-empty array"),
        ('{"events": [{"evt": "open"}]}', "application/json", 400, "no valid event"),
        ('{"events": [1], "sent_at": "yesterday"}', "application/json", 400, "sent_at"),
        ('{"a": NaN}', "application/json", 400, "not valid JSON"),
        ("[" * 50 + "]" * 50, "application/json", 400, "nested deeper"),
        ("x" * (64 * 1024 + 1), "application/json", 413, "larger than"),
        ("{}", "application/xml", 415, "application/json"),
        ("{}", "multipart/form-data", 415, "application/json"),
    ],
)
def test_malformed_requests_get_a_4xx_with_a_reason(
    client: Any,
    topic_and_subscription: tuple[str, str],
    body: str,
    content_type: str,
    status: int,
    reason: str,
) -> None:
    """Each malformed request gets its 4xx, a reason, and nothing is published."""
    _, subscription = topic_and_subscription
    response = post(client, body, content_type=content_type)
    assert response.status_code == status
    assert reason in response.get_json()["error"]
    assert pull_nothing(subscription) == []


def test_too_many_events_is_413(client: Any) -> None:
    """A batch over the event limit is refused whole with 413."""
    response = post(client, {"events": [{}] * 201})
    assert response.status_code == 413
    assert "more than 200 events" in response.get_json()["error"]


def test_wrong_method_is_405(client: Any) -> None:
    """GET on the function root answers 405 with an Allow header."""
    response = client.get("/", headers={"Origin": ORIGIN})
    assert response.status_code == 405
    assert response.headers["Allow"] == "POST, OPTIONS"


def test_cors_preflight_for_allowed_origin(client: Any) -> None:
    """A preflight from an allowed origin gets 204 with CORS headers for that origin."""
    response = client.options(
        "/",
        headers={
            "Origin": ORIGIN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert response.status_code == 204
    assert response.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert "POST" in response.headers["Access-Control-Allow-Methods"]
    assert response.headers["Vary"] == "Origin"


def test_disallowed_origin_is_403_and_nothing_published(
    client: Any, topic_and_subscription: tuple[str, str]
) -> None:
    """A POST or preflight from an origin not in ALLOWED_ORIGINS is refused; nothing published."""
    _, subscription = topic_and_subscription
    evil = "https://evil.example.net"
    assert client.options("/", headers={"Origin": evil}).status_code == 403
    response = post(client, make_batch(make_event()), origin=evil)
    assert response.status_code == 403
    assert "Access-Control-Allow-Origin" not in response.headers
    assert pull_nothing(subscription) == []


def test_empty_allowed_origins_refuses_every_cross_origin_call(make_client: Any) -> None:
    """With ALLOWED_ORIGINS empty, any Origin is refused but a same-origin call is served."""
    client = make_client(ALLOWED_ORIGINS="")
    assert post(client, make_batch(make_event())).status_code == 403
    assert post(client, make_batch(make_event()), origin=None).status_code == 202


def test_wildcard_origin_when_configured(make_client: Any) -> None:
    """ALLOWED_ORIGINS=* admits any origin."""
    client = make_client(ALLOWED_ORIGINS="*")
    response = post(client, make_batch(make_event()), origin="https://any.example.org")
    assert response.status_code == 202
    assert response.headers["Access-Control-Allow-Origin"] == "https://any.example.org"


def test_event_from_disallowed_bot_is_rejected_beside_allowed_ones(client: Any) -> None:
    """An event of another bot is rejected by index while the allowed bot's event is accepted."""
    response = post(client, make_batch(make_event(), make_event(bot_id="someone-else")))
    assert response.status_code == 202
    assert response.get_json()["rejected"] == [
        {"index": 1, "reason": "bot_id: this bot is not allowed"}
    ]


def test_request_with_no_allowed_bot_is_403(
    client: Any, topic_and_subscription: tuple[str, str]
) -> None:
    """A request none of whose events is from an allowed bot answers 403."""
    _, subscription = topic_and_subscription
    response = post(client, make_batch(make_event(bot_id="other-1"), make_event(bot_id="other-2")))
    assert response.status_code == 403
    assert pull_nothing(subscription) == []


def test_any_bot_when_allowed_bot_ids_is_empty(make_client: Any) -> None:
    """With ALLOWED_BOT_IDS empty, every bot is accepted."""
    client = make_client(ALLOWED_BOT_IDS="")
    assert post(client, make_batch(make_event(bot_id="whatever"))).status_code == 202


def test_custom_event_names_are_allowed_by_configuration(make_client: Any) -> None:
    """A site's own event name is accepted only when CUSTOM_EVENT_NAMES lists it."""
    event = make_event(evt="openlink", url="https://shop.example.com/sale")
    assert post(make_client(), make_batch(event)).status_code == 400
    client = make_client(CUSTOM_EVENT_NAMES="openlink, message_received")
    assert post(client, make_batch(make_event(evt="openlink"))).status_code == 202


@pytest.mark.parametrize(
    ("offset_ms", "reason"),
    [(10 * 60 * 1000, "more than 5 minutes after"), (-8 * 24 * 3600 * 1000, "more than 7 days")],
)
def test_absurd_event_times_are_rejected(client: Any, offset_ms: int, reason: str) -> None:
    """An event time far from the batch's send time is rejected with the reason."""
    now = int(time.time() * 1000)
    response = post(client, make_batch(make_event(), make_event(ts=now + offset_ms), sent_at=now))
    assert response.status_code == 202
    assert reason in response.get_json()["rejected"][0]["reason"]


def test_bad_configuration_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    """A malformed ALLOWED_ORIGINS fails at start with a message naming it."""
    from loyjoy_relay.config import IngestSettings
    from loyjoy_relay.errors import ConfigError

    with pytest.raises(ConfigError, match="ALLOWED_ORIGINS"):
        IngestSettings.from_env(
            {"GOOGLE_CLOUD_PROJECT": "p", "ALLOWED_ORIGINS": "shop.example.com"}
        )
    with pytest.raises(ConfigError, match="GOOGLE_CLOUD_PROJECT"):
        IngestSettings.from_env({})
    with pytest.raises(ConfigError, match="RELAY_TOPIC"):
        IngestSettings.from_env({"GOOGLE_CLOUD_PROJECT": "p", "RELAY_TOPIC": "goog-x"})


def test_request_log_line_is_structured_and_has_no_personal_data(
    client: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    """Ingest logs one JSON line per request with counts and no identifiers or e-mails."""
    capsys.readouterr()
    post(
        client,
        make_batch(make_event(user_id="u-777", email="ann@example.com"), make_event(evt="x")),
    )
    lines = [
        json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")
    ]
    [record] = [line for line in lines if line.get("message") == "ingest request"]
    assert record["severity"] == "INFO"
    assert record["accepted"] == 1
    assert record["rejected"] == 1
    assert record["reject_reasons"] == "evt"
    text = json.dumps(record)
    assert "1234567890" not in text
    assert "ann@example.com" not in text
    assert "u-777" not in text
