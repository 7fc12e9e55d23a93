"""The relay's one log line per message: its counts, and every consent decision compactly.

The privacy team's audit trail is every decision with its event id, outcome, reason and
rules version. Logged one line per event, that was most of the relay's log volume (and
Cloud Logging bills by the byte), so each message now logs a single ``relay message``
line holding all of its decisions, with nothing repeated per event that is the same for
many:

- ``event_ids`` and ``evts``: the message's decided events, in order; everything below
  names an event by its position in these lists;
- ``bot_ids``: the bots of those events; a decision names its bot by position here;
- ``decisions``: one entry per distinct decision, ``{"decision", "state", "rule",
  "reason", "bot", "events": [positions]}``; ``rule`` is what the decision rests on
  (``never``, ``anonymous_always``, ``default``, ``granted`` or ``denied``);
- ``ga4_requests``: per GA4 property, the MP requests it accepted, each as the positions
  of the events it carried, and the attempts each took:
  ``[{"measurement_id", "requests": [[positions], ...], "attempts": [1, ...]}]``;

beside ``client`` (a pseudonym), ``rules_version`` and the counts the log-based metrics
read (``terraform/monitoring.tf``). ``decisions_in`` turns a line back into one record
per event, for the live view, tests and anyone reading the trail; in Cloud Logging,
``jsonPayload.event_ids:"<event id>"`` finds the line of an event.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from loyjoy_relay.core.planner import EventOutcome


@dataclass(frozen=True, slots=True)
class SentRequest:
    """An MP request GA4 accepted: where to, with which events, after how many attempts."""

    measurement_id: str
    event_ids: tuple[str, ...]
    attempts: int = 1


def audit_fields(outcomes: Sequence[EventOutcome], sent: Iterable[SentRequest]) -> dict[str, Any]:
    """The line's ``event_ids``, ``evts``, ``bot_ids``, ``decisions`` and ``ga4_requests``."""
    position = {outcome.event_id: index for index, outcome in enumerate(outcomes)}
    bots = {bot_id: index for index, bot_id in enumerate(dict.fromkeys(o.bot_id for o in outcomes))}
    groups: dict[tuple[str, ...], dict[str, Any]] = {}
    for index, outcome in enumerate(outcomes):
        key = (outcome.action, outcome.state, outcome.rule, outcome.reason, outcome.bot_id)
        group = groups.get(key)
        if group is None:
            group = groups[key] = {
                "decision": outcome.action,
                "state": outcome.state,
                "rule": outcome.rule,
                "reason": outcome.reason,
                "bot": bots[outcome.bot_id],
                "events": [],
            }
        group["events"].append(index)
    by_property: dict[str, dict[str, list[Any]]] = {}
    for request in sent:
        carried = [position[event_id] for event_id in request.event_ids]
        entry = by_property.setdefault(request.measurement_id, {"requests": [], "attempts": []})
        entry["requests"].append(carried)
        entry["attempts"].append(request.attempts)
    return {
        "event_ids": [outcome.event_id for outcome in outcomes],
        "evts": [outcome.evt for outcome in outcomes],
        "bot_ids": list(bots),
        "decisions": list(groups.values()),
        "ga4_requests": [
            {"measurement_id": measurement_id, **entry}
            for measurement_id, entry in by_property.items()
        ],
    }


def decisions_in(record: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One dict per decided event of a ``relay message`` line, in the message's order.

    Each: ``event_id``, ``evt``, ``bot_id``, ``decision``, ``state``, ``rule``, ``reason``,
    ``rules_version``, ``client``, ``ga4_request``: which of the line's MP requests
    carried the event (numbered from 0 in the order they are listed), or None, and
    ``ga4_attempts``: the attempts that request took (or None).
    """
    event_ids = list(record.get("event_ids") or [])
    evts = list(record.get("evts") or [])
    bot_ids = list(record.get("bot_ids") or [])
    carried: dict[int, int] = {}
    attempts: list[int | None] = []
    for destination in record.get("ga4_requests") or []:
        tries = list(destination.get("attempts") or [])
        for order, request in enumerate(destination.get("requests", [])):
            for index in request:
                carried[index] = len(attempts)
            attempts.append(tries[order] if order < len(tries) else None)
    found: dict[int, dict[str, Any]] = {}
    for group in record.get("decisions") or []:
        bot = group.get("bot")
        for index in group.get("events", []):
            if not 0 <= index < len(event_ids):
                continue
            found[index] = {
                "event_id": event_ids[index],
                "evt": evts[index] if index < len(evts) else None,
                "bot_id": bot_ids[bot]
                if isinstance(bot, int) and 0 <= bot < len(bot_ids)
                else None,
                "decision": group.get("decision"),
                "state": group.get("state"),
                "rule": group.get("rule"),
                "reason": group.get("reason"),
                "rules_version": record.get("rules_version"),
                "client": record.get("client"),
                "ga4_request": carried.get(index),
                "ga4_attempts": attempts[carried[index]] if index in carried else None,
            }
    return [found[index] for index in sorted(found)]
