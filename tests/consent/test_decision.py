"""The decision core: every clause of DESIGN.md's consent semantics, table-driven."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from loyjoy_relay.adapters.fakes import InMemoryConsentLedger
from loyjoy_relay.adapters.ports import record_decisions
from loyjoy_relay.core.consent.decision import decide, records_from_event
from loyjoy_relay.core.consent.history import ConsentRecord
from loyjoy_relay.core.events import LoyJoyEvent

from tests.consent.conftest import BOT, CLIENT, NO_EVT, OTHER_BOT, T0, event, shipped_rules


@dataclass
class Case:
    """Events processed in order through one ledger; the last one's decision is checked."""

    name: str
    events: list[LoyJoyEvent]
    action: str
    state: str
    rules: dict[str, object] = field(default_factory=dict)
    reason: str = ""


def grant(at: int, bot: str = BOT) -> LoyJoyEvent:
    return event("profiling_single_opt_in", at, bot=bot)


def revoke(at: int, bot: str = BOT) -> LoyJoyEvent:
    return event("profiling_opt_out", at, bot=bot)


CASES = [
    Case("default denied drops", [event("start", 10)], "drop", "denied", reason="default denied"),
    Case(
        "default granted forwards",
        [event("start", 10)],
        "forward",
        "granted",
        {"default": "granted"},
        "default granted",
    ),
    Case("grant then event forwards", [grant(5), event("start", 10)], "forward", "granted"),
    Case("revoke then event drops", [grant(1), revoke(5), event("start", 10)], "drop", "denied"),
    Case("a grant event is itself granted", [grant(5)], "forward", "granted", reason="this"),
    Case("a revoke event is itself denied", [grant(1), revoke(5)], "drop", "denied"),
    Case(
        "stamp denied beats an older ledger grant",
        [grant(1), event("start", 10, stamp=("denied", 5))],
        "drop",
        "denied",
        reason="stamp",
    ),
    Case(
        "stamp granted loses to a later ledger revocation",
        [grant(1), revoke(5), event("start", 10, stamp=("granted", 1))],
        "drop",
        "denied",
        reason="consent history",
    ),
    Case(
        "stamp granted after an older ledger revocation forwards",
        [revoke(1), event("start", 10, stamp=("granted", 5))],
        "forward",
        "granted",
    ),
    Case(
        "equal times: the revocation wins",
        [grant(5), event("start", 10, stamp=("denied", 5))],
        "drop",
        "denied",
    ),
    Case(
        "equal times with the event itself: revocation at its time wins",
        [event("start", 10, stamp=("denied", 10)), grant(10)],
        "drop",
        "denied",
    ),
    Case(
        "a later decision does not reach back: out-of-order event before the revocation",
        [grant(1), revoke(5), event("start", 3)],
        "forward",
        "granted",
    ),
    Case(
        "a grant arriving late still only counts from its own time",
        [grant(20), event("start", 10)],
        "drop",
        "denied",
    ),
    Case(
        "a revocation arriving late protects later events once known",
        [grant(1), revoke(5), event("start", 10)],
        "drop",
        "denied",
    ),
    Case(
        "never drops even when granted",
        [grant(1), event("customer_deleted", 10)],
        "drop",
        "granted",
    ),
    Case(
        "never beats anonymous_always", [event("load", 10)], "drop", "denied", {"never": ["load"]}
    ),
    Case(
        "an opt-out that is never sent still revokes",
        [grant(1), revoke(5), event("start", 10)],
        "drop",
        "denied",
        {"never": ["profiling_opt_out"]},
    ),
    Case(
        "an opt-in that is always anonymized still grants",
        [grant(5), event("start", 10)],
        "forward",
        "granted",
        {"anonymous_always": ["profiling_single_opt_in"]},
    ),
    Case("anonymous_always when denied", [event("open", 10)], "anonymize", "denied"),
    Case("anonymous_always when granted", [grant(1), event("open", 10)], "anonymize", "granted"),
    Case(
        "denied: anonymize",
        [event("start", 10)],
        "anonymize",
        "denied",
        {"denied": "anonymize"},
    ),
    Case(
        "double opt-in after a revocation grants again",
        [grant(1), revoke(5), event("profiling_double_opt_in", 8), event("start", 10)],
        "forward",
        "granted",
    ),
    Case(
        "rejected single opt-in revokes",
        [grant(1), event("profiling_single_opt_in_rejected", 5), event("start", 10)],
        "drop",
        "denied",
    ),
    Case(
        "a grant in another bot's chat is not consent here",
        [grant(1, bot=OTHER_BOT), event("start", 10)],
        "drop",
        "denied",
    ),
    Case(
        "a revocation in another bot's chat applies here",
        [grant(1), revoke(5, bot=OTHER_BOT), event("start", 10)],
        "drop",
        "denied",
    ),
    Case(
        "a bot override replaces the default for that bot",
        [event("start", 10)],
        "forward",
        "granted",
        {"bots": {BOT: {"default": "granted"}}},
    ),
    Case(
        "a bot override does not touch other bots",
        [event("start", 10, bot=OTHER_BOT)],
        "drop",
        "denied",
        {"bots": {BOT: {"default": "granted"}}},
    ),
    Case(
        "a bot override replaces a list, not merges it",
        [event("load", 10)],
        "drop",
        "denied",
        {"bots": {BOT: {"anonymous_always": ["open"]}}},
    ),
    Case(
        "a granted stamp without evt grants nothing",
        [event("start", 10, stamp=("granted", 5, NO_EVT))],
        "drop",
        "denied",
        {"default": "granted"},
        reason="names no event this bot grants by",
    ),
    Case(
        "a granted stamp naming an event the bot does not grant by grants nothing",
        [event("start", 10, stamp=("granted", 5, "profiling_single_opt_in"))],
        "drop",
        "denied",
        {"grant": ["profiling_double_opt_in"]},
    ),
    Case(
        "a stamp that grants nothing overrides an earlier grant (it may hide a revocation)",
        [
            event("profiling_double_opt_in", 1),
            event("start", 10, stamp=("granted", 5, "profiling_single_opt_in")),
        ],
        "drop",
        "denied",
        {"grant": ["profiling_double_opt_in"]},
        "may hide an earlier revocation",
    ),
    Case(
        "a grant known after a doubtful stamp still counts",
        [
            event("profiling_double_opt_in", 8),
            event("start", 10, stamp=("granted", 5, NO_EVT)),
        ],
        "forward",
        "granted",
    ),
    Case(
        "a granted stamp naming an event of the grant list grants",
        [event("start", 10, stamp=("granted", 5, "profiling_double_opt_in"))],
        "forward",
        "granted",
        {"grant": ["profiling_double_opt_in"]},
        "stamp",
    ),
    Case(
        "a denied stamp without evt still denies",
        [grant(1), event("start", 10, stamp=("denied", 5, NO_EVT))],
        "drop",
        "denied",
        reason="stamp",
    ),
    Case(
        "a denied stamp naming any event denies",
        [grant(1), event("start", 10, stamp=("denied", 5, "start"))],
        "drop",
        "denied",
    ),
    Case(
        "a single opt-in does not grant where only the double opt-in does",
        [grant(1), event("start", 10)],
        "drop",
        "denied",
        {"grant": ["profiling_double_opt_in"]},
    ),
    Case(
        "a bot override of grant applies to that bot's stamps",
        [event("start", 10, stamp=("granted", 5, "profiling_single_opt_in"))],
        "drop",
        "denied",
        {"bots": {BOT: {"grant": ["profiling_double_opt_in"]}}},
    ),
    Case(
        "a bot override of revoke makes a custom event revoke for that bot only",
        [grant(1), event("start", 5), event("end", 10)],
        "drop",
        "denied",
        {"bots": {BOT: {"revoke": ["profiling_opt_out", "start"]}}},
    ),
]


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_decision_table(case: Case) -> None:
    """Each clause of the semantics gives the required action, state and reason."""
    rules = shipped_rules(**case.rules)
    ledger = InMemoryConsentLedger()
    decision = None
    for item in case.events:
        history = record_decisions(
            ledger, item.client_id, records_from_event(rules.for_bot(item.bot_id), item)
        )
        decision = decide(rules.for_bot(item.bot_id), item, history)
    assert decision is not None
    assert (decision.action, decision.state) == (case.action, case.state), decision.reason
    assert case.reason in decision.reason


def test_event_contributes_its_decision_and_its_stamp() -> None:
    """A revoke event contributes a revocation at its time and the grant its stamp carried,
    each naming the event that made it."""
    rules = shipped_rules()
    item = event("profiling_opt_out", 50, stamp=("granted", 20))
    assert records_from_event(rules.for_bot(item.bot_id), item) == [
        ConsentRecord(T0 + 50, "revoke", BOT, item.event_id, "profiling_opt_out"),
        ConsentRecord(T0 + 20, "grant", BOT, f"stamp:{item.event_id}", "profiling_single_opt_in"),
    ]


@pytest.mark.parametrize("named", [NO_EVT, "start", "profiling_opt_out", "no_such_event"])
def test_a_granted_stamp_without_a_granting_evt_is_not_recorded(named: str) -> None:
    """A granted stamp that names no event of the grant list adds nothing to the history."""
    item = event("start", 50, stamp=("granted", 20, named))
    assert records_from_event(shipped_rules().for_bot(BOT), item) == []


def test_a_denied_stamp_keeps_no_text_of_the_browsers_in_the_history() -> None:
    """A denied stamp naming something other than a revoke event is recorded without it,
    so nothing a browser wrote is stored in the ledger."""
    item = event("start", 50, stamp=("denied", 20, "jane@example.com"))
    [record] = records_from_event(shipped_rules().for_bot(BOT), item)
    assert (record.kind, record.evt) == ("revoke", None)


def test_a_recorded_grant_without_evt_grants_nothing() -> None:
    """A grant in the ledger from before records named their event does not grant."""
    legacy = ConsentRecord(T0 + 1, "grant", BOT, "stamp:old")
    decision = decide(shipped_rules().for_bot(BOT), event("start", 10), [legacy])
    assert (decision.action, decision.state) == ("drop", "denied")


def test_a_legacy_grant_does_not_hide_a_named_grant_of_the_same_moment() -> None:
    """Merging keeps a grant that names its event beside an unnamed one at the same time."""
    legacy = ConsentRecord(T0 + 1, "grant", BOT, "stamp:old")
    item = event("start", 10, stamp=("granted", 1))
    history = InMemoryConsentLedger()
    record_decisions(history, CLIENT, [legacy])
    merged = record_decisions(
        history, CLIENT, records_from_event(shipped_rules().for_bot(BOT), item)
    )
    assert decide(shipped_rules().for_bot(BOT), item, merged).action == "forward"


def test_plain_event_without_stamp_contributes_nothing() -> None:
    """An ordinary event with no stamp adds nothing to the ledger."""
    assert records_from_event(shipped_rules().for_bot(BOT), event("start", 5)) == []


def test_decision_uses_history_without_the_events_own_records() -> None:
    """decide counts an event's own grant even when the history does not hold it yet."""
    rules = shipped_rules()
    decision = decide(rules.for_bot(BOT), event("profiling_double_opt_in", 5), [])
    assert decision.action == "forward"
    assert CLIENT not in decision.reason
