"""Golden pair: LoyJoy events in (JSON Lines), the MP body out, with the shipped mapping."""

from __future__ import annotations

import json
from pathlib import Path

from loyjoy_relay.adapters.mapping_file import load_mapping
from loyjoy_relay.config import shipped_file
from loyjoy_relay.core.events import LoyJoyEvent
from loyjoy_relay.core.ga4.model import Ga4Identity
from loyjoy_relay.core.ga4.requests import build_requests
from loyjoy_relay.core.ga4.validation.body import validate_payload

from tests.ga4.conftest import NOW_MS

GOLDEN = Path(__file__).parent / "golden"


def test_chat_events_become_the_golden_mp_body() -> None:
    """The shipped mapping turns the sample chat into exactly the recorded MP body."""
    mapping = load_mapping(shipped_file("ga4-mapping.yaml"))
    lines = (GOLDEN / "chat.jsonl").read_text().splitlines()
    events = [LoyJoyEvent.model_validate_json(line) for line in lines]
    identity = Ga4Identity(client_id=events[0].client_id, ad_user_data="GRANTED")
    requests, _ = build_requests(identity, [mapping.map_event(e) for e in events])
    bodies = [request.payload for request in requests]
    expected = json.loads((GOLDEN / "chat.mp.json").read_text())
    assert bodies == expected
    assert (
        validate_payload(bodies[0], now_micros=NOW_MS * 1000, behavior="ENFORCE_RECOMMENDATIONS")
        == []
    )
