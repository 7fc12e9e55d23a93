"""MP body validation agrees with GA4's documented rules, in both validation behaviours.

One row per rule, with edge values at the limit and one past it. Each row gives the
messages expected under RELAXED and under ENFORCE_RECOMMENDATIONS as (fieldPath, code).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest
from loyjoy_relay.core.ga4.requests import encode_body
from loyjoy_relay.core.ga4.validation.body import (
    VALIDATION_CODES,
    Behavior,
    validate_body,
    validation_response,
)

from tests.ga4.conftest import HOUR_MICROS, NOW_MICROS, valid_body, with_event, with_params

Expected = list[tuple[str | None, str]]
P = "events[0].params"


@dataclass(frozen=True)
class Case:
    id: str
    body: Any  # a dict (sent as compact JSON) or raw bytes
    relaxed: Expected
    enforce: Expected


def both(expected: Expected) -> tuple[Expected, Expected]:
    return expected, expected


def enforce_only(expected: Expected) -> tuple[Expected, Expected]:
    return [], expected


def sized_body(size: int) -> dict[str, Any]:
    """A valid body padded with one long param so its JSON is exactly ``size`` bytes."""
    body = with_params(pad="")
    body["events"][0]["params"]["pad"] = "x" * (size - len(encode_body(body)))
    assert len(encode_body(body)) == size
    return body


def params(count: int) -> dict[str, Any]:
    """A body whose event has ``count`` params in all."""
    return with_params(**{f"p{i}": i for i in range(count - 3)})


def events(count: int) -> dict[str, Any]:
    body = valid_body()
    body["events"] = body["events"] * count
    return body


def user_properties(count: int, value: Any = "v") -> dict[str, Any]:
    return valid_body(user_properties={f"prop{i}": {"value": value} for i in range(count)})


def items(count: int, **fields: Any) -> dict[str, Any]:
    return with_params(items=[{"item_id": f"sku{i}", **fields} for i in range(count)])


OLDEST = NOW_MICROS - 72 * HOUR_MICROS
LATEST = NOW_MICROS + 60 * 1_000_000
DUPLICATE = (
    b'{"client_id":"1.2","client_id":"1.3","events":[{"name":"open","params":{"a":1,"a":2}}]}'
)

CASES = [
    Case("valid", valid_body(), *both([])),
    # Parsing: unparseable JSON, a non-object body and unknown fields fail the whole parse.
    Case("not_json", b"{not json", *both([(None, "VALUE_INVALID")])),
    Case("not_an_object", b"[]", *both([(None, "VALUE_INVALID")])),
    Case("unknown_top_field", valid_body(clientId="1.2"), *both([(None, "VALUE_INVALID")])),
    Case("unknown_event_field", with_event(names="x"), *both([(None, "VALUE_INVALID")])),
    Case(
        "unknown_consent_field",
        valid_body(consent={"analytics_storage": "GRANTED"}),
        *both([(None, "VALUE_INVALID")]),
    ),
    Case(
        "unknown_device_field",
        valid_body(device={"category": "mobile", "colour": "red"}),
        *both([(None, "VALUE_INVALID")]),
    ),
    Case(
        "known_optional_fields",
        valid_body(
            user_id="u1",
            timestamp_micros=NOW_MICROS,
            non_personalized_ads=True,
            user_location={"country_id": "DE", "region_id": "DE-BY"},
            ip_override="192.0.2.1",
            device={"category": "desktop", "language": "de"},
            user_agent="Mozilla/5.0",
            user_data={"sha256_email_address": ["0" * 64]},
        ),
        *both([]),
    ),
    Case(
        "duplicate_names",
        DUPLICATE,
        *both([("client_id", "NAME_DUPLICATED"), (f"{P}.a", "NAME_DUPLICATED")]),
    ),
    # Body size: at most 130000 bytes.
    Case("body_at_size_limit", sized_body(130_000), [], [(f"{P}.pad", "VALUE_OUT_OF_BOUNDS")]),
    Case(
        "body_over_size_limit",
        sized_body(130_001),
        [(None, "VALUE_OUT_OF_BOUNDS")],
        [(None, "VALUE_OUT_OF_BOUNDS"), (f"{P}.pad", "VALUE_OUT_OF_BOUNDS")],
    ),
    # Identity fields.
    Case("client_id_missing", valid_body(client_id=""), *both([("client_id", "VALUE_REQUIRED")])),
    Case("client_id_not_string", valid_body(client_id=12), *both([("client_id", "VALUE_INVALID")])),
    Case(
        "client_id_format",
        valid_body(client_id="18"),
        *enforce_only([("client_id", "VALUE_INVALID")]),
    ),
    Case("client_id_cookie_value", valid_body(client_id="GA1.1.1827526090.1689745728"), *both([])),
    Case(
        "client_and_app_instance",
        valid_body(app_instance_id="a" * 32),
        *both([("app_instance_id", "VALUE_INVALID")]),
    ),
    Case("app_instance_id_32_hex", valid_body(client_id=None, app_instance_id="a" * 32), *both([])),
    Case(
        "app_instance_id_31_hex",
        valid_body(client_id=None, app_instance_id="a" * 31),
        *both([("app_instance_id", "VALUE_INVALID")]),
    ),
    Case("user_id_at_limit", valid_body(user_id="u" * 256), *both([])),
    Case(
        "user_id_over_limit",
        valid_body(user_id="u" * 257),
        *enforce_only([("user_id", "VALUE_OUT_OF_BOUNDS")]),
    ),
    Case(
        "non_personalized_ads_type",
        valid_body(non_personalized_ads="yes"),
        *both([("non_personalized_ads", "VALUE_INVALID")]),
    ),
    # Consent: only GRANTED or DENIED.
    Case("consent_granted", valid_body(consent={"ad_user_data": "GRANTED"}), *both([])),
    Case(
        "consent_lower_case",
        valid_body(consent={"ad_user_data": "granted", "ad_personalization": "DENIED"}),
        *both([("consent.ad_user_data", "VALUE_INVALID")]),
    ),
    Case(
        "validation_behavior_unknown",
        valid_body(validation_behavior="STRICT"),
        *both([("validation_behavior", "VALUE_INVALID")]),
    ),
    # Events: 1 to 25.
    Case("events_missing", valid_body(events=None), *both([("events", "VALUE_REQUIRED")])),
    Case("events_empty", valid_body(events=[]), *both([("events", "VALUE_REQUIRED")])),
    Case("events_not_array", valid_body(events={}), *both([("events", "VALUE_INVALID")])),
    Case("events_at_limit", events(25), *both([])),
    Case("events_over_limit", events(26), *both([("events", "EXCEEDED_MAX_ENTITIES")])),
    # Event names.
    Case("event_name_missing", with_event(name=""), *both([("events[0].name", "VALUE_REQUIRED")])),
    Case("event_name_underscore", with_event(name="_bad"), *both([("events", "NAME_INVALID")])),
    Case("event_name_digit_first", with_event(name="1st"), *both([("events", "NAME_INVALID")])),
    Case("event_name_hyphen", with_event(name="chat-open"), *both([("events", "NAME_INVALID")])),
    Case("event_name_non_ascii", with_event(name="öffnen"), *both([("events", "NAME_INVALID")])),
    Case("event_name_40", with_event(name="e" * 40), *both([])),
    Case("event_name_41", with_event(name="e" * 41), *both([("events", "NAME_INVALID")])),
    Case(
        "event_name_reserved",
        with_event(name="session_start"),
        *both([("events", "NAME_RESERVED")]),
    ),
    Case("event_name_prefix_ga", with_event(name="ga_open"), *both([("events", "NAME_RESERVED")])),
    Case(
        "event_name_prefix_firebase",
        with_event(name="firebase_open"),
        *both([("events", "NAME_RESERVED")]),
    ),
    Case(
        "event_name_app_only_on_web",
        with_event(name="screen_view"),
        *both([("events", "NAME_RESERVED")]),
    ),
    Case("event_name_page_view_allowed", with_event(name="page_view"), *both([])),
    # Params: at most 25, names like event names, string or number values.
    Case("params_not_object", with_event(params=[1]), *both([(P, "VALUE_INVALID")])),
    Case("params_at_limit", params(25), *both([])),
    Case("params_over_limit", params(26), *enforce_only([(P, "EXCEEDED_MAX_ENTITIES")])),
    Case("param_name_40", with_params(**{"p" * 40: 1}), *both([])),
    Case(
        "param_name_41",
        with_params(**{"p" * 41: 1}),
        *enforce_only([(f"{P}.{'p' * 41}", "NAME_INVALID")]),
    ),
    Case("param_name_underscore", with_params(_p=1), *enforce_only([(f"{P}._p", "NAME_INVALID")])),
    Case(
        "param_name_space", with_params(**{"a b": 1}), *enforce_only([(f"{P}.a b", "NAME_INVALID")])
    ),
    Case(
        "param_name_prefix_google",
        with_params(google_x=1),
        *enforce_only([(f"{P}.google_x", "NAME_RESERVED")]),
    ),
    Case(
        "param_name_prefix_gtag",
        with_params(**{"gtag.x": 1}),
        *enforce_only([(f"{P}.gtag.x", "NAME_RESERVED")]),
    ),
    Case(
        "param_name_reserved",
        with_params(firebase_conversion=1),
        *enforce_only([(f"{P}.firebase_conversion", "NAME_RESERVED")]),
    ),
    Case("param_value_100", with_params(v="x" * 100), *both([])),
    Case(
        "param_value_101",
        with_params(v="x" * 101),
        *enforce_only([(f"{P}.v", "VALUE_OUT_OF_BOUNDS")]),
    ),
    Case("page_title_300", with_params(page_title="x" * 300), *both([])),
    Case(
        "page_title_301",
        with_params(page_title="x" * 301),
        *enforce_only([(f"{P}.page_title", "VALUE_OUT_OF_BOUNDS")]),
    ),
    Case("page_referrer_420", with_params(page_referrer="x" * 420), *both([])),
    Case(
        "page_referrer_421",
        with_params(page_referrer="x" * 421),
        *enforce_only([(f"{P}.page_referrer", "VALUE_OUT_OF_BOUNDS")]),
    ),
    Case("page_location_1000", with_params(page_location="x" * 1000), *both([])),
    Case(
        "page_location_1001",
        with_params(page_location="x" * 1001),
        *enforce_only([(f"{P}.page_location", "VALUE_OUT_OF_BOUNDS")]),
    ),
    Case("session_id_exempt_from_length", with_params(session_id="1" * 500), *both([])),
    Case("param_value_float", with_params(value=9.99), *both([])),
    Case(
        "param_value_boolean",
        with_params(flag=True),
        *enforce_only([(f"{P}.flag", "VALUE_INVALID")]),
    ),
    Case(
        "param_value_object",
        with_params(obj={"a": 1}),
        *enforce_only([(f"{P}.obj", "VALUE_INVALID")]),
    ),
    # Items: an array of objects, each with item_id or item_name; 200 items; 10 custom params.
    Case("items_valid", items(1, item_name="Hat", price=9.5), *both([])),
    Case(
        "items_not_array",
        with_params(items="sku"),
        *enforce_only([(f"{P}.items", "VALUE_INVALID")]),
    ),
    Case(
        "item_without_id_or_name",
        with_params(items=[{"price": 1}]),
        *enforce_only([(f"{P}.items[0]", "VALUE_REQUIRED")]),
    ),
    Case("items_at_limit", items(200), *both([])),
    Case("items_over_limit", items(201), *enforce_only([(f"{P}.items", "EXCEEDED_MAX_ENTITIES")])),
    Case("item_custom_params_10", items(1, **{f"c{i}": i for i in range(10)}), *both([])),
    Case(
        "item_custom_params_11",
        items(1, **{f"c{i}": i for i in range(11)}),
        *enforce_only([(f"{P}.items[0]", "EXCEEDED_MAX_ENTITIES")]),
    ),
    Case(
        "item_param_value_101",
        items(1, item_brand="x" * 101),
        *enforce_only([(f"{P}.items[0].item_brand", "VALUE_OUT_OF_BOUNDS")]),
    ),
    # User properties: at most 25, names up to 24, values up to 36, shaped {"value": ...}.
    Case("user_properties_at_limit", user_properties(25), *both([])),
    Case(
        "user_properties_over_limit",
        user_properties(26),
        *enforce_only([("user_properties", "EXCEEDED_MAX_ENTITIES")]),
    ),
    Case("user_property_name_24", valid_body(user_properties={"u" * 24: {"value": 1}}), *both([])),
    Case(
        "user_property_name_25",
        valid_body(user_properties={"u" * 25: {"value": 1}}),
        *enforce_only([(f"user_properties.{'u' * 25}", "NAME_INVALID")]),
    ),
    Case(
        "user_property_name_reserved",
        valid_body(user_properties={"first_visit_time": {"value": 1}}),
        *enforce_only([("user_properties.first_visit_time", "NAME_RESERVED")]),
    ),
    Case(
        "user_property_name_prefix",
        valid_body(user_properties={"google_tier": {"value": 1}}),
        *enforce_only([("user_properties.google_tier", "NAME_RESERVED")]),
    ),
    Case("user_property_value_36", user_properties(1, "v" * 36), *both([])),
    Case(
        "user_property_value_37",
        user_properties(1, "v" * 37),
        *enforce_only([("user_properties.prop0.value", "VALUE_OUT_OF_BOUNDS")]),
    ),
    Case(
        "user_property_value_boolean",
        user_properties(1, True),
        *enforce_only([("user_properties.prop0.value", "VALUE_INVALID")]),
    ),
    Case(
        "user_property_not_object",
        valid_body(user_properties={"tier": "gold"}),
        *both([("user_properties.tier", "VALUE_INVALID")]),
    ),
    Case(
        "user_property_without_value",
        valid_body(user_properties={"tier": {}}),
        *both([("user_properties.tier.value", "VALUE_REQUIRED")]),
    ),
    # Timestamps: numbers; under ENFORCE within the last 72 hours and not in the future.
    Case("event_timestamp_72h", with_event(timestamp_micros=OLDEST), *both([])),
    Case(
        "event_timestamp_over_72h",
        with_event(timestamp_micros=OLDEST - 1),
        *enforce_only([("events[0].timestamp_micros", "VALUE_INVALID")]),
    ),
    Case("event_timestamp_latest", with_event(timestamp_micros=LATEST), *both([])),
    Case(
        "event_timestamp_future",
        with_event(timestamp_micros=LATEST + 1),
        *enforce_only([("events[0].timestamp_micros", "VALUE_INVALID")]),
    ),
    Case(
        "request_timestamp_over_72h",
        valid_body(timestamp_micros=OLDEST - 1),
        *enforce_only([("timestamp_micros", "VALUE_INVALID")]),
    ),
    Case(
        "user_property_timestamp_over_72h",
        valid_body(user_properties={"tier": {"value": "gold", "timestamp_micros": OLDEST - 1}}),
        *enforce_only([("user_properties.tier.timestamp_micros", "VALUE_INVALID")]),
    ),
    Case(
        "timestamp_not_number",
        with_event(timestamp_micros="yesterday"),
        *both([("events[0].timestamp_micros", "VALUE_INVALID")]),
    ),
]


def _run(case: Case, behavior: Behavior) -> Expected:
    raw = case.body if isinstance(case.body, bytes) else _encode(case.body)
    messages = validate_body(raw, now_micros=NOW_MICROS, behavior=behavior)
    for message in messages:
        assert message.validation_code in VALIDATION_CODES
    return sorted(((m.field_path, m.validation_code) for m in messages), key=repr)


def _encode(body: dict[str, Any]) -> bytes:
    return encode_body({key: value for key, value in body.items() if value is not None})


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_relaxed(case: Case) -> None:
    """Under RELAXED only malformed requests are reported, each with GA4's code."""
    assert _run(case, "RELAXED") == sorted(case.relaxed, key=repr)


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_enforce_recommendations(case: Case) -> None:
    """Under ENFORCE_RECOMMENDATIONS limits, types and timestamps are reported too."""
    assert _run(case, "ENFORCE_RECOMMENDATIONS") == sorted(case.enforce, key=repr)


@pytest.mark.parametrize("key", ["validation_behavior", "validationBehavior"])
def test_body_chooses_enforce(key: str) -> None:
    """A body asking for ENFORCE_RECOMMENDATIONS (either spelling) is validated strictly."""
    body = with_params(v="x" * 101)
    body[key] = "ENFORCE_RECOMMENDATIONS"
    messages = validate_body(_encode(body), now_micros=NOW_MICROS)
    assert [(m.field_path, m.validation_code) for m in messages] == [
        (f"{P}.v", "VALUE_OUT_OF_BOUNDS")
    ]
    del body[key]
    assert validate_body(_encode(body), now_micros=NOW_MICROS) == []


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"measurement_id": "G-X", "api_secret": "s"}, []),
        ({"firebase_app_id": "1:2:android:3", "api_secret": "s"}, []),
        ({"measurement_id": "G-X"}, [("api_secret", "VALUE_REQUIRED")]),
        ({"api_secret": "s"}, [("measurement_id", "VALUE_REQUIRED")]),
        (
            {"measurement_id": "", "api_secret": ""},
            [("api_secret", "VALUE_REQUIRED"), ("measurement_id", "VALUE_REQUIRED")],
        ),
    ],
)
def test_query_ids_required(query: dict[str, str], expected: Expected) -> None:
    """The debug endpoint requires a non-empty api_secret and measurement id, nothing more."""
    messages = validate_body(_encode(valid_body()), now_micros=NOW_MICROS, query=query)
    assert [(m.field_path, m.validation_code) for m in messages] == expected


def test_response_shape_matches_debug_endpoint() -> None:
    """The answer is {"validationMessages": [...]} with fieldPath, description, validationCode."""
    messages = validate_body(_encode(with_event(name="_badEventName")), now_micros=NOW_MICROS)
    assert validation_response(messages) == {
        "validationMessages": [
            {
                "fieldPath": "events",
                "description": "Event at index: [0] has invalid name [_badEventName]. "
                "Names must start with an alphabetic character.",
                "validationCode": "NAME_INVALID",
            }
        ]
    }
    parse_error = validation_response(validate_body(b"{", now_micros=NOW_MICROS))
    assert "fieldPath" not in parse_error["validationMessages"][0]
    assert json.dumps(validation_response([])) == '{"validationMessages": []}'
