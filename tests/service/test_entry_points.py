"""Both entry points in process through functions-framework's ``create_app``, golden JSON.

The functions' own ``main.py`` files are loaded by functions-framework as in production;
only their wiring is swapped for the shipped fakes (a recording publisher, in-memory
client ledger, a recording GA4 transport, fixed clock and ids), so the exact message
published and the exact MP bodies sent can be compared with the golden files.
"""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path
from typing import Any

import pytest
from functions_framework import create_app
from loyjoy_relay.adapters.fakes import (
    RecordingGa4Transport,
    RecordingPublisher,
)
from loyjoy_relay.adapters.logs import JsonLogger
from loyjoy_relay.config import IngestSettings
from loyjoy_relay.core.ga4.routing import Ga4Property, SecretRef
from loyjoy_relay.devstack.fake_relay import fake_relay, shipped_planner
from loyjoy_relay.service import ingest, wiring
from loyjoy_relay.service.ingest import IngestService
from loyjoy_relay.service.relay import RelayService

from tests.support.processes import ROOT

GOLDEN = Path(__file__).parent / "golden"
NOW = 1_732_450_010_000  # the golden events happened in the ten seconds before
# An iPhone's Safari behind the optional load balancer, which adds the client's country and
# subdivision; the message carries only what ingest derives from them.
USER_AGENT = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_6 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.6 Mobile/15E148 Safari/604.1"
)
GEO_HEADERS = {"X-Client-Geo-Country": "DE", "X-Client-Geo-Region": "DEBY"}


def golden(name: str) -> Any:
    return json.loads((GOLDEN / name).read_text())


def test_ingest_publishes_the_golden_message(monkeypatch: pytest.MonkeyPatch) -> None:
    """A listener's POST in; the exact Pub/Sub message (data and attributes) out."""
    publisher = RecordingPublisher()
    settings = IngestSettings.from_env(
        {
            "GOOGLE_CLOUD_PROJECT": "p",
            "ALLOWED_ORIGINS": "https://shop.example.com",
            "GEO_COUNTRY_HEADER": "X-Client-Geo-Country",
            "GEO_REGION_HEADER": "X-Client-Geo-Region",
        }
    )
    service = IngestService(settings, publisher, JsonLogger("ingest", io.StringIO()), lambda: NOW)
    monkeypatch.setattr(ingest, "create_service", lambda: service)
    app = create_app("ingest", str(ROOT / "functions" / "ingest" / "main.py"), "http")
    response = app.test_client().post(
        "/",
        data=(GOLDEN / "ingest.request.json").read_bytes(),
        headers={
            "Origin": "https://shop.example.com",
            "Content-Type": "text/plain",
            "User-Agent": USER_AGENT,
            "X-Forwarded-For": "203.0.113.77",
            **GEO_HEADERS,
        },
    )
    assert response.status_code == 202, response.get_data(as_text=True)
    assert response.get_json() == golden("ingest.response.json")
    published = [
        {"data": json.loads(m.data), "attributes": m.attributes} for m in publisher.messages
    ]
    assert published == golden("ingest.published.json")
    assert all(
        b"203.0.113.77" not in m.data and b"iPhone OS" not in m.data for m in publisher.messages
    )


def relay_with_fakes(transport: RecordingGa4Transport) -> RelayService:
    golden_property = Ga4Property("G-GOLDEN123", SecretRef("value", "golden-secret"))
    planner = shipped_planner(default_property=golden_property)
    return fake_relay(planner, transport=transport, clock_ms=lambda: NOW).service


def test_relay_sends_the_golden_mp_bodies(monkeypatch: pytest.MonkeyPatch) -> None:
    """A ``messagePublished`` CloudEvent in; the exact MP bodies the GA4 endpoint got out."""
    transport = RecordingGa4Transport()
    monkeypatch.setattr(wiring, "create_relay_service", lambda: relay_with_fakes(transport))
    app = create_app("relay", str(ROOT / "functions" / "relay" / "main.py"), "cloudevent")
    cloud_event = golden("relay.cloudevent.json")
    response = app.test_client().post(
        "/", json=cloud_event, headers={"Content-Type": "application/cloudevents+json"}
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    assert [json.loads(body) for body in transport.bodies()] == golden("relay.mp.json")
    assert all("api_secret=golden-secret" in r.url for r in transport.requests)


def test_the_golden_cloudevent_carries_the_golden_ingest_message() -> None:
    """The relay's golden input is the message ingest's golden output published."""
    published = golden("ingest.published.json")
    data = json.loads(base64.b64decode(golden("relay.cloudevent.json")["data"]["message"]["data"]))
    assert data == published[0]["data"]
