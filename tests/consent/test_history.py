"""Merging consent histories."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from loyjoy_relay.core.consent.history import ConsentRecord, merge_history

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
