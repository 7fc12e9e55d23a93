"""Validation of an MP request body, answering as GA4's debug endpoint does.

Pure. ``RELAXED`` (GA4's default) reports only malformed requests: unparseable or
unknown fields, wrong types, missing ids, the event count, event names, consent values
and the body size. ``ENFORCE_RECOMMENDATIONS`` also reports what RELAXED silently fixes
or drops: parameter and user-property limits, value types, the parameters recommended
events require, currencies, and timestamps outside the 72-hour window; and it warns
about what the documentation only recommends (a warning never refuses anything: see
:mod:`~loyjoy_relay.core.ga4.validation.report`). The relay always validates with
ENFORCE_RECOMMENDATIONS and refuses only on errors.

Sources, as cited in comments here and in the modules this one calls:

- ``reference``: Measurement Protocol reference, "JSON post body"
  (developers.google.com/analytics/devguides/collection/protocol/ga4/reference);
- ``events#<name>``: the MP events reference (…/protocol/ga4/reference/events);
- ``sending-events``: "Send Measurement Protocol events", Limitations and validation;
- ``validating-events``: the debug endpoint's answer and its seven codes;
- Event Builder: googleanalytics/ga-dev-tools,
  ``src/components/ga4/EventBuilder/ValidateEvent/`` (``schemas/``, ``handlers/``);
- ``[S..]``: the shared notes ``reference/ga4-measurement-protocol.md`` where a rule comes
  from a captured GA4 answer rather than a document.

``validate_body`` (raw bytes: the CLI and the GA4 stand-in) and ``validate_built`` (a dict
built in memory: the planner) run the same checks and return the same messages.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Literal

from loyjoy_relay.core.ga4 import limits
from loyjoy_relay.core.ga4.requests import encode_body
from loyjoy_relay.core.ga4.validation.context import check_context
from loyjoy_relay.core.ga4.validation.events import EventChecker
from loyjoy_relay.core.ga4.validation.report import Report, ValidationMessage

Behavior = Literal["RELAXED", "ENFORCE_RECOMMENDATIONS"]
BEHAVIORS: tuple[Behavior, ...] = ("RELAXED", "ENFORCE_RECOMMENDATIONS")
__all__ = [
    "BEHAVIORS",
    "Behavior",
    "ValidationMessage",
    "encode_body",
    "validate_body",
    "validate_built",
    "validate_payload",
    "validation_response",
]

# validating-events: the seven ValidationCode values the debug endpoint uses.
VALIDATION_CODES = (
    "VALUE_INVALID",
    "VALUE_REQUIRED",
    "NAME_INVALID",
    "NAME_RESERVED",
    "VALUE_OUT_OF_BOUNDS",
    "EXCEEDED_MAX_ENTITIES",
    "NAME_DUPLICATED",
)

# reference: the keys of the JSON post body. GA4 parses it strictly: an unknown key is a
# parse error with no field path ([S22], "(events[0]) names: Cannot find field").
_TOP_LEVEL = frozenset(
    {
        "client_id",
        "app_instance_id",
        "user_id",
        "timestamp_micros",
        "user_properties",
        "user_data",
        "consent",
        "non_personalized_ads",
        "user_location",
        "ip_override",
        "device",
        "user_agent",
        "validation_behavior",
        "validationBehavior",  # the proto-JSON alias Google's Event Builder sends
        "events",
    }
)
_CONSENT_FIELDS = frozenset({"ad_user_data", "ad_personalization"})
# reference and Event Builder schemas/baseContent.ts: these are strings.
_STRING_FIELDS = ("client_id", "app_instance_id", "user_id", "ip_override", "user_agent")
# reference, consent: "GRANTED" or "DENIED".
_CONSENT_VALUES = ("GRANTED", "DENIED")


class _Object(dict[str, Any]):
    """A JSON object that remembers keys given more than once."""

    duplicates: tuple[str, ...] = ()


def _object_hook(pairs: list[tuple[str, Any]]) -> _Object:
    obj = _Object(pairs)
    seen: set[str] = set()
    duplicates = []
    for key, _ in pairs:
        if key in seen:
            duplicates.append(key)
        seen.add(key)
    obj.duplicates = tuple(duplicates)
    return obj


def validation_response(messages: list[ValidationMessage]) -> dict[str, Any]:
    """The debug endpoint's JSON answer for ``messages``."""
    return {"validationMessages": [message.as_json() for message in messages]}


def validate_body(
    raw: bytes | str,
    *,
    now_micros: int,
    query: Mapping[str, str] | None = None,
    behavior: Behavior | None = None,
) -> list[ValidationMessage]:
    """Validate a raw MP body (and the query string's ids when given), as GA4 would."""
    data = raw.encode() if isinstance(raw, str) else raw
    report = Report()
    if query is not None:
        _check_query(query, report)
    try:
        payload = json.loads(data, object_pairs_hook=_object_hook)
    except (ValueError, RecursionError) as error:
        report.parse_error(f"Unable to parse Measurement Protocol JSON payload. {error}")
        return report.messages()
    _check_size(len(data), report)
    _check_payload(payload, report, now_micros=now_micros, behavior=behavior)
    return report.messages()


def validate_payload(
    payload: Any, *, now_micros: int, behavior: Behavior | None = None
) -> list[ValidationMessage]:
    """Validate an MP body as built in memory (sent as compact JSON)."""
    return validate_body(encode_body(payload), now_micros=now_micros, behavior=behavior)


def validate_built(
    payload: dict[str, Any], *, size: int, now_micros: int, behavior: Behavior | None = None
) -> list[ValidationMessage]:
    """Validate a body built in memory whose encoded form is ``size`` bytes.

    The same checks as :func:`validate_body` without parsing it again (a dict built in
    memory cannot hold a key twice), so the relay serialises each body only once.
    """
    report = Report()
    _check_size(size, report)
    _check_payload(payload, report, now_micros=now_micros, behavior=behavior)
    return report.messages()


def _check_size(size: int, report: Report) -> None:
    # sending-events, Limitations: "The POST body must be smaller than 130kB"; the Event
    # Builder flags sizeof(payload) > 130000 (handlers/formatCheckLib.ts, isTooBig).
    if size > limits.MAX_BODY_BYTES:
        report.add(
            None,
            f"Request body is {size} bytes; it must be at most {limits.MAX_BODY_BYTES}.",
            "VALUE_OUT_OF_BOUNDS",
        )


def _check_query(query: Mapping[str, str], report: Report) -> None:
    # reference, query parameters: api_secret and measurement_id are required; the texts are
    # the debug endpoint's own (mirrored in the Event Builder's formatCheckLib.ts).
    if not query.get("api_secret"):
        report.add(
            "api_secret",
            "Unable to find non-empty parameter [api_secret] value in request.",
            "VALUE_REQUIRED",
        )
    if not query.get("measurement_id") and not query.get("firebase_app_id"):
        report.add(
            "measurement_id",
            "Unable to find non-empty parameter [measurement_id] value in request.",
            "VALUE_REQUIRED",
        )


def _check_payload(
    payload: Any, report: Report, *, now_micros: int, behavior: Behavior | None
) -> None:
    if not isinstance(payload, dict):
        report.parse_error("Unable to parse Measurement Protocol JSON payload. Not an object.")
        return
    # reference: validation_behavior is RELAXED (default) or ENFORCE_RECOMMENDATIONS.
    declared = payload.get("validation_behavior", payload.get("validationBehavior"))
    if declared is not None and declared not in BEHAVIORS:
        report.add(
            "validation_behavior", f"Unknown validation behavior [{declared}].", "VALUE_INVALID"
        )
    chosen = behavior or (declared if declared in BEHAVIORS else "RELAXED")
    report.enforce = chosen == "ENFORCE_RECOMMENDATIONS"
    report.duplicates(payload, "")
    report.unknown_fields(payload, _TOP_LEVEL, "")
    consent = payload.get("consent")
    if isinstance(consent, dict):
        report.duplicates(consent, "consent")
        report.unknown_fields(consent, _CONSENT_FIELDS, "consent")
    elif consent is not None:
        report.add("consent", "Field [consent] must be an object.", "VALUE_INVALID")
    check_context(payload, report)
    for name in _STRING_FIELDS:
        if name in payload and not isinstance(payload[name], str):
            report.add(name, f"Field [{name}] must be a string.", "VALUE_INVALID")
    # reference: non_personalized_ads is a boolean (deprecated; Event Builder baseContent.ts).
    if "non_personalized_ads" in payload and not isinstance(payload["non_personalized_ads"], bool):
        report.add("non_personalized_ads", "Field must be a boolean.", "VALUE_INVALID")
    _check_ids(payload, report)
    _check_consent(payload.get("consent"), report)
    checker = EventChecker(report, now_micros=now_micros)
    checker.timestamp(payload.get("timestamp_micros"), "timestamp_micros")
    checker.user_properties(payload.get("user_properties"))
    checker.events(payload.get("events"), web_stream="app_instance_id" not in payload)


def _check_ids(payload: dict[str, Any], report: Report) -> None:
    client_id, app_instance_id = payload.get("client_id"), payload.get("app_instance_id")
    # reference: client_id is required for web streams, app_instance_id for app streams.
    if not client_id and not app_instance_id:
        report.add(
            "client_id",
            "Unable to find non-empty parameter [client_id] value in request.",
            "VALUE_REQUIRED",
        )
    if client_id and app_instance_id:
        report.add(
            "app_instance_id",
            "Only one of [client_id] and [app_instance_id] may be set.",
            "VALUE_INVALID",
        )
    # No format rule for client_id: the reference says only "Required. Uniquely identifies a
    # user instance of a web client" (reference#payload_post_body), a site may configure its
    # own id in the Google tag, and Google's Event Builder accepts any non-empty string
    # (handlers/formatCheckLib.ts, isValidAppOrClientId).
    # Event Builder formatCheckLib.ts: app_instance_id is 32 hexadecimal digits.
    if (
        isinstance(app_instance_id, str)
        and app_instance_id
        and not limits.app_instance_id_ok(app_instance_id)
    ):
        report.add(
            "app_instance_id",
            "Measurement app_instance_id is expected to be a 32 digit hexadecimal number "
            f"but was [{len(app_instance_id)}] digits.",
            "VALUE_INVALID",
        )
    user_id = payload.get("user_id")
    # [S7] GA4 event collection limits: user_id values up to 256 characters.
    if isinstance(user_id, str) and len(user_id) > limits.MAX_USER_ID_LENGTH:
        report.add(
            "user_id",
            f"user_id is {len(user_id)} characters; the limit is {limits.MAX_USER_ID_LENGTH}.",
            "VALUE_OUT_OF_BOUNDS",
            enforce_only=True,
        )


def _check_consent(consent: Any, report: Report) -> None:
    if not isinstance(consent, dict):
        return
    for name in ("ad_user_data", "ad_personalization"):
        if name in consent and consent[name] not in _CONSENT_VALUES:
            report.add(
                f"consent.{name}",
                f"Consent value [{consent[name]}] must be GRANTED or DENIED.",
                "VALUE_INVALID",
            )
