"""The safety invariant of the decision core, for any events of one client in any order."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from loyjoy_relay.adapters.fakes import InMemoryConsentLedger
from loyjoy_relay.adapters.ports import history_of, record_decisions
from loyjoy_relay.core.consent.decision import decide, records_from_event
from loyjoy_relay.core.consent.history import ConsentRecord
from loyjoy_relay.core.events import LoyJoyEvent

from tests.consent.conftest import BOT, OTHER_BOT, event, shipped_rules

EVENT_NAMES = [
    "start",
    "end",
    "link_clicked",
    "profiling_single_opt_in",
    "profiling_double_opt_in",
    "profiling_opt_out",
    "profiling_single_opt_in_rejected",
]
RULE_VARIANTS = [
    {},
    {"default": "granted"},
    {"default": "granted", "denied": "anonymize"},
    {"anonymous_always": [], "never": []},
]

stamps = st.none() | st.tuples(st.sampled_from(["granted", "denied"]), st.integers(0, 40))
events = st.lists(
    st.tuples(
        st.sampled_from(EVENT_NAMES), st.integers(0, 40), stamps, st.sampled_from([BOT, OTHER_BOT])
    ),
    min_size=1,
    max_size=12,
)


def _revoked_when_decided(item: LoyJoyEvent, known: list[ConsentRecord]) -> bool:
    """A revocation at or before the event is known and no grant after it (and by then) is.

    A revocation in any bot's chat counts; a grant only in the event's own bot's chat.
    """
    at_or_before = [
        record
        for record in known
        if record.at <= item.ts and (record.kind == "revoke" or record.bot_id == item.bot_id)
    ]
    revocations = [record.at for record in at_or_before if record.kind == "revoke"]
    if not revocations:
        return False
    last_revocation = max(revocations)
    return not any(
        record.kind == "grant" and record.at > last_revocation for record in at_or_before
    )


@settings(max_examples=300, deadline=None)
@given(raw=events, order=st.randoms(use_true_random=False), variant=st.sampled_from(RULE_VARIANTS))
def test_no_forward_while_a_known_revocation_stands(
    raw: list[tuple[str, int, tuple[str, int] | None, str]],
    order: object,
    variant: dict[str, object],
) -> None:
    """No event goes out with the client's identity while a known revocation covers its time.

    Any events of one client (two bots), in any arrival order, with any stamps.
    """
    rules = shipped_rules(**variant)
    items = [event(name, at, stamp=stamp, bot=bot) for name, at, stamp, bot in raw]
    order.shuffle(items)  # type: ignore[attr-defined]
    ledger = InMemoryConsentLedger()
    for item in items:
        known = [
            *history_of(ledger, item.client_id),
            *records_from_event(rules.for_bot(item.bot_id), item),
        ]
        history = record_decisions(
            ledger, item.client_id, records_from_event(rules.for_bot(item.bot_id), item)
        )
        decision = decide(rules.for_bot(item.bot_id), item, history)
        if _revoked_when_decided(item, known):
            assert decision.action != "forward", (item.evt, decision.reason)
            assert decision.state == "denied"
