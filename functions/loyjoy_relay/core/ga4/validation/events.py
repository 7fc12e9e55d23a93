"""The per-event half of MP validation: events, params, items, user properties, timestamps.

Pure. Messages are collected in a :class:`~loyjoy_relay.core.ga4.validation.report.Report`;
``enforce_only`` marks what GA4 reports only under ``ENFORCE_RECOMMENDATIONS``. Sources are
named as in :mod:`~loyjoy_relay.core.ga4.validation.body`; the limits themselves, with
theirs, are in :mod:`~loyjoy_relay.core.ga4.limits`. Recommended events' parameters are
checked by :mod:`~loyjoy_relay.core.ga4.validation.recommended`.
"""

from __future__ import annotations

from typing import Any

from loyjoy_relay.core.ga4 import limits
from loyjoy_relay.core.ga4.recommended import PARAM_TYPES, RECOMMENDED_EVENTS
from loyjoy_relay.core.ga4.validation.recommended import check_event_params, check_item_params
from loyjoy_relay.core.ga4.validation.report import Report

# reference: an event is {name, params, timestamp_micros}; a user property is
# {value, timestamp_micros} (Event Builder schemas/userProperties.ts, additionalProperties).
_EVENT_FIELDS = frozenset({"name", "params", "timestamp_micros"})
_USER_PROPERTY_FIELDS = frozenset({"value", "timestamp_micros"})


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _boolean(event: str, param: str) -> bool:
    """True for a param the event's table documents as a boolean (events#level_end)."""
    recommended = RECOMMENDED_EVENTS.get(event)
    listed = recommended is not None and param in recommended.params
    return listed and PARAM_TYPES.get(param) == "boolean"


class EventChecker:
    """Checks events, their params and items, user properties and timestamps."""

    def __init__(self, report: Report, *, now_micros: int) -> None:
        self.report = report
        self.now_micros = now_micros

    def timestamp(self, value: Any, path: str) -> None:
        """A ``timestamp_micros``: a number, and (ENFORCE) within the last 72 hours."""
        if value is None:
            return
        # reference: timestamp_micros is a number; sending-events: ENFORCE_RECOMMENDATIONS
        # rejects events and user properties outside the last 72 hours (RELAXED clamps).
        if not _is_number(value):
            self.report.add(path, "timestamp_micros must be a number.", "VALUE_INVALID")
            return
        if value < self.now_micros - limits.MAX_AGE_MICROS:
            self.report.add(
                path,
                f"Measurement timestamp_micros has timestamp [{value}] that is more than "
                "72 hours in the past.",
                "VALUE_INVALID",
                enforce_only=True,
            )
        elif value > self.now_micros + limits.MAX_FUTURE_MICROS:
            self.report.add(
                path,
                f"Measurement timestamp_micros has timestamp [{value}] in the future.",
                "VALUE_INVALID",
                enforce_only=True,
            )

    def user_properties(self, value: Any) -> None:
        """``user_properties``: at most 25, valid names, ``{"value": ...}`` objects."""
        if value is None:
            return
        if not isinstance(value, dict):
            self.report.add(
                "user_properties", "user_properties must be an object.", "VALUE_INVALID"
            )
            return
        self.report.duplicates(value, "user_properties")
        # sending-events, Limitations, and Event Builder schemas/userProperties.ts.
        if len(value) > limits.MAX_USER_PROPERTIES:
            self.report.add(
                "user_properties",
                f"Request has {len(value)} user properties; the limit is "
                f"{limits.MAX_USER_PROPERTIES}.",
                "EXCEEDED_MAX_ENTITIES",
                enforce_only=True,
            )
        for name, prop in value.items():
            path = f"user_properties.{name}"
            problem = limits.user_property_name_problem(name)
            if problem is not None:
                code, reason = problem
                self.report.add(
                    path,
                    f"User property [{name}] has an invalid name. {reason}",
                    code,
                    enforce_only=True,
                )
            if not isinstance(prop, dict):
                self.report.add(path, "A user property must be an object.", "VALUE_INVALID")
                continue
            self.report.duplicates(prop, path)
            self.report.unknown_fields(prop, _USER_PROPERTY_FIELDS, path)
            self.timestamp(prop.get("timestamp_micros"), f"{path}.timestamp_micros")
            self._user_property_value(prop.get("value"), f"{path}.value")

    def _user_property_value(self, value: Any, path: str) -> None:
        # Event Builder userProperties.ts: "value" required, at most 36 characters.
        if value is None:
            self.report.add(path, "A user property needs a value.", "VALUE_REQUIRED")
        elif isinstance(value, str):
            if len(value) > limits.MAX_USER_PROPERTY_VALUE_LENGTH:
                self.report.add(
                    path,
                    f"Value is {len(value)} characters; the limit is "
                    f"{limits.MAX_USER_PROPERTY_VALUE_LENGTH}.",
                    "VALUE_OUT_OF_BOUNDS",
                    enforce_only=True,
                )
        elif not _is_number(value):
            self.report.add(
                path, "Value is not a string or number.", "VALUE_INVALID", enforce_only=True
            )

    def events(self, value: Any, *, web_stream: bool) -> None:
        """``events``: 1 to 25 objects with a valid ``name``, params and timestamp."""
        # reference: events is required; sending-events: at most 25 per request (Event
        # Builder schemas/events.ts: minItems 1, maxItems 25).
        if value is None or value == []:
            self.report.add("events", "A request needs at least one event.", "VALUE_REQUIRED")
            return
        if not isinstance(value, list):
            self.report.add("events", "events must be an array.", "VALUE_INVALID")
            return
        if len(value) > limits.MAX_EVENTS_PER_REQUEST:
            self.report.add(
                "events",
                f"Request has {len(value)} events; the limit is {limits.MAX_EVENTS_PER_REQUEST}.",
                "EXCEEDED_MAX_ENTITIES",
            )
        for index, event in enumerate(value):
            self._event(index, event, web_stream=web_stream)

    def _event(self, index: int, event: Any, *, web_stream: bool) -> None:
        path = f"events[{index}]"
        if not isinstance(event, dict):
            self.report.add(path, "An event must be an object.", "VALUE_INVALID")
            return
        self.report.duplicates(event, path)
        self.report.unknown_fields(event, _EVENT_FIELDS, path)
        name = event.get("name")
        known_name = name if isinstance(name, str) else ""
        if name is None or name == "":
            self.report.add(f"{path}.name", "An event needs a name.", "VALUE_REQUIRED")
        elif not isinstance(name, str):
            self.report.add(f"{path}.name", "An event name must be a string.", "VALUE_INVALID")
        else:
            # validating-events: the NAME_INVALID message's own text and field path.
            problem = limits.event_name_problem(name, web_stream=web_stream)
            if problem is not None:
                code, reason = problem
                self.report.add(
                    "events", f"Event at index: [{index}] has invalid name [{name}]. {reason}", code
                )
        self.timestamp(event.get("timestamp_micros"), f"{path}.timestamp_micros")
        params = event.get("params")
        if params is None:
            return
        if not isinstance(params, dict):
            self.report.add(f"{path}.params", "params must be an object.", "VALUE_INVALID")
            return
        self._params(params, f"{path}.params", limits.MAX_PARAMS_PER_EVENT, event=known_name)
        if known_name:
            check_event_params(self.report, known_name, params, f"{path}.params")

    def _params(
        self, params: dict[str, Any], path: str, limit: int, *, event: str, item: bool = False
    ) -> None:
        self.report.duplicates(params, path)
        # sending-events, Limitations: 25 params per event, 10 custom params per item.
        counted = [n for n in params if not item or n not in limits.STANDARD_ITEM_PARAMS]
        if len(counted) > limit:
            what = "custom item params" if item else "params"
            self.report.add(
                path,
                f"{len(counted)} {what}; the limit is {limit}.",
                "EXCEEDED_MAX_ENTITIES",
                enforce_only=True,
            )
        for name, value in params.items():
            param_path = f"{path}.{name}"
            problem = limits.param_name_problem(name)
            if problem is not None:
                code, reason = problem
                self.report.add(
                    param_path,
                    f"Param [{name}] has an invalid name. {reason}",
                    code,
                    enforce_only=True,
                )
            if name == "items" and not item:
                self._items(value, param_path, event=event)
            else:
                self._param_value(
                    name, value, param_path, boolean=not item and _boolean(event, name)
                )

    def _param_value(self, name: str, value: Any, path: str, *, boolean: bool = False) -> None:
        if boolean and isinstance(value, bool):
            return
        # sending-events, Limitations: values up to 100 characters (page fields longer, see
        # limits); [S23]: GA4 answers "Value is not a string or number." for other types.
        if isinstance(value, str):
            if name in limits.UNLIMITED_PARAMS:
                return
            limit = limits.LONG_PARAM_LIMITS.get(name, limits.MAX_PARAM_VALUE_LENGTH)
            if len(value) > limit:
                self.report.add(
                    path,
                    f"Value is {len(value)} characters; the limit is {limit}.",
                    "VALUE_OUT_OF_BOUNDS",
                    enforce_only=True,
                )
        elif not _is_number(value):
            self.report.add(
                path, "Value is not a string or number.", "VALUE_INVALID", enforce_only=True
            )

    def _items(self, items: Any, path: str, *, event: str) -> None:
        # events#purchase_item: items is an array of objects with item_id or item_name;
        # [S15] at most 200 items (Event Builder schemas/eventTypes/item.ts, items.ts).
        if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
            self.report.add(
                path, "items must be an array of objects.", "VALUE_INVALID", enforce_only=True
            )
            return
        if len(items) > limits.MAX_ITEMS_PER_EVENT:
            self.report.add(
                path,
                f"{len(items)} items; the limit is {limits.MAX_ITEMS_PER_EVENT}.",
                "EXCEEDED_MAX_ENTITIES",
                enforce_only=True,
            )
        recommended = RECOMMENDED_EVENTS.get(event)
        lists_items = recommended is not None and "items" in recommended.params
        for index, entry in enumerate(items):
            item_path = f"{path}[{index}]"
            if not entry.get("item_id") and not entry.get("item_name"):
                self.report.add(
                    item_path,
                    "An item needs an item_id or an item_name.",
                    "VALUE_REQUIRED",
                    enforce_only=True,
                )
            self._params(entry, item_path, limits.MAX_CUSTOM_ITEM_PARAMS, event=event, item=True)
            check_item_params(self.report, entry, item_path, event_lists_items=lists_items)
