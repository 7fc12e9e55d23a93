"""The audit trail: one structured log line per consent decision, no raw identifiers."""

from __future__ import annotations

from loyjoy_relay.consent.decision import Decision
from loyjoy_relay.consent.rules import ConsentRules
from loyjoy_relay.events import LoyJoyEvent
from loyjoy_relay.logs import JsonLogger, pseudonym


def audit_decision(
    logger: JsonLogger, rules: ConsentRules, event: LoyJoyEvent, decision: Decision
) -> None:
    """Log a decision: event id, client pseudonym, bot, event name, outcome, rules version."""
    logger.info(
        "consent decision",
        event_id=event.event_id,
        client=pseudonym(event.client_id),
        bot_id=event.bot_id,
        evt=event.evt,
        decision=decision.action,
        state=decision.state,
        reason=decision.reason,
        rules_version=rules.rules_version,
    )
