"""Merging consent histories, and the audit line each decision leaves."""

from __future__ import annotations

import io
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st
from loyjoy_relay.consent.audit import audit_decision
from loyjoy_relay.consent.decision import decide
from loyjoy_relay.consent.history import ConsentRecord, merge_history
from loyjoy_relay.logs import JsonLogger, pseudonym

from tests.consent.conftest import CLIENT, event, shipped_rules

records = st.builds(
    ConsentRecord,
    at=st.integers(0, 50),
    kind=st.sampled_from(["grant", "revoke"]),
    bot_id=st.sampled_from(["a", "b"]),
    source=st.text(alphabet="xyz", min_size=1, max_size=3),
)


@given(known=st.lists(records, max_size=30), new=st.lists(records, max_size=30))
def test_merge_keeps_each_bots_latest_revocation_within_bounds(
    known: list[ConsentRecord], new: list[ConsentRecord]
) -> None:
    """A bounded merge stays sorted and short, and keeps each bot's latest revocation."""
    merged = merge_history(merge_history([], known), new, limit=5)
    everything = merge_history(merge_history([], known, limit=1000), new, limit=1000)
    assert merged == sorted(merged, key=lambda r: (r.at, r.kind == "revoke"))
    assert len(merged) <= 5 + 2
    for bot in ("a", "b"):
        revocations = [r for r in everything if r.kind == "revoke" and r.bot_id == bot]
        if revocations:
            latest = max(r.at for r in revocations)
            assert any(r.kind == "revoke" and r.bot_id == bot and r.at == latest for r in merged)


def test_merge_is_idempotent() -> None:
    """Merging the same records again changes nothing."""
    history = [ConsentRecord(10, "grant", "a", "e1"), ConsentRecord(20, "revoke", "a", "e2")]
    assert merge_history(history, history) == history


@pytest.mark.parametrize(
    "stored",
    [{"at": -1, "kind": "grant", "bot_id": "a", "source": "e"}, {"at": 1, "kind": "maybe"}, "x"],
)
def test_a_malformed_stored_record_is_refused(stored: object) -> None:
    """A stored record of the wrong shape raises instead of being guessed at."""
    with pytest.raises(ValueError, match="consent record"):
        ConsentRecord.from_json(stored)


def test_audit_line_has_the_decision_and_no_raw_identifiers() -> None:
    """A decision logs event id, client pseudonym, outcome and rules version, no raw ids."""
    rules = shipped_rules()
    item = event("start", 5, user_id="user-secret-7", session_id="1732449990")
    decision = decide(rules, item, [])
    stream = io.StringIO()
    audit_decision(JsonLogger("relay", stream), rules, item, decision)
    line = stream.getvalue()
    record = json.loads(line)
    assert record["event_id"] == item.event_id
    assert record["client"] == pseudonym(CLIENT)
    assert (record["decision"], record["reason"]) == (decision.action, decision.reason)
    assert record["rules_version"] == rules.rules_version
    for raw in (CLIENT, "user-secret-7", "1732449990"):
        assert raw not in line
