"""Invariant: the mapping never produces what strict validation refuses.

Whatever LoyJoy sends (every catalogue event, any values in its optional fields), mapped
with the shipped file, gives events GA4 accepts under ENFORCE_RECOMMENDATIONS without even
a warning; planned by the planner (consent, privacy transforms, batching, strict
validation) it gives bodies without an error, and nothing is set aside for a validation
reason. (Warnings about request-level context, e.g. a location without a region, would
not refuse anything, so the planner-level checks look at errors.) A mapping that would
send one of GA4's recommended events without a parameter that event requires does not
load.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from loyjoy_relay.adapters.fakes import SequentialClientIds
from loyjoy_relay.adapters.mapping_file import load_mapping, parse_mapping
from loyjoy_relay.adapters.rules_file import load_rules, parse_rules
from loyjoy_relay.config import shipped_file
from loyjoy_relay.core.catalogue import CATALOGUE
from loyjoy_relay.core.consent.rules import ConsentRules
from loyjoy_relay.core.events import LoyJoyEvent
from loyjoy_relay.core.ga4.mapping import Ga4Mapping
from loyjoy_relay.core.ga4.model import Ga4Identity
from loyjoy_relay.core.ga4.recommended import RECOMMENDED_EVENTS
from loyjoy_relay.core.ga4.requests import build_requests
from loyjoy_relay.core.ga4.routing import Ga4Property, SecretRef
from loyjoy_relay.core.ga4.validation.body import validate_body, validate_payload
from loyjoy_relay.core.planner import SENDABLE_AGE_MS, Plan, Planner
from loyjoy_relay.devstack.event_factory import granted
from loyjoy_relay.errors import ConfigError

from tests.ga4.conftest import NOW_MS

MAPPING = load_mapping(shipped_file("ga4-mapping.yaml"))
RULES = load_rules(shipped_file("consent-rules.yaml"))
PROPERTY = Ga4Property("G-TEST12345", SecretRef("value", "s"))
CLIENT = "1234567890.1700000000"
text = st.text(min_size=1, max_size=512)
long_text = st.text(min_size=1, max_size=2048)
OPTIONAL = {
    "process_id": text,
    "process_name": text,
    "sub_process_id": text,
    "sub_process_name": text,
    "label": text,
    "url": long_text,
    "page_location": long_text,
    "page_title": text,
    "page_referrer": long_text,
    "language": st.text(min_size=1, max_size=35),
    "session_id": st.from_regex(r"\A[0-9]{1,12}\Z") | st.text(min_size=1, max_size=64),
}


def contract(evt: str, event_id: str, ts: int, **fields: Any) -> LoyJoyEvent:
    return LoyJoyEvent.model_validate(
        {"evt": evt, "bot_id": "bot-1", "client_id": CLIENT, "event_id": event_id, "ts": ts}
        | fields
    )


@st.composite
def loyjoy_events(draw: st.DrawFn) -> LoyJoyEvent:
    fields = {name: draw(st.none() | strategy) for name, strategy in OPTIONAL.items()}
    consent = draw(st.sampled_from([None, granted(NOW_MS - SENDABLE_AGE_MS - 1)]))
    return contract(
        draw(st.sampled_from(sorted(CATALOGUE))),
        str(uuid.UUID(int=draw(st.integers(0, 2**128 - 1)), version=4)),
        NOW_MS - draw(st.integers(0, SENDABLE_AGE_MS)),
        bot_id=draw(st.text(min_size=1, max_size=128)),
        consent=consent,
        **{name: value for name, value in fields.items() if value is not None},
    )


def plan(
    events: list[LoyJoyEvent], mapping: Ga4Mapping = MAPPING, rules: ConsentRules = RULES
) -> Plan:
    planner = Planner(rules, mapping, PROPERTY)
    return planner.plan(events, [], now_ms=NOW_MS, new_client_id=SequentialClientIds())


def errors_of(result: Plan) -> list[Any]:
    """Every validation error of every planned body, as JSON."""
    return [
        message.as_json()
        for planned in result.requests
        for message in validate_body(
            planned.request.body, now_micros=NOW_MS * 1000, behavior="ENFORCE_RECOMMENDATIONS"
        )
        if message.is_error
    ]


@settings(max_examples=40, deadline=None)
@given(st.lists(loyjoy_events(), min_size=1, max_size=60))
def test_mapped_and_batched_events_always_validate(events: list[LoyJoyEvent]) -> None:
    """Any catalogue events with any field values map to requests GA4 accepts strictly."""
    mapped = [MAPPING.map_event(event) for event in events]
    requests, refused = build_requests(Ga4Identity(client_id=CLIENT), mapped)
    assert refused == []
    for request in requests:
        messages = validate_payload(
            request.payload, now_micros=NOW_MS * 1000, behavior="ENFORCE_RECOMMENDATIONS"
        )
        assert messages == []


@settings(max_examples=40, deadline=None)
@given(st.lists(loyjoy_events(), min_size=1, max_size=60))
def test_planned_events_are_never_set_aside_for_validation(events: list[LoyJoyEvent]) -> None:
    """Through the planner (consent, privacy, batching), no event is unsendable, every body
    validates without an error, and every event the rules let through is carried."""
    result = plan(events)
    assert result.unsendable == ()
    assert errors_of(result) == []
    carried = {event_id for planned in result.requests for event_id in planned.event_ids}
    assert carried == {o.event_id for o in result.outcomes if o.action != "drop"}


def test_every_catalogue_event_with_every_field_at_its_longest_is_sent() -> None:
    """Each of the 145 catalogue events, with every optional field filled past GA4's
    lengths and rules that send even denied events, is planned into valid bodies."""
    stamp = granted(NOW_MS - 60_000)
    shipped = shipped_file("consent-rules.yaml").read_text()
    send_all = parse_rules(shipped.replace("\ndenied: drop", "\ndenied: forward"))
    assert send_all.denied == "forward"
    longest = {"url": 2048, "page_location": 2048, "page_referrer": 2048, "language": 35}
    fields = {name: "x" * longest.get(name, 512) for name in OPTIONAL if name != "session_id"}
    events = [
        contract(evt, str(uuid.UUID(int=i, version=4)), NOW_MS - 1000, consent=stamp, **fields)
        for i, evt in enumerate(sorted(CATALOGUE))
    ]
    result = plan(events, rules=send_all)
    assert result.unsendable == ()
    assert errors_of(result) == []
    sent = sum(len(planned.event_ids) for planned in result.requests)
    assert sent == len(CATALOGUE) - len(RULES.never)


@pytest.mark.parametrize("name", sorted(RECOMMENDED_EVENTS))
def test_a_rename_to_a_recommended_event_loads_only_when_it_cannot_be_refused(name: str) -> None:
    """Renaming a chat event to a recommended event loads exactly when that event requires
    nothing a chat event lacks, and then the planner sends it (warnings at most)."""
    text = f"rename: {{start: {name}}}"
    if RECOMMENDED_EVENTS[name].required:
        with pytest.raises(ConfigError, match=name):
            parse_mapping(text, source="ga4-mapping.yaml")
        return
    mapping = parse_mapping(text, source="ga4-mapping.yaml")
    stamp = granted(NOW_MS - 60_000)
    result = plan([contract("start", str(uuid.uuid4()), NOW_MS - 1000, consent=stamp)], mapping)
    assert result.unsendable == ()
    [planned] = result.requests
    assert planned.request.payload["events"][0]["name"] == name
    assert errors_of(result) == []
