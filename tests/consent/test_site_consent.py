"""The site's own consent banner (Consent Mode / IAB TCF): it can only make a decision
stricter, never more permissive (DESIGN.md, "Consent semantics")."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from loyjoy_relay.adapters.fakes import SequentialClientIds
from loyjoy_relay.adapters.mapping_file import load_mapping
from loyjoy_relay.config import shipped_file
from loyjoy_relay.core.consent.decision import decide
from loyjoy_relay.core.consent.history import ConsentRecord
from loyjoy_relay.core.consent.site import PERMISSIVENESS
from loyjoy_relay.core.events import LoyJoyEvent
from loyjoy_relay.core.ga4.routing import Ga4Property, SecretRef
from loyjoy_relay.core.planner import Plan, Planner
from loyjoy_relay.devstack.event_factory import contract_event

from tests.consent.conftest import BOT, CLIENT, T0, shipped_rules

GRANT = ConsentRecord(T0 - 60_000, "grant", BOT, "earlier", "profiling_single_opt_in")
MAPPING = load_mapping(shipped_file("ga4-mapping.yaml"))
PROPERTY = Ga4Property("G-TEST12345", SecretRef("value", "s"))


def with_site(evt: str = "start", **site: str) -> LoyJoyEvent:
    """A contract event of BOT at T0, with a ``site_consent`` stamp when ``site`` is given."""
    fields: dict[str, Any] = {"bot_id": BOT, "client_id": CLIENT, "ts": T0}
    if site:
        fields["site_consent"] = {"source": "consent_mode", **site}
    return LoyJoyEvent.model_validate(contract_event(evt, **fields))


@pytest.mark.parametrize(
    ("site", "rules", "action", "state", "reason"),
    [
        ({}, {}, "forward", "granted", "from the client's consent history; granted: forward"),
        (
            {"analytics_storage": "denied"},
            {},
            "drop",
            "denied",
            "the site's banner (consent mode) denies analytics_storage; denied: drop",
        ),
        (
            {"analytics_storage": "denied"},
            {"denied": "anonymize"},
            "anonymize",
            "denied",
            "denies analytics_storage; denied: anonymize",
        ),
        (
            {"analytics_storage": "granted", "ad_storage": "granted"},
            {},
            "forward",
            "granted",
            "the site's banner (consent mode) denies nothing; granted: forward",
        ),
        (
            {"analytics_storage": "denied"},
            {"site_consent": "ignore"},
            "forward",
            "granted",
            "the site's banner (consent mode) is ignored by the rules; granted: forward",
        ),
        # odd rules that forward denied visitors: the banner still never widens the outcome
        (
            {"analytics_storage": "denied"},
            {"granted": "anonymize", "denied": "forward"},
            "anonymize",
            "denied",
            "denied: anonymize",
        ),
    ],
)
def test_a_site_analytics_denial_makes_the_event_denied(
    site: dict[str, str], rules: dict[str, Any], action: str, state: str, reason: str
) -> None:
    """A granted visitor's event whose page denies analytics storage is decided as denied,
    never more widely than before, unless the rules ignore the banner."""
    policy = shipped_rules(**rules).for_bot(BOT)
    decision = decide(policy, with_site(**site), [GRANT])
    assert (decision.action, decision.state) == (action, state)
    assert reason in decision.reason


def test_a_site_denial_of_ad_signals_denies_that_mp_signal() -> None:
    """``ad_user_data`` denied by the page sends DENIED although the rules follow a granted
    visitor; ``ad_personalization`` granted by the page does not grant what the rules deny."""
    rules = shipped_rules(ga4_consent={"ad_user_data": "follow", "ad_personalization": "denied"})
    planner = Planner(rules, MAPPING, PROPERTY)

    def consent_of(event: LoyJoyEvent) -> dict[str, str]:
        plan = planner.plan([event], [GRANT], now_ms=T0, new_client_id=SequentialClientIds())
        [request] = plan.requests
        return dict(json.loads(request.request.body)["consent"])

    assert consent_of(with_site()) == {"ad_user_data": "GRANTED", "ad_personalization": "DENIED"}
    denied = with_site(ad_user_data="denied", ad_personalization="granted")
    assert consent_of(denied) == {"ad_user_data": "DENIED", "ad_personalization": "DENIED"}


def test_an_anonymous_always_event_stays_anonymized_under_a_site_denial() -> None:
    """Widget events are anonymized whatever the banner says (as Consent Mode's cookieless
    pings), and their reason names the banner."""
    decision = decide(
        shipped_rules().for_bot(BOT), with_site("open", analytics_storage="denied"), []
    )
    assert decision.action == "anonymize"
    assert "the site's banner (consent mode) denies analytics_storage" in decision.reason


# ---- generated: the banner never makes anything more permissive ----

SIGNAL = st.sampled_from([None, "granted", "denied"])
SITE = st.fixed_dictionaries(
    {
        "analytics_storage": SIGNAL,
        "ad_storage": SIGNAL,
        "ad_user_data": SIGNAL,
        "ad_personalization": SIGNAL,
        "source": st.sampled_from(["consent_mode", "tcf"]),
    }
)
ACTION = st.sampled_from(["forward", "anonymize", "drop"])
RULES = st.fixed_dictionaries(
    {
        "default": st.sampled_from(["granted", "denied"]),
        "granted": ACTION,
        "denied": ACTION,
        "anonymous_always": st.sampled_from([[], ["open"]]),
        "ga4_consent": st.fixed_dictionaries(
            {
                "ad_user_data": st.sampled_from(["granted", "denied", "follow"]),
                "ad_personalization": st.sampled_from(["granted", "denied", "follow"]),
            }
        ),
        "site_consent": st.sampled_from(["respect", "ignore"]),
    }
)
EVENTS = st.lists(
    st.tuples(
        st.sampled_from(["start", "interaction", "open", "profiling_single_opt_in"]),
        st.sampled_from([None, "profiling_opt_out", "profiling_single_opt_in"]),
        st.one_of(st.none(), SITE),
    ),
    min_size=1,
    max_size=6,
)


def _events(drawn: list[tuple[str, str | None, dict[str, Any] | None]]) -> list[LoyJoyEvent]:
    events = []
    for index, (evt, stamp_by, site) in enumerate(drawn):
        fields: dict[str, Any] = {"bot_id": BOT, "client_id": CLIENT, "ts": T0 - 10_000 + index}
        if stamp_by is not None:
            profiling = "denied" if stamp_by == "profiling_opt_out" else "granted"
            fields["consent"] = {"profiling": profiling, "at": T0 - 20_000, "evt": stamp_by}
        if site is not None:
            fields["site_consent"] = {k: v for k, v in site.items() if v is not None}
        events.append(LoyJoyEvent.model_validate(contract_event(evt, **fields)))
    return events


def _treatment(plan: Plan) -> dict[str, tuple[int, str, dict[str, str]]]:
    """Per event: how permissive its outcome is, whose id it is sent under, and its signals."""
    sent: dict[str, tuple[str, dict[str, str]]] = {}
    for planned in plan.requests:
        body = json.loads(planned.request.body)
        for event_id in planned.event_ids:
            sent[event_id] = (body["client_id"], body["consent"])
    return {
        outcome.event_id: (
            PERMISSIVENESS[outcome.action],
            *sent.get(outcome.event_id, ("", {})),
        )
        for outcome in plan.outcomes
    }


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rules=RULES, drawn=EVENTS, granted_before=st.booleans())
def test_no_event_is_treated_more_permissively_because_of_the_site_banner(
    rules: dict[str, Any], drawn: list[Any], granted_before: bool
) -> None:
    """For any rules, consent history and banner state, planning with the banner never
    gives an event a wider outcome, sends it as the visitor where it was not, or grants a
    Consent Mode signal the plan without the banner denies."""
    planner = Planner(shipped_rules(**rules), MAPPING, PROPERTY)
    events = _events(drawn)
    bare = [event.model_copy(update={"site_consent": None}) for event in events]
    history = [GRANT] if granted_before else []

    def plan(batch: list[LoyJoyEvent]) -> Plan:
        return planner.plan(batch, history, now_ms=T0, new_client_id=SequentialClientIds())

    with_banner, without = _treatment(plan(events)), _treatment(plan(bare))
    for event in events:
        level, client_id, signals = with_banner[event.event_id]
        base_level, base_client_id, base_signals = without[event.event_id]
        assert level <= base_level
        if client_id == CLIENT:
            assert base_client_id == CLIENT
        for name, value in signals.items():
            assert value == "DENIED" or base_signals.get(name) == "GRANTED"
