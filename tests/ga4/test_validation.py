"""MP body validation, rule by rule, each row citing the document or schema it comes from.

One row per rule, with edge values at the limit and one past it. A row gives the errors
expected under RELAXED and under ENFORCE_RECOMMENDATIONS, and the warnings (ENFORCE only),
each as (fieldPath, validationCode). ``source`` names where the rule is written down: a
key of SOURCES, a colon, and the section or file. Rows marked "Event Builder spec" replay
the cases of Google's own validator tests (ga-dev-tools, ``ValidateEvent/**/*.spec.ts``);
where that validator is stricter than the documents, the row says so and follows the
documents (a warning instead of a refusal, or nothing).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pytest
from loyjoy_relay.core.ga4.requests import encode_body
from loyjoy_relay.core.ga4.validation.body import (
    VALIDATION_CODES,
    Behavior,
    validate_body,
    validate_built,
    validation_response,
)
from loyjoy_relay.core.ga4.validation.report import WARNING_PREFIX, ValidationMessage

from tests.ga4.conftest import HOUR_MICROS, NOW_MICROS, valid_body, with_event, with_params

Expected = list[tuple[str | None, str]]
P = "events[0].params"
ITEMS = f"{P}.items"
_DOCS = "https://developers.google.com/analytics/devguides/collection/protocol/ga4"
SOURCES = {
    "reference": f"{_DOCS}/reference (JSON post body, reserved names)",
    "events": f"{_DOCS}/reference/events (one section per recommended event)",
    "sending-events": f"{_DOCS}/sending-events (Limitations; validation behaviours)",
    "validating-events": f"{_DOCS}/validating-events (response shape, seven codes)",
    "event-builder": "googleanalytics/ga-dev-tools src/components/ga4/EventBuilder/ValidateEvent/",
    "notes": "reference/ga4-measurement-protocol.md [S..]: answers captured from GA4 itself",
    "ours": "docs/ga4.md, 'Where the sources are silent': a choice of ours",
}


@dataclass(frozen=True)
class Case:
    id: str
    source: str
    body: Any  # a dict (sent as compact JSON) or raw bytes
    relaxed: Expected = field(default_factory=list)
    enforce: Expected | None = None  # None: the same as relaxed
    warnings: Expected = field(default_factory=list)  # ENFORCE_RECOMMENDATIONS only

    @property
    def enforced(self) -> Expected:
        return self.relaxed if self.enforce is None else self.enforce


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


def event(name: str, **event_params: Any) -> dict[str, Any]:
    """A valid body whose one event is ``name`` with ``event_params`` added."""
    body = with_params(**event_params)
    body["events"][0]["name"] = name
    return body


def app_body(name: str, event_params: dict[str, Any]) -> dict[str, Any]:
    """The Event Builder specs' shape: an app stream body with one bare event."""
    return {
        "app_instance_id": "bc17b822c8c84a7e84ac7e010cc2f740",
        "events": [{"name": name, "params": event_params}],
    }


SKU = [{"item_id": "SKU_1"}]
SALE = {"currency": "EUR", "value": 9.5}
OLDEST = NOW_MICROS - 72 * HOUR_MICROS
LATEST = NOW_MICROS + 60 * 1_000_000
DUPLICATE = (
    b'{"client_id":"1.2","client_id":"1.3","events":[{"name":"open","params":{"a":1,"a":2}}]}'
)

CASES = [
    Case("valid", "reference: JSON post body", valid_body()),
    # --- Parsing: unparseable JSON, a non-object body and unknown fields fail the parse.
    Case("not_json", "validating-events: parse failure", b"{not json", [(None, "VALUE_INVALID")]),
    Case("not_an_object", "reference: the body is a JSON object", b"[]", [(None, "VALUE_INVALID")]),
    Case(
        "unknown_top_field",
        "notes: [S22] '(events[0]) names: Cannot find field'",
        valid_body(clientId="1.2"),
        [(None, "VALUE_INVALID")],
    ),
    Case(
        "unknown_event_field",
        "notes: [S22] unknown keys fail the parse",
        with_event(names="x"),
        [(None, "VALUE_INVALID")],
    ),
    Case(
        "unknown_consent_field",
        "reference: consent has ad_user_data and ad_personalization only",
        valid_body(consent={"analytics_storage": "GRANTED"}),
        [(None, "VALUE_INVALID")],
    ),
    Case(
        "unknown_device_field",
        "event-builder: schemas/deviceSchema.ts additionalProperties false",
        valid_body(device={"category": "mobile", "colour": "red"}),
        [(None, "VALUE_INVALID")],
    ),
    Case(
        "event_builder_additional_property",
        "event-builder: schemas/baseContent.spec.ts 'is not valid with an additional property'",
        {**app_body("something", {}), "additionalProperty": 123},
        [(None, "VALUE_INVALID")],
    ),
    Case(
        "event_builder_event_additional_property",
        "event-builder: schemas/events.spec.ts 'is invalid if additional properties'",
        {**valid_body(), "events": [{"name": "someevent", "params": {}, "additionalprop": 1}]},
        [(None, "VALUE_INVALID")],
    ),
    Case(
        "known_optional_fields",
        "reference: JSON post body",
        valid_body(
            user_id="u1",
            timestamp_micros=NOW_MICROS,
            non_personalized_ads=True,
            user_location={"country_id": "DE", "region_id": "DE-BY", "city": "Munich"},
            ip_override="192.0.2.1",
            device={"category": "desktop", "language": "de", "screen_resolution": "1280x720"},
            user_agent="Mozilla/5.0",
            user_data={"sha256_email_address": ["0" * 64]},
        ),
    ),
    Case(
        "event_builder_ip_override",
        "event-builder: schemas/baseContent.spec.ts 'with ip_override'",
        {"client_id": "1.2", "events": [{"name": "something", "params": {}}], "ip_override": "::1"},
    ),
    Case(
        "event_without_params",
        "reference: events[].params is optional (Event Builder event.ts requires it)",
        {"client_id": "1.2", "events": [{"name": "tutorial_begin"}]},
    ),
    Case(
        "duplicate_names",
        "validating-events: NAME_DUPLICATED",
        DUPLICATE,
        [("client_id", "NAME_DUPLICATED"), (f"{P}.a", "NAME_DUPLICATED")],
    ),
    # --- Body size: at most 130000 bytes.
    Case(
        "body_at_size_limit",
        "sending-events: Limitations, body < 130kB",
        sized_body(130_000),
        [],
        [(f"{P}.pad", "VALUE_OUT_OF_BOUNDS")],
    ),
    Case(
        "body_over_size_limit",
        "event-builder: handlers/formatCheckLib.ts isTooBig (sizeof > 130000)",
        sized_body(130_001),
        [(None, "VALUE_OUT_OF_BOUNDS")],
        [(None, "VALUE_OUT_OF_BOUNDS"), (f"{P}.pad", "VALUE_OUT_OF_BOUNDS")],
    ),
    # --- Identity fields.
    Case(
        "client_id_missing",
        "reference: client_id Required (web)",
        valid_body(client_id=""),
        [("client_id", "VALUE_REQUIRED")],
    ),
    Case(
        "client_id_not_string",
        "event-builder: schemas/baseContent.ts client_id string",
        valid_body(client_id=12),
        [("client_id", "VALUE_INVALID")],
    ),
    Case(
        "client_id_without_dot",
        "reference: client_id has no format rule; Event Builder formatCheckLib accepts it",
        valid_body(client_id="18"),
    ),
    Case(
        "client_id_32_digits",
        "event-builder: formatCheckLib.spec.ts 'does not return an error when client_id is "
        "present'",
        valid_body(client_id="12345678901234567890123456789012"),
    ),
    Case(
        "client_id_own_format",
        "reference: 'Uniquely identifies a user instance of a web client'",
        valid_body(client_id="site-visitor-7f3a"),
    ),
    Case(
        "client_id_cookie_value",
        "notes: [S4] changelog 2026-02-17, the raw cookie value is accepted",
        valid_body(client_id="GA1.1.1827526090.1689745728"),
    ),
    Case(
        "client_and_app_instance",
        "reference: client_id for web streams, app_instance_id for app streams",
        valid_body(app_instance_id="a" * 32),
        [("app_instance_id", "VALUE_INVALID")],
    ),
    Case(
        "app_instance_id_32_hex",
        "event-builder: baseContent.spec.ts 'can be used to validate a valid payload'",
        app_body("something", {}),
    ),
    Case(
        "app_instance_id_33_digits",
        "event-builder: formatCheckLib.spec.ts 'appInstanceId is not 32 chars'",
        valid_body(client_id=None, app_instance_id="1" * 33),
        [("app_instance_id", "VALUE_INVALID")],
    ),
    Case(
        "app_instance_id_not_hex",
        "event-builder: formatCheckLib.spec.ts 'contains non-alphanumeric char'",
        valid_body(client_id=None, app_instance_id="1" * 31 + "g"),
        [("app_instance_id", "VALUE_INVALID")],
    ),
    Case("user_id_at_limit", "notes: [S7] user_id ≤ 256", valid_body(user_id="u" * 256)),
    Case(
        "user_id_over_limit",
        "notes: [S7] user_id ≤ 256",
        valid_body(user_id="u" * 257),
        [],
        [("user_id", "VALUE_OUT_OF_BOUNDS")],
    ),
    Case(
        "non_personalized_ads_type",
        "event-builder: schemas/baseContent.ts non_personalized_ads boolean",
        valid_body(non_personalized_ads="yes"),
        [("non_personalized_ads", "VALUE_INVALID")],
    ),
    # --- Consent and validation behaviour.
    Case(
        "consent_granted",
        "reference: consent GRANTED | DENIED",
        valid_body(consent={"ad_user_data": "GRANTED"}),
    ),
    Case(
        "consent_lower_case",
        "reference: consent GRANTED | DENIED",
        valid_body(consent={"ad_user_data": "granted", "ad_personalization": "DENIED"}),
        [("consent.ad_user_data", "VALUE_INVALID")],
    ),
    Case(
        "consent_not_object",
        "reference: consent is an object",
        valid_body(consent="GRANTED"),
        [("consent", "VALUE_INVALID")],
    ),
    Case(
        "validation_behavior_unknown",
        "reference: validation_behavior RELAXED | ENFORCE_RECOMMENDATIONS",
        valid_body(validation_behavior="STRICT"),
        [("validation_behavior", "VALUE_INVALID")],
    ),
    # --- user_location, device, user_data.
    Case(
        "user_location_not_string",
        "event-builder: schemas/userLocation.ts type string",
        valid_body(user_location={"country_id": 276, "region_id": "DE-BY"}),
        [("user_location.country_id", "VALUE_INVALID")],
    ),
    Case(
        "user_location_formats",
        "reference: country_id ISO 3166-1 alpha-2, region_id ISO 3166-2, UN M49 ids",
        valid_body(
            user_location={
                "country_id": "Germany",
                "region_id": "Bavaria",
                "continent_id": "Europe",
                "subcontinent_id": "155",
            }
        ),
        warnings=[
            ("user_location.continent_id", "VALUE_INVALID"),
            ("user_location.country_id", "VALUE_INVALID"),
            ("user_location.region_id", "VALUE_INVALID"),
        ],
    ),
    Case(
        "user_location_minimum",
        "reference: user_location, 'we recommend at minimum country_id and region_id'",
        valid_body(user_location={"city": "Munich"}),
        warnings=[
            ("user_location.country_id", "VALUE_REQUIRED"),
            ("user_location.region_id", "VALUE_REQUIRED"),
        ],
    ),
    Case(
        "device_not_object",
        "event-builder: schemas/deviceSchema.ts type object",
        valid_body(device="desktop"),
        [("device", "VALUE_INVALID")],
    ),
    Case(
        "device_formats",
        "reference: device, screen_resolution WIDTHxHEIGHT; category at minimum",
        valid_body(device={"screen_resolution": "big", "browser_version": 120}),
        [("device.browser_version", "VALUE_INVALID")],
        warnings=[
            ("device.category", "VALUE_REQUIRED"),
            ("device.screen_resolution", "VALUE_INVALID"),
        ],
    ),
    Case(
        "user_data_not_hashed",
        "reference: user_data values SHA-256, hex encoded",
        valid_body(
            user_data={
                "sha256_email_address": ["jane@example.com"],
                "address": [{"sha256_first_name": "Jane", "city": "Munich"}],
            }
        ),
        [],
        [
            ("user_data.address[0].sha256_first_name", "VALUE_INVALID"),
            ("user_data.sha256_email_address[0]", "VALUE_INVALID"),
        ],
    ),
    Case(
        "user_data_unknown_address_field",
        "reference: user_data.address fields",
        valid_body(user_data={"address": [{"street": "Main St 1"}]}),
        [(None, "VALUE_INVALID")],
    ),
    # --- Events: 1 to 25.
    Case(
        "events_missing",
        "reference: events Required",
        valid_body(events=None),
        [("events", "VALUE_REQUIRED")],
    ),
    Case(
        "events_empty",
        "event-builder: schemas/events.ts minItems 1",
        valid_body(events=[]),
        [("events", "VALUE_REQUIRED")],
    ),
    Case(
        "events_not_array",
        "event-builder: schemas/events.ts type array",
        valid_body(events={}),
        [("events", "VALUE_INVALID")],
    ),
    Case("events_at_limit", "sending-events: Limitations, 25 events", events(25)),
    Case(
        "events_over_limit",
        "event-builder: events.spec.ts 'more than 25 items'",
        events(26),
        [("events", "EXCEEDED_MAX_ENTITIES")],
    ),
    # --- Event names.
    Case(
        "event_name_missing",
        "event-builder: event.spec.ts 'RequiredPropertyError'",
        with_event(name=""),
        [("events[0].name", "VALUE_REQUIRED")],
    ),
    Case(
        "event_name_underscore",
        "validating-events: 'Names must start with an alphabetic character.'",
        with_event(name="_bad"),
        [("events", "NAME_INVALID")],
    ),
    Case(
        "event_name_digit_first",
        "sending-events: Limitations, names start with a letter",
        with_event(name="1st"),
        [("events", "NAME_INVALID")],
    ),
    Case(
        "event_name_hyphen",
        "event-builder: event.ts pattern ^[A-Za-z][A-Za-z0-9_]*$",
        with_event(name="chat-open"),
        [("events", "NAME_INVALID")],
    ),
    Case(
        "event_name_non_ascii",
        "sending-events: Limitations, alphanumeric and underscores",
        with_event(name="öffnen"),
        [("events", "NAME_INVALID")],
    ),
    Case("event_name_40", "sending-events: Limitations, ≤ 40", with_event(name="e" * 40)),
    Case(
        "event_name_41",
        "event-builder: event.ts maxLength 40",
        with_event(name="e" * 41),
        [("events", "NAME_INVALID")],
    ),
    Case(
        "event_name_reserved",
        "reference: Reserved event names",
        with_event(name="session_start"),
        [("events", "NAME_RESERVED")],
    ),
    Case(
        "event_name_prefix_ga",
        "reference: reserved prefixes",
        with_event(name="ga_open"),
        [("events", "NAME_RESERVED")],
    ),
    Case(
        "event_name_prefix_firebase",
        "reference: reserved prefixes",
        with_event(name="firebase_open"),
        [("events", "NAME_RESERVED")],
    ),
    Case(
        "event_name_app_only_on_web",
        "events: screen_view, ad_impression available only for App streams",
        with_event(name="screen_view"),
        [("events", "NAME_RESERVED")],
    ),
    Case("event_name_page_view_allowed", "notes: [S4] page_view", with_event(name="page_view")),
    # --- Params: at most 25, names like event names, string or number values.
    Case(
        "params_not_object",
        "event-builder: event.ts params type object",
        with_event(params=[1]),
        [(P, "VALUE_INVALID")],
    ),
    Case("params_at_limit", "sending-events: Limitations, 25 params", params(25)),
    Case(
        "params_over_limit",
        "event-builder: eventTypes/custom.ts maxProperties 25",
        params(26),
        [],
        [(P, "EXCEEDED_MAX_ENTITIES")],
    ),
    Case("param_name_40", "sending-events: Limitations, ≤ 40", with_params(**{"p" * 40: 1})),
    Case(
        "param_name_41",
        "event-builder: custom.ts propertyNames maxLength 40",
        with_params(**{"p" * 41: 1}),
        [],
        [(f"{P}.{'p' * 41}", "NAME_INVALID")],
    ),
    Case(
        "event_builder_param_name_underscore",
        "event-builder: eventTypes/custom.spec.ts 'ensures properties use valid naming'",
        with_params(_method=1),
        [],
        [(f"{P}._method", "NAME_INVALID")],
    ),
    Case(
        "param_name_space",
        "sending-events: Limitations, alphanumeric and underscores",
        with_params(**{"a b": 1}),
        [],
        [(f"{P}.a b", "NAME_INVALID")],
    ),
    Case(
        "param_name_prefix_google",
        "reference: reserved parameter prefixes",
        with_params(google_x=1),
        [],
        [(f"{P}.google_x", "NAME_RESERVED")],
    ),
    Case(
        "param_name_prefix_gtag",
        "reference: reserved parameter prefixes",
        with_params(**{"gtag.x": 1}),
        [],
        [(f"{P}.gtag.x", "NAME_RESERVED")],
    ),
    Case(
        "param_name_reserved",
        "reference: Reserved parameter names",
        with_params(firebase_conversion=1),
        [],
        [(f"{P}.firebase_conversion", "NAME_RESERVED")],
    ),
    Case(
        "event_builder_reserved_param_prefix",
        "event-builder: baseContent.spec.ts 'params don't have reserved suffixes'",
        app_body("purchase", {"transaction_id": "894982", **SALE, "ga_test": "123", "items": SKU}),
        [],
        [(f"{P}.ga_test", "NAME_RESERVED")],
    ),
    Case("param_value_100", "sending-events: Limitations, ≤ 100", with_params(v="x" * 100)),
    Case(
        "param_value_101",
        "sending-events: Limitations, ≤ 100",
        with_params(v="x" * 101),
        [],
        [(f"{P}.v", "VALUE_OUT_OF_BOUNDS")],
    ),
    Case("page_title_300", "notes: [S8] page_title ≤ 300", with_params(page_title="x" * 300)),
    Case(
        "page_title_301",
        "notes: [S8] page_title ≤ 300",
        with_params(page_title="x" * 301),
        [],
        [(f"{P}.page_title", "VALUE_OUT_OF_BOUNDS")],
    ),
    Case(
        "page_referrer_420", "notes: [S8] page_referrer ≤ 420", with_params(page_referrer="x" * 420)
    ),
    Case(
        "page_referrer_421",
        "notes: [S8] page_referrer ≤ 420",
        with_params(page_referrer="x" * 421),
        [],
        [(f"{P}.page_referrer", "VALUE_OUT_OF_BOUNDS")],
    ),
    Case(
        "page_location_1000",
        "notes: [S8] page_location ≤ 1000",
        with_params(page_location="x" * 1000),
    ),
    Case(
        "page_location_1001",
        "notes: [S8] page_location ≤ 1000",
        with_params(page_location="x" * 1001),
        [],
        [(f"{P}.page_location", "VALUE_OUT_OF_BOUNDS")],
    ),
    Case(
        "session_id_exempt_from_length",
        "sending-events: Limitations, session_id exempt",
        with_params(session_id="1" * 500),
    ),
    Case("param_value_float", "reference: params are strings or numbers", with_params(n=9.99)),
    Case(
        "param_value_boolean",
        "notes: [S23] 'Value is not a string or number.'",
        with_params(flag=True),
        [],
        [(f"{P}.flag", "VALUE_INVALID")],
    ),
    Case(
        "param_value_object",
        "notes: [S23] 'Value is not a string or number.'",
        with_params(obj={"a": 1}),
        [],
        [(f"{P}.obj", "VALUE_INVALID")],
    ),
    # --- Recommended events: what their tables mark required (Yes) is refused when missing.
    Case(
        "search_without_search_term",
        "events: search, search_term Yes",
        event("search"),
        [],
        [(f"{P}.search_term", "VALUE_REQUIRED")],
    ),
    Case("search_with_search_term", "events: search", event("search", search_term="opening")),
    Case(
        "refund_without_transaction_id",
        "events: refund, transaction_id Yes",
        event("refund", **SALE),
        [],
        [(f"{P}.transaction_id", "VALUE_REQUIRED")],
    ),
    Case(
        "refund_without_value",
        "events: refund, value Yes* ('typically required for meaningful reporting')",
        event("refund", transaction_id="T1"),
        warnings=[(f"{P}.value", "VALUE_REQUIRED")],
    ),
    Case(
        "purchase_complete",
        "event-builder: baseContent.spec.ts 'validates specific event names'",
        app_body("purchase", {"transaction_id": "894982", **SALE, "items": [{"item_name": "t"}]}),
    ),
    Case(
        "event_builder_purchase_integer_and_float_value",
        "event-builder: eventTypes/purchase.spec.ts 'can be used to validate a valid payload'",
        event("purchase", transaction_id="A12345", currency="USD", value=12.00, items=SKU),
    ),
    Case(
        "event_builder_purchase_only_items",
        "event-builder: purchase.spec.ts 'validate required fields'; events: purchase",
        event("purchase", items=SKU),
        [],
        [(f"{P}.transaction_id", "VALUE_REQUIRED")],
        [(f"{P}.value", "VALUE_REQUIRED")],
    ),
    Case(
        "event_builder_purchase_without_value",
        "events: purchase, value Yes*: a recommendation (Event Builder requires it)",
        event("purchase", transaction_id="A12345", currency="USD", items=SKU),
        warnings=[(f"{P}.value", "VALUE_REQUIRED")],
    ),
    Case(
        "event_builder_purchase_value_without_currency",
        "events: purchase, 'currency is required if you set value' (purchase.spec.ts)",
        event("purchase", transaction_id="A12345", value=12.10, items=SKU),
        [],
        [(f"{P}.currency", "VALUE_REQUIRED")],
    ),
    Case(
        "event_builder_purchase_value_as_string",
        "events: purchase, value number (purchase.spec.ts 'validate value type')",
        event("purchase", transaction_id="A12345", value="12.10", items=SKU),
        [],
        [(f"{P}.currency", "VALUE_REQUIRED"), (f"{P}.value", "VALUE_INVALID")],
    ),
    Case(
        "purchase_without_items",
        "events: purchase, items Yes",
        event("purchase", transaction_id="T1", **SALE),
        [],
        [(ITEMS, "VALUE_REQUIRED")],
    ),
    Case(
        "event_builder_purchase_empty_items",
        "event-builder: formatCheckLib.spec.ts 'empty items array when event requires items'",
        event("purchase", transaction_id="T1", **SALE, items=[]),
        [],
        [(ITEMS, "VALUE_REQUIRED")],
    ),
    Case(
        "event_builder_add_payment_info_without_currency",
        "event-builder: events.spec.ts 'add_payment_info does not include currency'",
        event("add_payment_info", value=8.98, items=[{"item_id": 1234}]),
        [],
        [(f"{ITEMS}[0].item_id", "VALUE_INVALID"), (f"{P}.currency", "VALUE_REQUIRED")],
    ),
    Case(
        "event_builder_add_payment_info_without_value",
        "events: add_payment_info, value Yes* (events.spec.ts requires it)",
        event("add_payment_info", currency="USD", items=SKU),
        warnings=[(f"{P}.value", "VALUE_REQUIRED")],
    ),
    Case(
        "currency_without_value_on_generate_lead",
        "events: generate_lead, value Yes*: a recommendation (Event Builder requires both)",
        event("generate_lead", currency="EUR"),
        warnings=[(f"{P}.value", "VALUE_REQUIRED")],
    ),
    Case(
        "post_score_without_score",
        "events: post_score, score Yes",
        event("post_score", level=3),
        [],
        [(f"{P}.score", "VALUE_REQUIRED")],
    ),
    Case(
        "spend_virtual_currency_without_required",
        "events: spend_virtual_currency, value Yes, virtual_currency_name Yes",
        event("spend_virtual_currency", item_name="Sword"),
        [],
        [(f"{P}.value", "VALUE_REQUIRED"), (f"{P}.virtual_currency_name", "VALUE_REQUIRED")],
    ),
    Case(
        "spend_virtual_currency_needs_no_currency",
        "events: spend_virtual_currency lists no currency (Event Builder requires one)",
        event("spend_virtual_currency", value=5, virtual_currency_name="Gems"),
    ),
    Case(
        "unlock_achievement_without_id",
        "events: unlock_achievement, achievement_id Yes",
        event("unlock_achievement"),
        [],
        [(f"{P}.achievement_id", "VALUE_REQUIRED")],
    ),
    Case(
        "view_item_list_without_items",
        "events: view_item_list, items Yes",
        event("view_item_list", item_list_name="Related"),
        [],
        [(ITEMS, "VALUE_REQUIRED")],
    ),
    Case(
        "select_item_two_items",
        "events: select_item, items 'expected to have a single element'",
        event("select_item", items=[{"item_id": "a"}, {"item_id": "b"}]),
        warnings=[(ITEMS, "EXCEEDED_MAX_ENTITIES")],
    ),
    Case(
        "view_promotion_empty_items",
        "events: view_promotion, items Yes*",
        event("view_promotion", items=[]),
        [],
        [(ITEMS, "VALUE_REQUIRED")],
    ),
    Case("login_without_method", "events: login, method No", event("login")),
    Case("tutorial_begin_bare", "events: tutorial_begin has no params", event("tutorial_begin")),
    # --- Documented types: an error where the event's table lists the param, else a warning.
    Case(
        "level_as_string_on_level_up",
        "events: level_up, level number",
        event("level_up", level="3"),
        [],
        [(f"{P}.level", "VALUE_INVALID")],
    ),
    Case(
        "tax_as_string_on_purchase",
        "events: purchase, tax number",
        event("purchase", transaction_id="T1", **SALE, tax="1.5", items=SKU),
        [],
        [(f"{P}.tax", "VALUE_INVALID")],
    ),
    Case(
        "transaction_id_as_number",
        "events: purchase, transaction_id string",
        event("purchase", transaction_id=123, **SALE, items=SKU),
        [],
        [(f"{P}.transaction_id", "VALUE_INVALID")],
    ),
    Case(
        "price_as_string_in_purchase_item",
        "events: item parameters, price number",
        event("purchase", transaction_id="T1", **SALE, items=[{"item_id": "a", "price": "9"}]),
        [],
        [(f"{ITEMS}[0].price", "VALUE_INVALID")],
    ),
    Case(
        "level_end_success_boolean",
        "events: level_end, success boolean",
        event("level_end", level_name="one", success=True),
    ),
    Case(
        "level_end_success_string",
        "events: level_end, success boolean",
        event("level_end", success="yes"),
        [],
        [(f"{P}.success", "VALUE_INVALID")],
    ),
    Case(
        "event_builder_custom_value_as_string",
        "event-builder: custom.spec.ts 'currency values are numbers' (custom: a warning)",
        with_params(value="hello", currency="USD"),
        warnings=[(f"{P}.value", "VALUE_INVALID")],
    ),
    Case(
        "event_builder_custom_value_with_currency",
        "event-builder: custom.spec.ts 'valid payload with valid currency'",
        with_params(value=9.99, currency="USD"),
    ),
    Case(
        "event_builder_custom_value_without_currency",
        "event-builder: custom.spec.ts 'properties dependency' (custom: a warning)",
        with_params(value=99),
        warnings=[(f"{P}.currency", "VALUE_REQUIRED")],
    ),
    Case(
        "level_as_string_on_custom_event",
        "event-builder: fieldDefinitions.ts level number (custom: a warning)",
        with_params(level="3"),
        warnings=[(f"{P}.level", "VALUE_INVALID")],
    ),
    Case(
        "price_as_string_in_custom_event_item",
        "event-builder: fieldDefinitions.ts ITEM_FIELDS price (custom: a warning)",
        items(1, price="9"),
        warnings=[(f"{ITEMS}[0].price", "VALUE_INVALID")],
    ),
    # --- Currency: an upper-case 3-letter ISO 4217 code.
    Case(
        "event_builder_currency_usdd",
        "event-builder: formatCheckLib.spec.ts 'error for an invalid currency type'",
        event("add_to_cart", currency="USDD", value=1, items=SKU),
        [],
        [(f"{P}.currency", "VALUE_INVALID")],
    ),
    Case(
        "currency_lower_case",
        "events: currency 'in 3-letter ISO 4217 format' (formatCheckLib: uppercase)",
        event("add_to_cart", currency="usd", value=1, items=SKU),
        [],
        [(f"{P}.currency", "VALUE_INVALID")],
    ),
    Case(
        "currency_unknown_code",
        "ours: a well-formed code missing from our ISO 4217 list only warns",
        event("add_to_cart", currency="ABC", value=1, items=SKU),
        warnings=[(f"{P}.currency", "VALUE_INVALID")],
    ),
    Case(
        "currency_malformed_on_custom_event",
        "event-builder: formatCheckLib.ts isValidCurrencyType (custom: a warning)",
        with_params(currency="EURO", value=1),
        warnings=[(f"{P}.currency", "VALUE_INVALID")],
    ),
    Case(
        "item_currency_lower_case",
        "events: item parameters, currency ISO 4217",
        event("purchase", transaction_id="T1", **SALE, items=[{"item_id": "a", "currency": "eur"}]),
        [],
        [(f"{ITEMS}[0].currency", "VALUE_INVALID")],
    ),
    # --- Items: an array of objects, each with item_id or item_name; 200; 10 custom params.
    Case("items_valid", "events: item parameters", items(1, item_name="Hat", price=9.5)),
    Case(
        "items_not_array",
        "events: items Array<Item>",
        with_params(items="sku"),
        [],
        [(ITEMS, "VALUE_INVALID")],
    ),
    Case(
        "item_without_id_or_name",
        "event-builder: item.spec.ts 'ensure required properties are included'",
        with_params(items=[{"price": 1}]),
        [],
        [(f"{ITEMS}[0]", "VALUE_REQUIRED")],
    ),
    Case(
        "event_builder_item_id_and_name_empty",
        "event-builder: formatCheckLib.spec.ts 'item_id and item_name keys have empty values'",
        with_params(items=[{"item_name": "", "item_id": ""}]),
        [],
        [(f"{ITEMS}[0]", "VALUE_REQUIRED")],
    ),
    Case(
        "event_builder_item_reserved_key",
        "event-builder: baseContent.spec.ts 'items don't have reserved name keys'",
        app_body("purchase", {"transaction_id": "1", **SALE, "items": [{"ga_test": "et"}]}),
        [],
        [(f"{ITEMS}[0]", "VALUE_REQUIRED"), (f"{ITEMS}[0].ga_test", "NAME_RESERVED")],
    ),
    Case("items_at_limit", "notes: [S15] 200 items", items(200)),
    Case(
        "items_over_limit",
        "notes: [S15] 200 items",
        items(201),
        [],
        [(ITEMS, "EXCEEDED_MAX_ENTITIES")],
    ),
    Case(
        "item_custom_params_10",
        "sending-events: Limitations, 10 custom item params",
        items(1, **{f"c{i}": i for i in range(10)}),
    ),
    Case(
        "item_custom_params_11",
        "sending-events: Limitations, 10 custom item params",
        items(1, **{f"c{i}": i for i in range(11)}),
        [],
        [(f"{ITEMS}[0]", "EXCEEDED_MAX_ENTITIES")],
    ),
    Case(
        "event_builder_item_param_name_41",
        "event-builder: item.spec.ts 'property names are 40 characters or fewer'",
        items(1, **{"i" * 41: "x"}),
        [],
        [(f"{ITEMS}[0].{'i' * 41}", "NAME_INVALID")],
    ),
    Case(
        "event_builder_item_value_101",
        "event-builder: item.spec.ts 'property values are 100 characters or fewer'",
        with_params(items=[{"item_id": "i" * 101}]),
        [],
        [(f"{ITEMS}[0].item_id", "VALUE_OUT_OF_BOUNDS")],
    ),
    # --- User properties: at most 25, names up to 24, values up to 36, {"value": ...}.
    Case("user_properties_at_limit", "sending-events: Limitations, 25", user_properties(25)),
    Case(
        "user_properties_over_limit",
        "event-builder: userProperties.spec.ts 'more than 25 items'",
        user_properties(26),
        [],
        [("user_properties", "EXCEEDED_MAX_ENTITIES")],
    ),
    Case(
        "user_property_name_24",
        "sending-events: Limitations, ≤ 24",
        valid_body(user_properties={"u" * 24: {"value": 1}}),
    ),
    Case(
        "user_property_name_25",
        "event-builder: userProperties.spec.ts 'property name is over 24 chars'",
        valid_body(user_properties={"u" * 25: {"value": 1}}),
        [],
        [(f"user_properties.{'u' * 25}", "NAME_INVALID")],
    ),
    Case(
        "user_property_name_invalid_character",
        "event-builder: userProperties.spec.ts 'property name has invalid characters'",
        valid_body(user_properties={"prop!": {"value": "1234"}}),
        [],
        [("user_properties.prop!", "NAME_INVALID")],
    ),
    Case(
        "user_property_name_reserved",
        "reference: Reserved user property names",
        valid_body(user_properties={"first_visit_time": {"value": 1}}),
        [],
        [("user_properties.first_visit_time", "NAME_RESERVED")],
    ),
    Case(
        "user_property_name_prefix",
        "reference: reserved user property prefixes",
        valid_body(user_properties={"google_tier": {"value": 1}}),
        [],
        [("user_properties.google_tier", "NAME_RESERVED")],
    ),
    Case(
        "user_property_value_36", "sending-events: Limitations, ≤ 36", user_properties(1, "v" * 36)
    ),
    Case(
        "user_property_value_37",
        "event-builder: userProperties.spec.ts 'values with over 36 chars'",
        user_properties(1, "v" * 37),
        [],
        [("user_properties.prop0.value", "VALUE_OUT_OF_BOUNDS")],
    ),
    Case(
        "user_property_value_boolean",
        "notes: [S23] 'Value is not a string or number.'",
        user_properties(1, True),
        [],
        [("user_properties.prop0.value", "VALUE_INVALID")],
    ),
    Case(
        "user_property_not_object",
        "reference: user_properties {name: {value}}",
        valid_body(user_properties={"tier": "gold"}),
        [("user_properties.tier", "VALUE_INVALID")],
    ),
    Case(
        "user_property_without_value",
        "event-builder: userProperties.spec.ts 'value prop is not included'",
        valid_body(user_properties={"tier": {}}),
        [("user_properties.tier.value", "VALUE_REQUIRED")],
    ),
    Case(
        "user_property_additional_key",
        "event-builder: userProperties.spec.ts 'additional properties are added'",
        valid_body(user_properties={"tier": {"value": "1", "addtlprop": "1"}}),
        [(None, "VALUE_INVALID")],
    ),
    # --- Timestamps: numbers; under ENFORCE within the last 72 hours and not in the future.
    Case(
        "event_timestamp_72h",
        "sending-events: backdate up to 72 hours",
        with_event(timestamp_micros=OLDEST),
    ),
    Case(
        "event_timestamp_over_72h",
        "sending-events: ENFORCE_RECOMMENDATIONS rejects events older than 72 hours",
        with_event(timestamp_micros=OLDEST - 1),
        [],
        [("events[0].timestamp_micros", "VALUE_INVALID")],
    ),
    Case(
        "event_timestamp_latest",
        "ours: a minute of clock difference",
        with_event(timestamp_micros=LATEST),
    ),
    Case(
        "event_timestamp_future",
        "ours: a minute of clock difference",
        with_event(timestamp_micros=LATEST + 1),
        [],
        [("events[0].timestamp_micros", "VALUE_INVALID")],
    ),
    Case(
        "request_timestamp_over_72h",
        "sending-events: ENFORCE_RECOMMENDATIONS, 72 hours",
        valid_body(timestamp_micros=OLDEST - 1),
        [],
        [("timestamp_micros", "VALUE_INVALID")],
    ),
    Case(
        "user_property_timestamp_over_72h",
        "sending-events: ENFORCE_RECOMMENDATIONS rejects user properties older than 72 hours",
        valid_body(user_properties={"tier": {"value": "gold", "timestamp_micros": OLDEST - 1}}),
        [],
        [("user_properties.tier.timestamp_micros", "VALUE_INVALID")],
    ),
    Case(
        "timestamp_not_number",
        "reference: timestamp_micros number",
        with_event(timestamp_micros="yesterday"),
        [("events[0].timestamp_micros", "VALUE_INVALID")],
    ),
]


def _raw(body: Any) -> bytes:
    if isinstance(body, bytes):
        return body
    return encode_body({key: value for key, value in body.items() if value is not None})


def _split(messages: list[ValidationMessage]) -> tuple[Expected, Expected]:
    for message in messages:
        assert message.validation_code in VALIDATION_CODES
    key = repr
    found = sorted(((m.field_path, m.validation_code) for m in messages if m.is_error), key=key)
    warned = sorted(
        ((m.field_path, m.validation_code) for m in messages if not m.is_error), key=key
    )
    return found, warned


def _run(case: Case, behavior: Behavior) -> tuple[Expected, Expected]:
    return _split(validate_body(_raw(case.body), now_micros=NOW_MICROS, behavior=behavior))


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_relaxed(case: Case) -> None:
    """Under RELAXED only malformed requests are reported, each with GA4's code, never a warning."""
    assert _run(case, "RELAXED") == (sorted(case.relaxed, key=repr), [])


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_enforce_recommendations(case: Case) -> None:
    """Under ENFORCE_RECOMMENDATIONS limits, types, required params and warnings are reported."""
    assert _run(case, "ENFORCE_RECOMMENDATIONS") == (
        sorted(case.enforced, key=repr),
        sorted(case.warnings, key=repr),
    )


@pytest.mark.parametrize(
    "case", [c for c in CASES if isinstance(c.body, dict)], ids=lambda case: case.id
)
def test_validate_built_agrees_with_validate_body(case: Case) -> None:
    """The planner's validate_built gives exactly the messages validate_body gives the bytes."""
    payload = {key: value for key, value in case.body.items() if value is not None}
    raw = encode_body(payload)
    built = validate_built(
        payload, size=len(raw), now_micros=NOW_MICROS, behavior="ENFORCE_RECOMMENDATIONS"
    )
    parsed = validate_body(raw, now_micros=NOW_MICROS, behavior="ENFORCE_RECOMMENDATIONS")
    assert built == parsed


def test_every_row_cites_a_known_source() -> None:
    """Each row names a document or schema from SOURCES and the section it relies on."""
    for case in CASES:
        key, _, section = case.source.partition(": ")
        assert key in SOURCES, case.id
        assert section, case.id


def test_rows_cover_every_validation_code_as_error_and_warning() -> None:
    """The table exercises each of GA4's seven codes, and warnings as well as errors."""
    errors = {code for case in CASES for _, code in [*case.relaxed, *case.enforced]}
    assert errors == set(VALIDATION_CODES)
    assert {code for case in CASES for _, code in case.warnings} == {
        "VALUE_INVALID",
        "VALUE_REQUIRED",
        "EXCEEDED_MAX_ENTITIES",
    }


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_warnings_say_so_and_errors_do_not(case: Case) -> None:
    """A warning's description starts with the warning prefix; an error's never does."""
    messages = validate_body(
        _raw(case.body), now_micros=NOW_MICROS, behavior="ENFORCE_RECOMMENDATIONS"
    )
    for message in messages:
        assert message.description.startswith(WARNING_PREFIX) == (not message.is_error)


@pytest.mark.parametrize(
    "case", [c for c in CASES if isinstance(c.body, dict)], ids=lambda case: case.id
)
def test_no_description_quotes_the_visitor_ids(case: Case) -> None:
    """Messages (which become logged reasons) never repeat client_id or user_id."""
    body = {**case.body}
    if body.get("client_id"):
        body["client_id"] = "CID4242.4242"
    if "user_id" in body:
        body["user_id"] = "UID-4242" + "u" * 260
    messages = validate_body(_raw(body), now_micros=NOW_MICROS, behavior="ENFORCE_RECOMMENDATIONS")
    assert not any("4242" in message.description for message in messages)


REQUEST_FIELDS = (
    "client_id",
    "app_instance_id",
    "user_id",
    "consent",
    "validation_behavior",
    "non_personalized_ads",
    "timestamp_micros",
    "user_properties",
    "user_location",
    "device",
    "user_data",
)


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_every_message_is_about_one_event_or_the_request(case: Case) -> None:
    """The planner sets aside one event for a message under events[N] (or naming "Event at
    index: [N]"); every other message is about a request-level field or the whole body."""
    messages = validate_body(
        _raw(case.body), now_micros=NOW_MICROS, behavior="ENFORCE_RECOMMENDATIONS"
    )
    for message in messages:
        path = message.field_path
        if path is None or path.startswith("events["):
            continue
        if path == "events":
            about_one = message.description.startswith("Event at index: [")
            assert about_one or message.validation_code in (
                "VALUE_REQUIRED",
                "VALUE_INVALID",
                "EXCEEDED_MAX_ENTITIES",
            ), message
            continue
        assert path.split(".")[0].split("[")[0] in REQUEST_FIELDS, message


@pytest.mark.parametrize("key", ["validation_behavior", "validationBehavior"])
def test_body_chooses_enforce(key: str) -> None:
    """A body asking for ENFORCE_RECOMMENDATIONS (either spelling) is validated strictly."""
    body = with_params(v="x" * 101)
    body[key] = "ENFORCE_RECOMMENDATIONS"
    messages = validate_body(_raw(body), now_micros=NOW_MICROS)
    assert [(m.field_path, m.validation_code) for m in messages] == [
        (f"{P}.v", "VALUE_OUT_OF_BOUNDS")
    ]
    del body[key]
    assert validate_body(_raw(body), now_micros=NOW_MICROS) == []


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
    messages = validate_body(_raw(valid_body()), now_micros=NOW_MICROS, query=query)
    assert [(m.field_path, m.validation_code) for m in messages] == expected


def test_response_shape_matches_debug_endpoint() -> None:
    """The answer is {"validationMessages": [...]} with fieldPath, description, validationCode."""
    messages = validate_body(_raw(with_event(name="_badEventName")), now_micros=NOW_MICROS)
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


def test_a_warning_has_the_debug_endpoints_shape() -> None:
    """A warning is a validation message with the same three keys, marked in its description."""
    body = event("add_to_cart", currency="EUR", items=SKU)
    messages = validate_body(_raw(body), now_micros=NOW_MICROS, behavior="ENFORCE_RECOMMENDATIONS")
    [warning] = validation_response(messages)["validationMessages"]
    assert set(warning) == {"fieldPath", "description", "validationCode"}
    assert warning["fieldPath"] == f"{P}.value"
    assert warning["description"].startswith(WARNING_PREFIX)
