"""A client's profiling consent history: its records and how two histories merge.

Pure. The client ledger (:mod:`loyjoy_relay.adapters.firestore_ledger`, and its fake)
stores these; the decision core (:mod:`loyjoy_relay.core.consent.decision`) reads them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

Kind = Literal["grant", "revoke"]

# How many decisions a client's history keeps. A visitor rarely changes their mind more
# than a few times; 100 covers any real history while keeping a ledger document small.
HISTORY_LIMIT = 100


@dataclass(frozen=True, slots=True, order=True)
class ConsentRecord:
    """One profiling decision: when (ms, corrected clock), grant or revoke, for which bot.

    ``source`` says where it was learnt and makes recording idempotent: the event id of a
    grant/revoke event, or ``stamp:<event id>`` for the stamp an event carried. ``evt`` is
    the LoyJoy event that made the decision; a grant counts only while its ``evt`` is in
    the bot's grant list (:func:`~loyjoy_relay.core.consent.decision.effective_state`), so
    a grant recorded before records named their event (``evt`` None) grants nothing.
    """

    at: int
    kind: Kind
    bot_id: str
    source: str
    evt: str | None = None

    def as_json(self) -> dict[str, Any]:
        """The stored shape: ``{"at", "kind", "bot_id", "source"}`` and ``evt`` when known."""
        stored: dict[str, Any] = {
            "at": self.at,
            "kind": self.kind,
            "bot_id": self.bot_id,
            "source": self.source,
        }
        if self.evt is not None:
            stored["evt"] = self.evt
        return stored

    @classmethod
    def from_json(cls, value: Any) -> ConsentRecord:
        """A record from its stored shape; anything else raises ValueError."""
        if not isinstance(value, dict):
            raise ValueError("a consent record must be a mapping")
        at, kind, bot_id, source = (value.get(k) for k in ("at", "kind", "bot_id", "source"))
        evt = value.get("evt")
        if isinstance(at, bool) or not isinstance(at, int) or at < 0:
            raise ValueError("consent record: 'at' must be milliseconds")
        if kind not in ("grant", "revoke"):
            raise ValueError("consent record: 'kind' must be grant or revoke")
        if not isinstance(bot_id, str) or not isinstance(source, str):
            raise ValueError("consent record: 'bot_id' and 'source' must be strings")
        if evt is not None and not isinstance(evt, str):
            raise ValueError("consent record: 'evt' must be an event name")
        return cls(at, kind, bot_id, source, evt)


def precedence(record: ConsentRecord) -> tuple[int, int]:
    """The order in which decisions supersede each other: the later one wins, and at equal
    times a revocation wins over a grant. The one place this rule is written."""
    return record.at, 1 if record.kind == "revoke" else 0


def merge_history(
    known: Iterable[ConsentRecord],
    new: Iterable[ConsentRecord],
    limit: int | None = HISTORY_LIMIT,
) -> list[ConsentRecord]:
    """``known`` plus the records of ``new`` not yet in it, oldest first, bounded.

    A record is already known when its source is, or when the same decision (time, kind,
    bot, and for a grant the event that made it) is: a grant that names its event is never
    lost to one that does not. Beyond ``limit`` (None: no bound) the oldest are dropped,
    except each bot's latest revocation.
    """
    merged: list[ConsentRecord] = []
    sources: set[str] = set()
    decisions: set[tuple[int, str, str, str | None]] = set()
    for record in (*known, *new):
        decision = (
            record.at,
            record.kind,
            record.bot_id,
            record.evt if record.kind == "grant" else None,
        )
        if record.source in sources or decision in decisions:
            continue
        sources.add(record.source)
        decisions.add(decision)
        merged.append(record)
    merged.sort(key=precedence)
    if limit is None or len(merged) <= limit:
        return merged
    latest_revocations = {
        record.bot_id: record for record in merged if record.kind == "revoke"
    }.values()
    kept = set(merged[-limit:]) | set(latest_revocations)
    return [record for record in merged if record in kept]
