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

from loyjoy_relay.config import mapping_path
from loyjoy_relay.consent.decision import Decision, decide, records_from_event
from loyjoy_relay.consent.ledger import InMemoryConsentLedger
from loyjoy_relay.consent.rules import ConsentRules
from loyjoy_relay.consent.rules_file import load_rules
from loyjoy_relay.errors import Ga4Rejected, InvalidInput
from loyjoy_relay.events import LoyJoyEvent, events_for_explain
from loyjoy_relay.ga4.batching import build_requests
from loyjoy_relay.ga4.mapping import Ga4Mapping
from loyjoy_relay.ga4.mapping_file import load_mapping
from loyjoy_relay.outgoing import prepare


def register(subparsers: Any) -> None:
    """Add ``explain``."""
    explain = subparsers.add_parser("explain", help="show the consent decision for each event")
    explain.add_argument("--rules", type=Path, required=True, help="the consent rules file")
    explain.add_argument(
        "--mapping",
        type=Path,
        default=None,
        help="the GA4 mapping file (default: GA4_MAPPING or the shipped infra/ga4-mapping.yaml)",
    )
    explain.add_argument("events", type=Path, help="events, one contract JSON object a line")
    explain.set_defaults(handler=run)


def _ga4_body(
    rules: ConsentRules, mapping: Ga4Mapping, decision: Decision, event: LoyJoyEvent
) -> tuple[dict[str, Any] | None, str | None]:
    """The MP body the relay would send for the event, or why it would not be sent.

    The event is taken as arriving when it happened, so an old sample export still shows
    its body; the relay itself refuses events past GA4's 72-hour window.
    """
    try:
        identity, ga4_event = prepare(rules, mapping, decision, event, now_ms=event.ts)
        [body] = build_requests(identity, [ga4_event])
    except Ga4Rejected as error:
        return None, error.reason
    return body, None


def run(args: argparse.Namespace) -> int:
    """Print one JSON line per event; exit 2 when the rules or an event line are invalid."""
    rules = load_rules(args.rules)
    mapping = load_mapping(args.mapping or mapping_path())
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
        ga4, problem = None, None
        if decision.action != "drop":
            ga4, problem = _ga4_body(rules, mapping, decision, event)
        line: dict[str, Any] = {
            "index": index,
            "event_id": event.event_id,
            "evt": event.evt,
            "decision": decision.action,
            "reason": decision.reason,
            "ga4": ga4,
        }
        if problem is not None:
            line["reason"] = f"{decision.reason}; but GA4 would refuse it: {problem}"
        print(json.dumps(line, separators=(",", ":")))
    return 0
