"""End to end with derived context: ingest behind a (simulated) load balancer → Pub/Sub →
relay → GA4 stand-in. GA4 gets ``user_location`` and ``device`` on forwarded and
anonymized events, never the raw address or user agent; a site banner's denial holds."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from loyjoy_relay.devstack.emulators import Emulator
from loyjoy_relay.devstack.pipeline import EmulatorPipeline
from loyjoy_relay.service.audit import decisions_in

from tests.e2e.conftest import relay_log_records, start_pipeline, wait_for_events
from tests.e2e.events import event, new_client_id, now_ms
from tests.support.pubsub import pull_messages

pytestmark = [pytest.mark.e2e, pytest.mark.emulator]

USER_AGENT = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_6 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.6 Mobile/15E148 Safari/604.1 Probe/5c2e"
)
# Pieces of the request that must never leave ingest in any form.
RAW = ("198.51.100.23", "Probe/5c2e", "AppleWebKit", "iPhone OS 17_6", "15E148")
GEO = {"X-Client-Geo-Country": "DE", "X-Client-Geo-Region": "DEBY"}


@pytest.fixture(scope="module")
def pipeline(pubsub_emulator: Emulator, firestore_emulator: Emulator) -> Iterator[EmulatorPipeline]:
    """A pipeline whose ingest reads the load balancer's geo headers, with a tap on its topic."""
    started = start_pipeline(
        pubsub_emulator,
        firestore_emulator,
        tap_subscription=True,
        ingest_env={
            "GEO_COUNTRY_HEADER": "X-Client-Geo-Country",
            "GEO_REGION_HEADER": "X-Client-Geo-Region",
        },
    )
    yield started
    started.stop()


def post(url: str, events: list[dict[str, Any]]) -> int:
    body = json.dumps({"sent_at": max(e["ts"] for e in events), "events": events}).encode()
    headers = {
        "Content-Type": "text/plain",
        "User-Agent": USER_AGENT,
        "X-Forwarded-For": RAW[0],
        **GEO,
    }
    request = urllib.request.Request(url, data=body, headers=headers)
    with urllib.request.urlopen(request, timeout=30) as response:
        return int(response.status)


def test_ga4_gets_coarse_context_never_the_raw_request_and_the_banner_holds(
    pipeline: EmulatorPipeline,
) -> None:
    """Forwarded events carry the region and the whole device, anonymized ones the country
    and the category; an event the page's banner denies analytics for is not sent and one
    it denies ad_user_data for goes with that signal denied; neither the address nor the
    user agent is in the published message, a log line or a body GA4 received."""
    assert pipeline.ingest is not None
    assert pipeline.relay is not None
    assert pipeline.sink is not None
    client, t = new_client_id(), now_ms() - 30_000
    banner = {"source": "consent_mode", "analytics_storage": "granted", "ad_user_data": "granted"}
    page = {"time_zone": "America/New_York", "screen_resolution": "390x844", "language": "de-DE"}
    events = [
        event("open", client, t, process_id="p-open", **page),
        event("profiling_single_opt_in", client, t + 1000, process_id="p-opt-in", **page),
        event("interaction", client, t + 2000, process_id="p-granted", site_consent=banner, **page),
        event(
            "interaction",
            client,
            t + 3000,
            process_id="p-denied",
            site_consent={**banner, "analytics_storage": "denied"},
            **page,
        ),
        event(
            "interaction",
            client,
            t + 4000,
            process_id="p-no-ads",
            site_consent={**banner, "ad_user_data": "denied"},
            **page,
        ),
    ]
    assert post(pipeline.ingest.url, events) == 202
    wait_for_events(pipeline, 4)
    bodies = [r.body for r in pipeline.sink.records() if r.path == "/mp/collect"]
    by_process = {e["params"]["process_id"]: body for body in bodies for e in body["events"]}
    assert set(by_process) == {"p-open", "p-opt-in", "p-granted", "p-no-ads"}

    anonymized = by_process["p-open"]
    assert anonymized["client_id"] != client
    assert anonymized["user_location"] == {
        "country_id": "DE",
        "subcontinent_id": "155",
        "continent_id": "150",
    }
    assert anonymized["device"] == {"category": "mobile"}

    forwarded = by_process["p-granted"]
    assert forwarded["client_id"] == client
    assert forwarded["user_location"]["region_id"] == "DE-BY"  # the load balancer beats the zone
    assert forwarded["device"] == {
        "category": "mobile",
        "language": "de-DE",
        "screen_resolution": "390x844",
        "operating_system": "iOS",
        "operating_system_version": "17",
        "browser": "Safari",
        "browser_version": "17",
    }
    assert forwarded["consent"]["ad_user_data"] == "GRANTED"
    assert by_process["p-no-ads"]["consent"]["ad_user_data"] == "DENIED"

    decisions = {
        decided["event_id"]: decided
        for record in relay_log_records(pipeline, "relay message")
        for decided in decisions_in(record)
    }
    denied = decisions[events[3]["event_id"]]
    assert (denied["decision"], denied["rule"]) == ("drop", "site")
    assert "the site's banner (consent mode) denies analytics_storage" in denied["reason"]

    tap = f"projects/{pipeline.options.project}/subscriptions/{pipeline.options.topic}-tap"
    [message] = pull_messages(tap, 1)
    texts = [
        message.data.decode(),
        json.dumps(dict(message.attributes)),
        pipeline.ingest.log_text(),
        pipeline.relay.log_text(),
        json.dumps(bodies),
    ]
    for text in texts:
        for raw in RAW:
            assert raw not in text
