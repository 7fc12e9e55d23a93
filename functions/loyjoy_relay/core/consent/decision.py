"""The consent decision for one event: forward, anonymize or drop, and why.

Pure. Implements DESIGN.md "Consent semantics": ``never`` first, then
``anonymous_always``, then the effective state, which is the latest profiling decision at
or before the event's time taken from the event itself and the client's history (which
holds the decisions and consent stamps of every event seen; see
:func:`records_from_event`); on equal times a revocation
wins (:func:`~loyjoy_relay.core.consent.history.precedence`); with none, the bot's
``default``. A grant counts only for the bot it was given in, a revocation for every bot
of the client. Every function takes the event's :class:`BotPolicy`, resolved once by the
caller.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from loyjoy_relay.core.consent.history import ConsentRecord, Kind, precedence
from loyjoy_relay.core.consent.rules import Action, BotPolicy, State
from loyjoy_relay.core.events import LoyJoyEvent

# What a decision rests on: the ``never`` or ``anonymous_always`` list, or the effective
# state (``granted``/``denied`` by a decision, or the bot's ``default`` with none). A short
# fixed set, unlike the reason (which names times): log-based metrics label by it.
Rule = Literal["never", "anonymous_always", "default", "granted", "denied"]
NO_DECISION = "no profiling decision at or before the event"


@dataclass(frozen=True, slots=True)
class Decision:
    """What happens to one event, why, and the client's effective profiling state."""

    action: Action
    reason: str
    state: State
    rule: Rule = "default"


def records_from_event(policy: BotPolicy, event: LoyJoyEvent) -> list[ConsentRecord]:
    """The consent records an event contributes to its client's history.

    Its own decision when it is a grant or revoke event of its bot's rules (at its time),
    and the decision its consent stamp carries (at the stamp's time).
    """
    records = []
    if event.evt in policy.revoke:
        records.append(ConsentRecord(event.ts, "revoke", event.bot_id, event.event_id))
    elif event.evt in policy.grant:
        records.append(ConsentRecord(event.ts, "grant", event.bot_id, event.event_id))
    if event.consent is not None:
        kind: Kind = "grant" if event.consent.profiling == "granted" else "revoke"
        source = f"stamp:{event.event_id}"
        records.append(ConsentRecord(event.consent.at, kind, event.bot_id, source))
    return records


def _describe(record: ConsentRecord, event: LoyJoyEvent) -> str:
    if record.source == event.event_id:
        origin = f"this {event.evt} event"
    elif record.source == f"stamp:{event.event_id}":
        origin = "this event's consent stamp"
    else:
        origin = "the client's consent history"
    return f"{record.kind} at {record.at} from {origin}"


def effective_state(
    policy: BotPolicy, event: LoyJoyEvent, history: Iterable[ConsentRecord]
) -> tuple[State, str]:
    """The client's profiling state at the event's time, and a sentence saying why."""
    latest: ConsentRecord | None = None
    for record in history:
        if record.at > event.ts:
            continue
        if record.kind == "grant" and record.bot_id != event.bot_id:
            continue  # consent given in one bot's chat is not consent for another's
        if latest is None or precedence(record) > precedence(latest):
            latest = record
    if latest is None:
        return (
            policy.default,
            f"{NO_DECISION}: default {policy.default}",
        )
    state: State = "granted" if latest.kind == "grant" else "denied"
    return state, f"{state} by the {_describe(latest, event)}"


def decide(policy: BotPolicy, event: LoyJoyEvent, history: Iterable[ConsentRecord]) -> Decision:
    """Forward, anonymize or drop ``event``, given its client's known history.

    The event's own records (:func:`records_from_event`) count whether or not ``history``
    holds them already; the planner merges a whole message's records into the history
    before deciding any of its events.
    """
    state, why = effective_state(policy, event, (*records_from_event(policy, event), *history))
    if event.evt in policy.never:
        return Decision("drop", f"never: {event.evt} is never sent", state, "never")
    if event.evt in policy.anonymous_always:
        reason = f"anonymous_always: {event.evt} is always anonymized"
        return Decision("anonymize", reason, state, "anonymous_always")
    action = policy.granted if state == "granted" else policy.denied
    rule: Rule = "default" if why.startswith(NO_DECISION) else state
    return Decision(action, f"{why}; {state}: {action}", state, rule)
