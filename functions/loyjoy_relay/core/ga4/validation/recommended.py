"""ENFORCE_RECOMMENDATIONS checks of documented parameters: required ones, types, currency.

Pure. The tables are in :mod:`loyjoy_relay.core.ga4.recommended`. The line between an
error and a warning follows the documentation:

- what an event's table marks **Yes** is required: missing is an error (``search`` without
  ``search_term``), and so is an empty ``items`` where items are required (Event Builder,
  ``handlers/formatCheckLib.ts``: "'items' should not be empty");
- ``currency is required if you set value``: an error where the event lists ``currency``;
- ``value is typically required for meaningful reporting``: a warning;
- a parameter the event's table lists with another type, or a malformed ``currency``: an
  error, since GA4 "rejects event and item params with the wrong type" under
  ENFORCE_RECOMMENDATIONS (reference#payload_post_body). The same names on an event whose
  table does not list them (a custom event) only warn: Google's Event Builder checks them
  there too, but no document says GA4 refuses them.

Every message about an event has a field path under ``events[N]``, so the planner sets
aside that event alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from loyjoy_relay.core.ga4.currencies import currency_problem
from loyjoy_relay.core.ga4.recommended import (
    ITEM_PARAM_TYPES,
    PARAM_TYPES,
    RECOMMENDED_EVENTS,
    ParamType,
    type_matches,
)
from loyjoy_relay.core.ga4.validation.report import Report


def _checked_type(value: Any) -> bool:
    """Scalars only: other values already fail the general "string or number" rule."""
    return isinstance(value, str | int | float)


def check_event_params(report: Report, name: str, params: dict[str, Any], path: str) -> None:
    """The documented-parameter rules for event ``name`` whose ``params`` are at ``path``."""
    event = RECOMMENDED_EVENTS.get(name)
    listed = event.params if event is not None else frozenset()
    where = f"(events reference: {event.source})" if event is not None else "(custom event)"
    for missing in sorted(event.required.difference(params)) if event else []:
        report.add(
            f"{path}.{missing}",
            f"Event [{name}] requires param [{missing}] {where}.",
            "VALUE_REQUIRED",
            enforce_only=True,
        )
    _check_types(report, params, path, PARAM_TYPES, listed, where)
    _check_currency(report, params.get("currency"), f"{path}.currency", "currency" in listed)
    if "value" in params and "currency" not in params:
        text = f"Param [currency] is required when [value] is set {where}."
        if event is None:
            report.warn(f"{path}.currency", text, "VALUE_REQUIRED")
        elif "currency" in listed:
            report.add(f"{path}.currency", text, "VALUE_REQUIRED", enforce_only=True)
    if event is not None and event.value_recommended and "value" not in params:
        report.warn(
            f"{path}.value",
            f"Event [{name}] has no [value] (with [currency]); GA4 says it is typically "
            f"required for meaningful reporting {where}.",
            "VALUE_REQUIRED",
        )
    items = params.get("items")
    if event is not None and isinstance(items, list):
        if not items and "items" in event.required:
            report.add(
                f"{path}.items",
                f"Event [{name}] requires at least one item {where}.",
                "VALUE_REQUIRED",
                enforce_only=True,
            )
        if event.single_item and len(items) > 1:
            report.warn(
                f"{path}.items",
                f"Event [{name}] has {len(items)} items; GA4 uses only the first {where}.",
                "EXCEEDED_MAX_ENTITIES",
            )


def check_item_params(
    report: Report, item: dict[str, Any], path: str, *, event_lists_items: bool
) -> None:
    """The documented item parameters' types and currency, for one item at ``path``."""
    listed = frozenset(ITEM_PARAM_TYPES) if event_lists_items else frozenset()
    where = "(events reference: item parameters)"
    _check_types(report, item, path, ITEM_PARAM_TYPES, listed, where)
    _check_currency(report, item.get("currency"), f"{path}.currency", event_lists_items)


def _check_types(
    report: Report,
    params: dict[str, Any],
    path: str,
    types: Mapping[str, ParamType],
    listed: frozenset[str],
    where: str,
) -> None:
    for name, value in params.items():
        expected = types.get(name)
        if expected is None or not _checked_type(value) or type_matches(value, expected):
            continue
        report.add_or_warn(
            f"{path}.{name}",
            f"Param [{name}] must be a {expected} {where}.",
            "VALUE_INVALID",
            refuse=name in listed,
        )


def _check_currency(report: Report, value: Any, path: str, listed: bool) -> None:
    if not isinstance(value, str):
        return
    problem = currency_problem(value)
    if problem is not None:
        refused, reason = problem
        report.add_or_warn(path, reason, "VALUE_INVALID", refuse=refused and listed)
