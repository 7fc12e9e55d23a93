"""Generated: whatever ingest accepts, the relay plans and sends without raising, and every
MP body it sends is one GA4 would take."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from loyjoy_relay.core.events import parse_request
from loyjoy_relay.core.ga4.validation.body import validate_body
from loyjoy_relay.devstack.event_factory import contract_event
from loyjoy_relay.devstack.fake_relay import fake_relay, shipped_planner
from loyjoy_relay.errors import InvalidInput

from tests.consent.conftest import shipped_rules

NOW = 1_732_450_000_000
RULES = [shipped_rules(), shipped_rules(default="granted", denied="anonymize")]
PROFILE = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# Any text, lone surrogates included (JSON escapes them), short or past every limit.
any_text = st.one_of(
    st.text(st.characters(codec=None), max_size=40),
    st.text(st.characters(categories=["Cs", "Cf", "Zs", "Nd", "Lo", "So"]), max_size=40),
    st.builds(
        lambda unit, n: unit * n,
        st.sampled_from(["a", "é", "%40", "@", "+1 ", "😀"]),
        st.integers(90, 2100),
    ),
)
json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | any_text
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=8,
)
stamps = st.fixed_dictionaries(
    {
        "profiling": st.sampled_from(["granted", "denied", "maybe"]),
        "at": st.integers(NOW - 10**9, NOW + 10**6),
    },
    optional={"evt": st.one_of(st.sampled_from(["profiling_double_opt_in", "start"]), any_text)},
)
FIELDS = [
    "bot_id", "client_id", "process_id", "process_name", "sub_process_id", "sub_process_name",
    "label", "url", "session_id", "user_id", "page_location", "page_title", "page_referrer",
    "language", "consent", "ts",
]  # fmt: skip
overrides = st.dictionaries(
    st.sampled_from(FIELDS),
    st.one_of(any_text, json_values, stamps, st.integers(NOW - 10**9, NOW + 10**6)),
    max_size=5,
)


@st.composite
def request_bodies(draw: st.DrawFn) -> bytes:
    """A listener's request: a few events of one or two clients and bots, fields replaced
    by anything JSON can hold."""
    events = []
    for index in range(draw(st.integers(1, 6))):
        fields = {
            "bot_id": draw(st.sampled_from(["bot-a", "bot-b"])),
            "client_id": draw(st.sampled_from(["1234567890.1700000000", "2.2"])),
            "ts": NOW - 1000 + index,
            "consent": {"profiling": "granted", "at": NOW - 5000, "evt": "profiling_single_opt_in"},
        }
        evt = draw(st.sampled_from(["start", "open", "profiling_opt_out", "link_clicked"]))
        events.append({**contract_event(evt, **fields), **draw(overrides)})
    return json.dumps({"sent_at": NOW, "events": events}).encode()


@PROFILE
@given(body=request_bodies(), rules=st.sampled_from(RULES))
def test_whatever_ingest_accepts_the_relay_handles(body: bytes, rules: Any) -> None:
    """Every client batch ingest publishes is planned and sent without an exception, and
    every body GA4 receives passes strict validation."""
    try:
        parsed = parse_request(body, received_at=NOW, bot_allowed=lambda bot: True)
    except InvalidInput:
        return
    relay = fake_relay(shipped_planner(rules), clock_ms=lambda: NOW)
    transport = relay.transport
    for batch in parsed.batches:
        report = relay.service.process(batch.to_message()[0])
        handled = report.forwarded + report.anonymized + report.dropped + report.dead_lettered
        assert handled == len(batch.events)
    for raw in transport.bodies():
        assert validate_body(raw, now_micros=NOW * 1000, behavior="ENFORCE_RECOMMENDATIONS") == []
