"""Shared builders for the consent tests: rules from YAML text and contract events."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import yaml
from loyjoy_relay.adapters.rules_file import parse_rules
from loyjoy_relay.core.consent.rules import ConsentRules
from loyjoy_relay.core.events import LoyJoyEvent
from loyjoy_relay.devstack.event_factory import contract_event

ROOT = Path(__file__).resolve().parents[2]
SHIPPED_RULES = ROOT / "infra" / "consent-rules.yaml"
BOT = "bot-a"
OTHER_BOT = "bot-b"
CLIENT = "1234567890.1700000000"
T0 = 1_732_450_000_000
_ids = itertools.count(1)


def shipped_rules(**changes: Any) -> ConsentRules:
    """The shipped rules file with top-level keys replaced by ``changes``."""
    data = yaml.safe_load(SHIPPED_RULES.read_text())
    data.update(changes)
    return parse_rules(yaml.safe_dump(data))


# The event a stamp names when a test does not say: what the listener would stamp.
STAMP_EVENTS = {"granted": "profiling_single_opt_in", "denied": "profiling_opt_out"}
NO_EVT = ""  # a stamp's third item: no ``evt`` at all (as stored by older listeners)


def event(
    evt: str = "start",
    at: int = 0,
    *,
    stamp: tuple[str, int] | tuple[str, int, str] | None = None,
    bot: str = BOT,
    **fields: Any,
) -> LoyJoyEvent:
    """A contract event at ``T0 + at`` ms; ``stamp`` is (granted|denied, ms after T0) and
    optionally the event it names (default: the listener's own; ``NO_EVT``: none)."""
    consent = None
    if stamp is not None:
        named = stamp[2] if len(stamp) == 3 else STAMP_EVENTS[stamp[0]]
        consent = {"profiling": stamp[0], "at": T0 + stamp[1]}
        if named:
            consent["evt"] = named
    defaults: dict[str, Any] = {
        "bot_id": bot,
        "client_id": CLIENT,
        "event_id": f"00000000-0000-4000-8000-{next(_ids):012d}",
        "ts": T0 + at,
        "process_id": None,
        "process_name": None,
        "page_location": None,
        "consent": consent,
    }
    data = contract_event(evt, **{**defaults, **fields})
    return LoyJoyEvent.model_validate(data)
