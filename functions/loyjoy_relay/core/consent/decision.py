"""The consent decision for one event: forward, anonymize or drop, and why.

Pure. Implements DESIGN.md "Consent semantics": ``never`` first, then
``anonymous_always``, then the effective state, which is the latest profiling decision at
or before the event's time taken from the event itself and the client's history (which
holds the decisions and consent stamps of every event seen; see
:func:`records_from_event`); on equal times a revocation
wins (:func:`~loyjoy_relay.core.consent.history.precedence`); with none, the bot's
``default``. A grant counts only for the bot it was given in, and only while the event
that made it is in that bot's grant list; a revocation counts for every bot of the
client, whatever made it. A consent stamp can therefore deny on its own word, but grant
only by naming an event the bot grants by; a granted stamp naming another event decides
its own event as revoked at its time (:func:`doubt_from_stamp`). The site's own banner
(:mod:`~loyjoy_relay.core.consent.site`) can then only make the outcome stricter. Every
function takes the event's :class:`BotPolicy`, resolved once by the caller.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from loyjoy_relay.core.consent.history import ConsentRecord, Kind, precedence
from loyjoy_relay.core.consent.rules import Action, BotPolicy, State
from loyjoy_relay.core.consent.site import site_verdict, stricter
from loyjoy_relay.core.events import LoyJoyEvent

# What a decision rests on: the ``never`` or ``anonymous_always`` list, the profiling state
# (``granted``/``denied`` by a decision, or the bot's ``default`` with none), or the site's
# banner denying analytics (``site``). A short fixed set, unlike the reason (which names
# times): log-based metrics label by it.
Rule = Literal["never", "anonymous_always", "default", "granted", "denied", "site"]
NO_DECISION = "no profiling decision at or before the event"


@dataclass(frozen=True, slots=True)
class Decision:
    """What happens to one event, why, and the client's effective state (profiling, made
    ``denied`` by a site's analytics denial); the Consent Mode signals the site denies."""

    action: Action
    reason: str
    state: State
    site_denied: frozenset[str] = frozenset()
    rule: Rule = "default"


def records_from_event(policy: BotPolicy, event: LoyJoyEvent) -> list[ConsentRecord]:
    """The consent records an event contributes to its client's history.

    Its own decision when it is a grant or revoke event of its bot's rules (at its time),
    and the decision its consent stamp carries (at the stamp's time): a ``denied`` stamp
    always, a ``granted`` one only when the event it names is in the bot's grant list (a
    stamp without ``evt``, or naming another event, grants nothing and is not recorded).
    """
    records = []
    if event.evt in policy.revoke:
        records.append(ConsentRecord(event.ts, "revoke", event.bot_id, event.event_id, event.evt))
    elif event.evt in policy.grant:
        records.append(ConsentRecord(event.ts, "grant", event.bot_id, event.event_id, event.evt))
    stamp = event.consent
    if stamp is not None:
        kind: Kind = "grant" if stamp.profiling == "granted" else "revoke"
        if kind == "revoke" or stamp.evt in policy.grant:
            source = f"stamp:{event.event_id}"
            # only a name of the bot's lists is kept: a stamp's evt is the browser's text
            named = stamp.evt if stamp.evt in policy.grant | policy.revoke else None
            records.append(ConsentRecord(stamp.at, kind, event.bot_id, source, named))
    return records


def grants(policy: BotPolicy, record: ConsentRecord) -> bool:
    """True when ``record`` is a grant the bot's rules accept: made by an event in its grant
    list (rules that stop granting by an event stop honouring its recorded grants)."""
    return record.kind == "grant" and record.evt in policy.grant


def doubt_from_stamp(policy: BotPolicy, event: LoyJoyEvent) -> list[ConsentRecord]:
    """A revocation, for this one event, at the time of a ``granted`` stamp that names no
    event of the bot's grant list.

    A stamp is the later of the bot's last decision and the client's last revocation in
    any bot; an opt-in the rules do not grant by therefore hides whether a revocation came
    before it. Not knowing, the event is decided as revoked at the stamp's time (a
    decision known to come later still counts). Never recorded in the ledger.
    """
    stamp = event.consent
    if stamp is None or stamp.profiling != "granted" or stamp.evt in policy.grant:
        return []
    return [ConsentRecord(stamp.at, "revoke", event.bot_id, f"doubt:{event.event_id}")]


def _describe(record: ConsentRecord, event: LoyJoyEvent) -> str:
    if record.source == event.event_id:
        origin = f"this {event.evt} event"
    elif record.source == f"stamp:{event.event_id}":
        origin = "this event's consent stamp"
    elif record.source == f"doubt:{event.event_id}":
        origin = (
            "this event's consent stamp, which names no event this bot grants by "
            "(it may hide an earlier revocation)"
        )
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
        if record.kind == "grant" and (record.bot_id != event.bot_id or not grants(policy, record)):
            # consent given in one bot's chat is not consent for another's, and a grant
            # counts only by an event this bot's rules grant by
            continue
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
    known = (*records_from_event(policy, event), *doubt_from_stamp(policy, event), *history)
    profiling, why = effective_state(policy, event, known)
    site = site_verdict(policy, event)
    state: State = "denied" if site.denies_analytics else profiling
    banner = f"; {site.note}" if site.note else ""
    if event.evt in policy.never:
        return Decision("drop", f"never: {event.evt} is never sent{banner}", state, rule="never")
    if event.evt in policy.anonymous_always:
        reason = f"anonymous_always: {event.evt} is always anonymized{banner}"
        return Decision("anonymize", reason, state, site.denied_signals, "anonymous_always")
    action = policy.granted if profiling == "granted" else policy.denied
    rule: Rule = "default" if why.startswith(NO_DECISION) else profiling
    if site.denies_analytics:
        # never wider than the profiling state alone gives, whatever the rules say
        action = stricter(action, policy.denied)
        rule = "site"
    reason = f"{why}{banner}; {state}: {action}"
    return Decision(action, reason, state, site.denied_signals, rule)
