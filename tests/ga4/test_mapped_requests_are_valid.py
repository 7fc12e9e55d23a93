"""Invariant: whatever LoyJoy sends, mapped and batched requests pass GA4's strict rules."""

from __future__ import annotations

import uuid

from hypothesis import given, settings
from hypothesis import strategies as st
from loyjoy_relay.adapters.mapping_file import load_mapping
from loyjoy_relay.config import shipped_file
from loyjoy_relay.core.catalogue import CATALOGUE
from loyjoy_relay.core.events import LoyJoyEvent
from loyjoy_relay.core.ga4.model import Ga4Identity
from loyjoy_relay.core.ga4.requests import build_requests
from loyjoy_relay.core.ga4.validation.body import validate_payload
from loyjoy_relay.core.planner import SENDABLE_AGE_MS

from tests.ga4.conftest import NOW_MS

MAPPING = load_mapping(shipped_file("ga4-mapping.yaml"))
text = st.text(min_size=1, max_size=512)
long_text = st.text(min_size=1, max_size=2048)


@st.composite
def loyjoy_events(draw: st.DrawFn) -> LoyJoyEvent:
    optional = {
        "process_id": text,
        "process_name": text,
        "sub_process_name": text,
        "label": text,
        "url": long_text,
        "page_location": long_text,
        "page_title": text,
        "page_referrer": long_text,
        "language": st.text(min_size=1, max_size=35),
        "session_id": st.from_regex(r"\A[0-9]{1,12}\Z") | st.text(min_size=1, max_size=64),
    }
    fields = {name: draw(st.none() | strategy) for name, strategy in optional.items()}
    return LoyJoyEvent.model_validate(
        {
            "evt": draw(st.sampled_from(sorted(CATALOGUE))),
            "bot_id": draw(st.text(min_size=1, max_size=128)),
            "client_id": "1234567890.1700000000",
            "event_id": str(uuid.UUID(int=draw(st.integers(0, 2**128 - 1)), version=4)),
            "ts": NOW_MS - draw(st.integers(0, SENDABLE_AGE_MS)),
            **{name: value for name, value in fields.items() if value is not None},
        }
    )


@settings(max_examples=40, deadline=None)
@given(st.lists(loyjoy_events(), min_size=1, max_size=60))
def test_mapped_and_batched_events_always_validate(events: list[LoyJoyEvent]) -> None:
    """Any catalogue events with any field values map to requests GA4 accepts strictly."""
    mapped = [MAPPING.map_event(event) for event in events]
    requests, refused = build_requests(Ga4Identity(client_id="1234567890.1700000000"), mapped)
    assert refused == []
    for request in requests:
        messages = validate_payload(
            request.payload, now_micros=NOW_MS * 1000, behavior="ENFORCE_RECOMMENDATIONS"
        )
        assert messages == []
