"""Generated: one visitor's chats with several bots, split into messages that reach the
relay in every order, never send an event with a denied effective state under the
visitor's identity; and a stamp never grants on its own word.

The browser side is modelled as listener.js stamps (each event carries the later of its
bot's last decision and the client's last revocation in any bot, naming the deciding
event; tests/browser/test_listener_consent.py checks the script itself). The truth each
event is judged against is computed here from the whole history, by DESIGN.md's rules.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from loyjoy_relay.adapters.fakes import (
    RecordingGa4Transport,
)
from loyjoy_relay.adapters.logs import LogMessage
from loyjoy_relay.core.consent.rules import ConsentRules
from loyjoy_relay.devstack.event_factory import contract_event, message_data
from loyjoy_relay.devstack.fake_relay import fake_relay, shipped_planner
from loyjoy_relay.service.audit import decisions_in
from loyjoy_relay.service.relay import RelayService

from tests.consent.conftest import shipped_rules

NOW = 1_732_450_000_000
CLIENT = "1234567890.1700000000"
BOTS = ("bot-a", "bot-b", "bot-c")
# What listener.js knows: it stamps by LoyJoy's own profiling events, whatever the rules say.
LISTENER_GRANT = ("profiling_single_opt_in", "profiling_double_opt_in")
LISTENER_REVOKE = ("profiling_opt_out", "profiling_single_opt_in_rejected")
NAMES = ["start", "interaction", "end", "open", *LISTENER_GRANT, *LISTENER_REVOKE]
# Rule variants whose revoke lists the listener knows (a revocation only the rules know
# cannot be stamped by the browser: docs/consent.md says what that means).
VARIANTS: dict[str, dict[str, Any]] = {
    "shipped": {},
    "double opt-in only": {"grant": ["profiling_double_opt_in"]},
    "double opt-in only, granted by default": {
        "grant": ["profiling_double_opt_in"],
        "default": "granted",
        "denied": "anonymize",
    },
    "granted by default, denied anonymized": {"default": "granted", "denied": "anonymize"},
    "nothing always anonymous": {"anonymous_always": [], "denied": "anonymize"},
    "bots differ": {
        "bots": {
            "bot-b": {"grant": ["profiling_double_opt_in"]},
            "bot-c": {
                "default": "granted",
                "grant": ["profiling_single_opt_in"],
                "revoke": ["profiling_opt_out"],
            },
        }
    },
}
# Where the rules grant and revoke by exactly the listener's events, the stamps carry all
# there is to know, so every order gives exactly the decisions of the whole history.
EXACT = {"shipped", "granted by default, denied anonymized", "nothing always anonymous"}
PROFILE = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@dataclass(frozen=True)
class Decision:
    """A profiling decision the visitor made: when, in which bot, by which event."""

    at: int
    kind: str
    bot: str
    evt: str


def listener_stamps(chat: list[tuple[str, str, int]]) -> list[dict[str, Any]]:
    """The events as listener.js sends them: each stamped with the later of its bot's last
    decision and the client's last revocation in any bot (a revocation wins a tie)."""
    own: dict[str, Decision] = {}
    revoked: Decision | None = None
    events = []
    for bot, evt, ts in chat:
        if evt in LISTENER_GRANT or evt in LISTENER_REVOKE:
            made = Decision(ts, "grant" if evt in LISTENER_GRANT else "revoke", bot, evt)
            own[bot] = made
            if made.kind == "revoke" and (revoked is None or revoked.at <= ts):
                revoked = made
        candidates = [d for d in (own.get(bot), revoked) if d is not None]
        fields: dict[str, Any] = {"bot_id": bot, "client_id": CLIENT, "ts": ts}
        if candidates:
            governing = max(candidates, key=lambda d: (d.at, d.kind == "revoke"))
            fields["consent"] = {
                "profiling": "granted" if governing.kind == "grant" else "denied",
                "at": governing.at,
                "evt": governing.evt,
            }
        events.append(contract_event(evt, **fields))
    return events


def true_state(rules: ConsentRules, history: list[dict[str, Any]], event: dict[str, Any]) -> str:
    """The event's effective state from the whole history (DESIGN.md "Consent semantics"):
    the latest decision at or before it, a revocation in any bot, a grant in its own bot by
    an event of its grant list; on equal times the revocation; with none, the default."""
    policy = rules.for_bot(event["bot_id"])
    latest: tuple[int, int] | None = None
    state = policy.default
    for other in history:
        if other["ts"] > event["ts"]:
            continue
        if other["evt"] in rules.for_bot(other["bot_id"]).revoke:
            key, made = (other["ts"], 1), "denied"
        elif other["evt"] in policy.grant and other["bot_id"] == event["bot_id"]:
            key, made = (other["ts"], 0), "granted"
        else:
            continue
        if latest is None or key > latest:
            latest, state = key, made
    return state


def expected_action(
    rules: ConsentRules, history: list[dict[str, Any]], event: dict[str, Any]
) -> str:
    """What the rules give the event, by its true state."""
    policy = rules.for_bot(event["bot_id"])
    if event["evt"] in policy.never:
        return "drop"
    if event["evt"] in policy.anonymous_always:
        return "anonymize"
    return policy.granted if true_state(rules, history, event) == "granted" else policy.denied


def relay_for(rules: ConsentRules, log: io.StringIO) -> tuple[RelayService, RecordingGa4Transport]:
    """A relay on in-memory stores (one ledger for all messages) that records what GA4 gets."""
    relay = fake_relay(shipped_planner(rules), clock_ms=lambda: NOW, log=log)
    return relay.service, relay.transport


chats = st.lists(
    st.tuples(st.sampled_from(BOTS), st.sampled_from(NAMES), st.integers(1, 5000)),
    min_size=1,
    max_size=16,
)


@PROFILE
@given(
    chat=chats,
    variant=st.sampled_from(sorted(VARIANTS)),
    split=st.lists(st.integers(0, 3), min_size=16, max_size=16),
    order=st.permutations(range(4)),
)
def test_no_denied_event_goes_out_as_the_visitor_in_any_order_of_messages(
    chat: list[tuple[str, str, int]], variant: str, split: list[int], order: list[int]
) -> None:
    """Events of three bots, stamped as the listener stamps them, split into up to four
    messages delivered in any order: every event whose effective state is denied is sent,
    if at all, without the visitor's ids; where the rules grant and revoke by the
    listener's events, every decision is exactly the one the whole history gives."""
    rules = shipped_rules(**VARIANTS[variant])
    times, at = [], NOW - 600_000
    for _, _, gap in chat:  # strictly increasing: one browser, one event at a time
        at += gap
        times.append(at)
    events = listener_stamps(
        [(bot, evt, ts) for (bot, evt, _), ts in zip(chat, times, strict=True)]
    )
    messages: list[list[dict[str, Any]]] = [[] for _ in range(4)]
    for event, index in zip(events, split, strict=False):
        messages[index].append(event)
    log = io.StringIO()
    relay, transport = relay_for(rules, log)
    for index in order:
        if messages[index]:
            relay.process(message_data(messages[index], received_at=NOW))

    lines = [json.loads(line) for line in log.getvalue().splitlines()]
    relayed = [r for r in lines if r["message"] == LogMessage.RELAY_MESSAGE]
    decided = {d["event_id"]: d["decision"] for r in relayed for d in decisions_in(r)}
    sent = [
        [r["event_ids"][i] for i in request]
        for r in relayed
        for destination in r["ga4_requests"]
        for request in destination["requests"]
    ]
    by_id = {event["event_id"]: event for event in events}
    for event_ids, raw in zip(sent, transport.bodies(), strict=True):
        body = json.loads(raw)
        if body["client_id"] != CLIENT:
            assert "user_id" not in body
            continue
        for event_id in event_ids:
            event = by_id[event_id]
            state = true_state(rules, events, event)
            assert state == "granted", (event["evt"], event["bot_id"], event.get("consent"))
    if variant in EXACT:
        expected = {event["event_id"]: expected_action(rules, events, event) for event in events}
        assert decided == expected


stamp_events = st.sampled_from(
    [None, "profiling_single_opt_in", "start", "profiling_opt_out", "newsletter_single_opt_in"]
)


@PROFILE
@given(
    stamps=st.lists(
        st.tuples(
            st.sampled_from(BOTS),
            st.sampled_from(["start", "interaction", "end"]),
            st.sampled_from(["granted", "denied"]),
            stamp_events,
            st.integers(0, 5000),
        ),
        min_size=1,
        max_size=12,
    ),
    split=st.lists(st.integers(0, 2), min_size=12, max_size=12),
)
def test_a_stamp_grants_only_by_an_event_in_its_bots_grant_list(
    stamps: list[tuple[str, str, str, str | None, int]], split: list[int]
) -> None:
    """With rules that grant only on the double opt-in and no such event nor stamp, no
    event is forwarded, whatever its stamp claims and however the messages are split."""
    rules = shipped_rules(grant=["profiling_double_opt_in"])
    events = []
    for index, (bot, evt, profiling, named, back) in enumerate(stamps):
        ts = NOW - 100_000 + index * 1000
        consent: dict[str, Any] = {"profiling": profiling, "at": ts - back}
        if named is not None:
            consent["evt"] = named
        events.append(contract_event(evt, bot_id=bot, client_id=CLIENT, ts=ts, consent=consent))
    messages: list[list[dict[str, Any]]] = [[] for _ in range(3)]
    for event, index in zip(events, split, strict=False):
        messages[index].append(event)
    log = io.StringIO()
    relay, transport = relay_for(rules, log)
    for batch in messages:
        if batch:
            relay.process(message_data(batch, received_at=NOW))
    assert all(json.loads(raw)["client_id"] != CLIENT for raw in transport.bodies())
    assert '"decision":"forward"' not in log.getvalue()
