"""The client ledger's layout and upkeep, shared by the Firestore store and its fake.

One document per client (:mod:`.firestore_ledger` says why), with these fields:

``decisions``  ``{source: record}``: the client's profiling decisions, one map entry per
               source (an event id, or ``stamp:<event id>``), each written on its own
               field path, so writers never overwrite each other's entries
``records``    the history as releases before this layout kept it (a list): read, never
               written; it expires with the document
``claims``     ``{event_id: {"owner", "lease_until"}}``: events a message is sending now
``done``       ``{event_id: settled_at_ms}``: events sent (or dropped by the rules)
``updated_at``, ``expire_at`` (``updated_at`` + :data:`RETENTION`, for the TTL policy)

What no longer matters is removed in the writes the relay makes anyway: settled ids after
:data:`DONE_RETENTION_MS` (a duplicate that late is past GA4's 72 hours and can never be
sent) or beyond :data:`MAX_DONE` per client, claims abandoned that long, and decisions
beyond the history limit (never a bot's latest revocation). Each write removes only
entries its own read showed, so concurrent writers cannot remove each other's new ones.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from typing import Any

from loyjoy_relay.adapters.ports import Claim, ClientState
from loyjoy_relay.core.consent.history import HISTORY_LIMIT, ConsentRecord, merge_history

# 13 months after the last change, as long as the consent stamp a browser keeps is
# trusted (the CNIL's guidance for consent choices). Documented in docs/consent.md.
RETENTION = datetime.timedelta(days=396)
# GA4 takes events up to 72 hours old; a day more covers clock skew and slow retries.
DONE_RETENTION_MS = 4 * 24 * 3600 * 1000
# Settled ids kept per client: far more than a chat makes in four days, and a bound on
# the document (about 60 bytes each). Beyond it the oldest go first.
MAX_DONE = 2000


def state_from_fields(data: Mapping[str, Any] | None, version: object) -> ClientState:
    """A :class:`ClientState` from a stored document's fields; a malformed one raises
    ValueError (the store then cannot be read: the relay retries rather than guess)."""
    if data is None:
        return ClientState(version=version)
    legacy = data.get("records", [])
    decisions = data.get("decisions", {})
    claims = data.get("claims", {})
    done = data.get("done", {})
    if not isinstance(legacy, list) or not all(
        isinstance(part, dict) for part in (decisions, claims, done)
    ):
        raise ValueError("client ledger document: unexpected field types")
    records = [ConsentRecord.from_json(item) for item in legacy]
    records += [ConsentRecord.from_json(decisions[key]) for key in sorted(decisions)]
    parsed_claims = {}
    for event_id, value in claims.items():
        if not isinstance(value, dict):
            raise ValueError("client ledger document: a claim is not a mapping")
        owner, lease_until = value.get("owner"), value.get("lease_until")
        if not isinstance(owner, str) or not isinstance(lease_until, int) or lease_until < 0:
            raise ValueError("client ledger document: a claim has no owner or lease")
        parsed_claims[event_id] = Claim(owner, lease_until)
    if not all(_millis(at) for at in done.values()):
        raise ValueError("client ledger document: a settled id has no time")
    return ClientState(
        history=tuple(merge_history(records, (), limit=None)),
        done=dict(done),
        claims=parsed_claims,
        version=version,
    )


def _millis(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def new_records(
    history: Iterable[ConsentRecord], records: Iterable[ConsentRecord]
) -> list[ConsentRecord]:
    """The records of ``records`` that the history does not hold yet (by source or by
    decision, as :func:`~loyjoy_relay.core.consent.history.merge_history` judges)."""
    known = list(history)
    merged = merge_history(known, records, limit=None)
    already = set(known)
    return [record for record in merged if record not in already]


def decisions_kept(
    seen: ClientState, adding: Iterable[ConsentRecord], limit: int = HISTORY_LIMIT
) -> set[ConsentRecord]:
    """The decisions a client keeps once ``adding`` is in: the newest ``limit``, and each
    bot's latest revocation whatever its age."""
    return set(merge_history((*seen.history, *adding), (), limit=limit))


def done_to_drop(seen: ClientState, adding: int, now_ms: int) -> list[str]:
    """Settled ids past :data:`DONE_RETENTION_MS`, and the oldest beyond :data:`MAX_DONE`
    once ``adding`` more are in."""
    oldest_first = sorted(seen.done.items(), key=lambda item: (item[1], item[0]))
    expired = [event_id for event_id, at in oldest_first if at < now_ms - DONE_RETENTION_MS]
    live = [event_id for event_id, at in oldest_first if at >= now_ms - DONE_RETENTION_MS]
    over = max(0, len(live) + adding - MAX_DONE)
    return expired + live[:over]


def claims_to_drop(seen: ClientState, now_ms: int) -> list[str]:
    """Claims abandoned for longer than :data:`DONE_RETENTION_MS` (a message that died and
    was never replayed); the events could no longer be sent anyway."""
    return [
        event_id
        for event_id, claim in seen.claims.items()
        if claim.lease_until < now_ms - DONE_RETENTION_MS
    ]
