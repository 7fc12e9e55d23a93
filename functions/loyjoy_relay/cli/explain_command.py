"""``loyjoy-relay explain --rules FILE EVENTS.jsonl``: what the relay would do, event by event.

Prints one JSON line per event (``service.explain``), planned exactly as the relay plans.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from loyjoy_relay.adapters.client_ids import random_client_id
from loyjoy_relay.adapters.mapping_file import load_mapping
from loyjoy_relay.adapters.rules_file import load_rules
from loyjoy_relay.config import mapping_path
from loyjoy_relay.core.events import events_for_explain
from loyjoy_relay.core.ga4.routing import Ga4Property, SecretRef
from loyjoy_relay.core.planner import Planner
from loyjoy_relay.errors import InvalidInput
from loyjoy_relay.service.explain import explain_events

# explain sends nothing: the default property only names where the events would go.
PREVIEW_PROPERTY = Ga4Property("G-PREVIEW", SecretRef("value", ""))


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
    planner = Planner(rules, mapping, PREVIEW_PROPERTY)
    for line in explain_events(planner, events, new_client_id=random_client_id):
        print(line)
    return 0
