"""``loyjoy-relay explain --rules FILE EVENTS.jsonl``: what the relay would do, event by event.

Events are processed in file order as the relay would, with an in-memory consent ledger;
each line printed is ``{"index", "event_id", "evt", "decision", "reason", "ga4"}``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from loyjoy_relay.consent.decision import Decision, decide, records_from_event
from loyjoy_relay.consent.ledger import InMemoryConsentLedger
from loyjoy_relay.consent.privacy import identity_for, outgoing_event
from loyjoy_relay.consent.rules_file import load_rules
from loyjoy_relay.errors import InvalidInput
from loyjoy_relay.events import LoyJoyEvent, events_for_explain
from loyjoy_relay.ga4.model import Ga4Event, Ga4Identity

# The contract fields that become GA4 params under the identity mapping.
_PARAM_FIELDS = (
    "process_id",
    "process_name",
    "sub_process_id",
    "sub_process_name",
    "label",
    "url",
    "session_id",
    "page_location",
    "page_title",
    "page_referrer",
    "language",
)


def register(subparsers: Any) -> None:
    """Add ``explain``."""
    explain = subparsers.add_parser("explain", help="show the consent decision for each event")
    explain.add_argument("--rules", type=Path, required=True, help="the consent rules file")
    explain.add_argument("events", type=Path, help="events, one contract JSON object a line")
    explain.set_defaults(handler=run)


def _ga4_body(identity: Ga4Identity, event: LoyJoyEvent, decision: Decision) -> dict[str, Any]:
    """The MP body for one event: the identity mapping, until the GA4 mapping replaces it."""
    params = {name: getattr(event, name) for name in _PARAM_FIELDS if getattr(event, name)}
    mapped = Ga4Event(
        name=event.evt,
        params=params,
        timestamp_micros=event.ts * 1000,
        source_event_id=event.event_id,
        bot_id=event.bot_id,
    )
    sent = outgoing_event(decision, mapped)
    body: dict[str, Any] = {"client_id": identity.client_id}
    if identity.user_id is not None:
        body["user_id"] = identity.user_id
    body["timestamp_micros"] = sent.timestamp_micros
    body["consent"] = {
        "ad_user_data": identity.ad_user_data,
        "ad_personalization": identity.ad_personalization,
    }
    body["events"] = [
        {"name": sent.name, "params": sent.params, "timestamp_micros": sent.timestamp_micros}
    ]
    return body


def run(args: argparse.Namespace) -> int:
    """Print one JSON line per event; exit 2 when the rules or an event line are invalid."""
    rules = load_rules(args.rules)
    try:
        with args.events.open(encoding="utf-8") as lines:
            events = events_for_explain(lines)
    except OSError as error:
        print(f"{args.events}: cannot be read: {error}", file=sys.stderr)
        return 2
    except InvalidInput as error:
        print(f"{args.events}: {error.reason}", file=sys.stderr)
        return 2
    ledger = InMemoryConsentLedger()
    for index, event in enumerate(events):
        history = ledger.record(event.client_id, records_from_event(rules, event))
        decision = decide(rules, event, history)
        ga4 = None
        if decision.action != "drop":
            ga4 = _ga4_body(identity_for(decision, event, rules), event, decision)
        line = {
            "index": index,
            "event_id": event.event_id,
            "evt": event.evt,
            "decision": decision.action,
            "reason": decision.reason,
            "ga4": ga4,
        }
        print(json.dumps(line, separators=(",", ":")))
    return 0
