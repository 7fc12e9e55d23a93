"""Ingest derives coarse context from the request and publishes only that: with and without
a load balancer's geo headers; never the raw IP address or user agent."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.ingest.conftest import ORIGIN, make_batch, make_event
from tests.support.pubsub import pull_messages

pytestmark = pytest.mark.emulator

# A distinctive agent: any of its words in a message or log line would be a leak.
USER_AGENT = (
    "Mozilla/5.0 (Linux; Android 14; Tablet; rv:133.0) Gecko/133.0 Firefox/133.0 Probe/7f3a9c1e"
)
ADDRESS = "203.0.113.77"
LB = {"GEO_COUNTRY_HEADER": "X-Client-Geo-Country", "GEO_REGION_HEADER": "X-Client-Geo-Region"}


def post(client: Any, headers: dict[str, str], **event: Any) -> Any:
    body = json.dumps(make_batch(make_event(**event)))
    request_headers = {
        "Origin": ORIGIN,
        "User-Agent": USER_AGENT,
        "X-Forwarded-For": ADDRESS,
        **headers,
    }
    return client.post("/", data=body, headers=request_headers, content_type="text/plain")


def test_behind_the_load_balancer_the_message_carries_country_region_and_device(
    make_client: Any, topic_and_subscription: tuple[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    """With the geo headers configured, the message holds the country, the ISO subdivision
    and the device; neither the address nor the agent is in the message or the log line."""
    _, subscription = topic_and_subscription
    client = make_client(**LB)
    capsys.readouterr()
    geo = {"X-Client-Geo-Country": "AT", "X-Client-Geo-Region": "AT9"}
    response = post(client, geo, time_zone="Europe/Berlin", screen_resolution="1280x800")
    assert response.status_code == 202
    [message] = pull_messages(subscription, 1)
    body = json.loads(message.data)
    assert body["context"] == {
        "device": {
            "category": "tablet",
            "operating_system": "Android",
            "operating_system_version": "14",
            "browser": "Firefox",
            "browser_version": "133",
        },
        "location": {"country_id": "AT", "region_id": "AT-9"},
    }
    assert body["events"][0]["time_zone"] == "Europe/Berlin"
    assert body["events"][0]["screen_resolution"] == "1280x800"
    logged = capsys.readouterr().out
    for text in (message.data.decode(), logged, json.dumps(dict(message.attributes))):
        assert ADDRESS not in text
        assert "Probe" not in text
        assert "Gecko" not in text
        assert "rv:133" not in text


def test_without_a_load_balancer_geo_headers_are_not_trusted(
    client: Any, topic_and_subscription: tuple[str, str]
) -> None:
    """Unconfigured, a client's own geo headers are ignored: the message has the device
    only, and the relay falls back to the events' time zones."""
    _, subscription = topic_and_subscription
    response = post(client, {"X-Client-Geo-Country": "US", "X-Client-Geo-Region": "USCA"})
    assert response.status_code == 202
    [message] = pull_messages(subscription, 1)
    context = json.loads(message.data)["context"]
    assert "location" not in context
    assert context["device"]["category"] == "tablet"


def test_the_new_event_fields_are_checked(client: Any) -> None:
    """A time zone, screen or site consent that is not of the contract's shape is refused
    with the field named; the listener never sends one."""
    for field, value in [
        ("time_zone", "Europe/Berlin; DROP"),
        ("screen_resolution", "wide"),
        ("site_consent", {"analytics_storage": "maybe", "source": "consent_mode"}),
        ("site_consent", {"analytics_storage": "denied"}),
    ]:
        response = post(client, {}, **{field: value})
        assert response.status_code == 400, (field, value)
        [rejection] = response.get_json()["rejected"]
        assert rejection["reason"].startswith(field)
