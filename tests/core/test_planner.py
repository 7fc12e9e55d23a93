"""The planner: one client's events and consent history in, decisions and MP requests out."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest
from loyjoy_relay.adapters.fakes import SequentialClientIds
from loyjoy_relay.adapters.mapping_file import load_mapping
from loyjoy_relay.adapters.rules_file import load_rules
from loyjoy_relay.config import shipped_file
from loyjoy_relay.core.consent.history import ConsentRecord
from loyjoy_relay.core.context.model import DeviceContext, RequestContext
from loyjoy_relay.core.events import LoyJoyEvent
from loyjoy_relay.core.ga4 import requests as ga4_requests
from loyjoy_relay.core.ga4.requests import encode_body
from loyjoy_relay.core.ga4.routing import Ga4Property, SecretRef
from loyjoy_relay.core.ga4.validation.body import validate_body
from loyjoy_relay.core.planner import SENDABLE_AGE_MS, Plan, Planner
from loyjoy_relay.devstack.event_factory import contract_event, granted

CLIENT = "1234567890.1700000000"
BOT = "bot-a"
NOW = 1_732_450_000_000
PLANNER = Planner(
    load_rules(shipped_file("consent-rules.yaml")),
    load_mapping(shipped_file("ga4-mapping.yaml")),
    Ga4Property("G-TEST12345", SecretRef("value", "s")),
)


def event(evt: str, at: int, **fields: Any) -> LoyJoyEvent:
    """A contract event ``at`` ms before NOW."""
    defaults = {"bot_id": BOT, "client_id": CLIENT, "ts": NOW - at}
    return LoyJoyEvent.model_validate(contract_event(evt, **{**defaults, **fields}))


def plan(*events: LoyJoyEvent, history: list[ConsentRecord] | None = None) -> Plan:
    return PLANNER.plan(
        list(events), history or [], now_ms=NOW, new_client_id=SequentialClientIds()
    )


def decisions(result: Plan) -> list[tuple[str, str]]:
    return [(outcome.evt, outcome.action) for outcome in result.outcomes]


def test_granted_events_of_one_client_travel_in_one_request() -> None:
    """An opt-in and the events after it go out as one MP request under the client's id."""
    result = plan(
        event("profiling_single_opt_in", 5000),
        event("start", 4000),
        event("interaction", 3000),
    )
    assert decisions(result) == [
        ("profiling_single_opt_in", "forward"),
        ("start", "forward"),
        ("interaction", "forward"),
    ]
    [request] = result.requests
    payload = json.loads(request.request.body)
    assert payload["client_id"] == CLIENT
    assert len(payload["events"]) == 3
    assert request.event_ids == tuple(o.event_id for o in result.outcomes)
    assert result.unsendable == ()


def test_an_opt_out_anywhere_in_the_message_is_known_before_any_event_is_decided() -> None:
    """A click and an opt-out at the same time: the click is dropped, whatever the order."""
    opt_in = event("profiling_single_opt_in", 9000)
    click = event("interaction", 1000)
    opt_out = event("profiling_opt_out", 1000)
    for order in ([opt_in, click, opt_out], [opt_in, opt_out, click]):
        result = plan(*order)
        assert dict(decisions(result))["interaction"] == "drop"


def test_anonymized_events_each_get_their_own_request_and_id() -> None:
    """Each anonymized event is sent alone under an id from the injected source."""
    result = plan(event("load", 3000), event("open", 2000))
    assert [o.action for o in result.outcomes] == ["anonymize", "anonymize"]
    client_ids = [json.loads(r.request.body)["client_id"] for r in result.requests]
    assert client_ids == ["1.1", "2.2"]


def test_denied_events_are_dropped_and_carried_by_no_request() -> None:
    """Without consent the shipped rules drop ordinary events; no request carries them."""
    result = plan(event("start", 3000), event("interaction", 2000))
    assert decisions(result) == [("start", "drop"), ("interaction", "drop")]
    assert result.requests == ()
    assert result.dropped_ids() == [o.event_id for o in result.outcomes]


def test_history_from_the_ledger_grants_later_events() -> None:
    """A grant known from the ledger (an earlier message) forwards this message's events."""
    history = [ConsentRecord(NOW - 60_000, "grant", BOT, "earlier", "profiling_single_opt_in")]
    result = plan(event("start", 1000), history=history)
    assert decisions(result) == [("start", "forward")]


def test_an_event_past_the_72_hour_window_cannot_be_sent_and_the_rest_goes() -> None:
    """An event older than GA4 accepts is unsendable with the reason; its neighbours go."""
    stamp = granted(NOW - SENDABLE_AGE_MS - 10_000)
    old = event("start", SENDABLE_AGE_MS + 1, consent=stamp)
    fresh = event("interaction", 1000, consent=stamp)
    at_limit = event("end", SENDABLE_AGE_MS, consent=stamp)
    result = plan(old, fresh, at_limit)
    assert [u.event_id for u in result.unsendable] == [old.event_id]
    assert "72 hours" in result.unsendable[0].reason
    assert [r.event_ids for r in result.requests] == [(fresh.event_id, at_limit.event_id)]
    assert SENDABLE_AGE_MS < 72 * 3_600_000


def test_an_event_ga4_would_refuse_is_set_aside_and_the_rest_sent() -> None:
    """A custom event name GA4 reserves is unsendable; the request still carries the rest."""
    rules = PLANNER.rules.model_copy(update={"custom_events": ["session_start"]})
    planner = Planner(rules, PLANNER.mapping, PLANNER.default_property)
    stamp = granted(NOW - 10_000)
    bad = event("session_start", 2000, consent=stamp)
    good = event("start", 1000, consent=stamp)
    result = planner.plan([bad, good], [], now_ms=NOW, new_client_id=SequentialClientIds())
    assert [u.event_id for u in result.unsendable] == [bad.event_id]
    assert [r.event_ids for r in result.requests] == [(good.event_id,)]


def test_every_body_passes_strict_validation_and_is_sent_as_built() -> None:
    """Each planned body has no error under ENFORCE_RECOMMENDATIONS and is its payload's
    bytes; the one warning a body may carry is a location known only to the country."""
    stamp = granted(NOW - 60_000)
    context = RequestContext(
        device=DeviceContext(category="desktop", browser="Firefox", browser_version="133")
    )
    events = [event("start", 5000 - i, consent=stamp, time_zone="Europe/Berlin") for i in range(60)]
    result = PLANNER.plan(
        [*events, event("load", 100, time_zone="Europe/Berlin")],
        [],
        now_ms=NOW,
        new_client_id=SequentialClientIds(),
        context=context,
    )
    assert [len(r.event_ids) for r in result.requests] == [25, 25, 10, 1]
    for planned in result.requests:
        assert planned.request.body == encode_body(planned.request.payload)
        assert planned.request.payload["user_location"]["country_id"] == "DE"
        assert planned.request.payload["device"]["category"] == "desktop"
        messages = validate_body(
            planned.request.body, now_micros=NOW * 1000, behavior="ENFORCE_RECOMMENDATIONS"
        )
        # GA4 recommends a region beside the country; a time zone gives none, and inventing
        # one would be worse than the warning (docs/ga4.md, "Derived context")
        assert [(m.field_path, m.is_error) for m in messages] == [
            ("user_location.region_id", False)
        ]


def test_each_event_is_serialised_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Planning encodes each event once and each request header once, nothing again."""
    calls = []
    real = ga4_requests.encode_body
    monkeypatch.setattr(ga4_requests, "encode_body", lambda p: calls.append(1) or real(p))
    stamp = granted(NOW - 60_000)
    result = plan(*[event("start", 5000 - i, consent=stamp) for i in range(30)])
    assert len(result.requests) == 2
    assert len(calls) == 30 + 1  # one header for the identity's group


def test_the_same_input_gives_the_same_bytes() -> None:
    """No randomness or clock of its own: planning twice gives identical bodies."""
    events = [event("load", 3000), event("profiling_single_opt_in", 2000), event("end", 1000)]
    first, second = plan(*events), plan(*events)
    assert [r.request.body for r in first.requests] == [r.request.body for r in second.requests]
    assert first.outcomes == second.outcomes


def test_a_warning_never_sets_an_event_aside() -> None:
    """An event GA4 only advises about (generate_lead without value) is sent as planned."""
    mapping = replace(PLANNER.mapping, renames={"start": "generate_lead"})
    planner = Planner(PLANNER.rules, mapping, PLANNER.default_property)
    stamp = granted(NOW - 10_000)
    lead = event("start", 1000, consent=stamp)
    result = planner.plan([lead], [], now_ms=NOW, new_client_id=SequentialClientIds())
    assert result.unsendable == ()
    [planned] = result.requests
    assert planned.event_ids == (lead.event_id,)
    messages = validate_body(
        planned.request.body, now_micros=NOW * 1000, behavior="ENFORCE_RECOMMENDATIONS"
    )
    assert [(m.field_path, m.is_error) for m in messages] == [("events[0].params.value", False)]


def test_an_event_missing_a_required_param_is_set_aside_alone() -> None:
    """A recommended event without a param GA4 requires (a mapping that skipped the load
    check) is unsendable with the reason; the other events of its request still go."""
    mapping = replace(PLANNER.mapping, renames={"interaction": "search"})
    planner = Planner(PLANNER.rules, mapping, PLANNER.default_property)
    stamp = granted(NOW - 10_000)
    before, bad, after = (
        event(e, t, consent=stamp)
        for e, t in [("start", 3000), ("interaction", 2000), ("end", 1000)]
    )
    result = planner.plan([before, bad, after], [], now_ms=NOW, new_client_id=SequentialClientIds())
    [unsendable] = result.unsendable
    assert unsendable.event_id == bad.event_id
    assert "events[1].params.search_term: VALUE_REQUIRED" in unsendable.reason
    assert [r.event_ids for r in result.requests] == [(before.event_id, after.event_id)]
