"""GA4 Measurement Protocol rules: limits, name patterns and reserved names.

Pure data plus the name checks, shared by the mapping (checked at load time) and the
validator (checked per request). Each value names its source (as in
:mod:`~loyjoy_relay.core.ga4.validation.body`); ``docs/ga4.md`` says where sources disagree.
"""

from __future__ import annotations

import re
import unicodedata

# sending-events, Limitations (the Event Builder's schemas agree: events.ts, event.ts,
# custom.ts, userProperties.ts, item.ts).
MAX_EVENTS_PER_REQUEST = 25
MAX_PARAMS_PER_EVENT = 25
MAX_USER_PROPERTIES = 25
MAX_EVENT_NAME_LENGTH = 40
MAX_PARAM_NAME_LENGTH = 40
MAX_PARAM_VALUE_LENGTH = 100
MAX_USER_PROPERTY_NAME_LENGTH = 24
MAX_USER_PROPERTY_VALUE_LENGTH = 36
# [S7] GA4 event collection limits.
MAX_USER_ID_LENGTH = 256
# [S15] Firebase "Measure ecommerce": items beyond 200 are dropped.
MAX_ITEMS_PER_EVENT = 200
# The MP pages say 10 custom item params, the ecommerce pages 27: the stricter one wins.
MAX_CUSTOM_ITEM_PARAMS = 10
# "The request body must be < 130 kB"; Google's Event Builder flags ``size > 130000``.
MAX_BODY_BYTES = 130_000
# Events and user properties may be backdated by at most 72 hours.
MAX_AGE_MICROS = 72 * 3600 * 1_000_000
# Not documented: a timestamp must not be after the request; we allow a minute of clock
# difference between the sender and the checker.
MAX_FUTURE_MICROS = 60 * 1_000_000

# [S8] Page fields have longer value limits than other params (GA/Firebase help).
LONG_PARAM_LIMITS = {"page_title": 300, "page_referrer": 420, "page_location": 1000}
# sending-events, Limitations: values of these params are exempt from the length limit.
UNLIMITED_PARAMS = frozenset({"session_id", "session_number"})

# sending-events, Limitations: names start with a letter and hold only letters, digits
# and underscores (Event Builder event.ts: "^[A-Za-z][A-Za-z0-9_]*$").
NAME_PATTERN = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


def param_value_limit(name: str) -> int | None:
    """GA4's length limit for the string value of event param ``name`` (None: exempt)."""
    if name in UNLIMITED_PARAMS:
        return None
    return LONG_PARAM_LIMITS.get(name, MAX_PARAM_VALUE_LENGTH)


_ZERO_WIDTH_JOINER = "\u200d"
_PARTIAL_ESCAPE = re.compile(r"%[0-9A-Fa-f]?$")


def _continues(char: str) -> bool:
    """True for a character that belongs to the one before it (a combining mark, a
    variation selector, an emoji skin tone)."""
    code = ord(char)
    return (
        unicodedata.category(char) in ("Mn", "Mc", "Me")
        or 0xFE00 <= code <= 0xFE0F
        or 0xE0100 <= code <= 0xE01EF
        or 0x1F3FB <= code <= 0x1F3FF
    )


def cut(value: str, limit: int) -> str:
    """``value`` in at most ``limit`` characters, cut on a character boundary: never
    inside a combining sequence, an emoji sequence or a ``%XX`` escape."""
    if len(value) <= limit:
        return value
    end = limit
    while end > 0 and (
        _continues(value[end]) or _ZERO_WIDTH_JOINER in (value[end], value[end - 1])
    ):
        end -= 1
    return _PARTIAL_ESCAPE.sub("", value[:end])


# reference, "Reserved event names".
RESERVED_EVENT_NAMES = frozenset(
    {
        "ad_activeview",
        "ad_click",
        "ad_exposure",
        "ad_query",
        "ad_reward",
        "adunit_exposure",
        "app_clear_data",
        "app_exception",
        "app_install",
        "app_remove",
        "app_store_refund",
        "app_update",
        "app_upgrade",
        "dynamic_link_app_open",
        "dynamic_link_app_update",
        "dynamic_link_first_open",
        "error",
        "firebase_campaign",
        "firebase_in_app_message_action",
        "firebase_in_app_message_dismiss",
        "firebase_in_app_message_impression",
        "first_open",
        "first_visit",
        "notification_dismiss",
        "notification_foreground",
        "notification_open",
        "notification_receive",
        "notification_send",
        "os_update",
        "session_start",
        "user_engagement",
    }
)
# Allowed for app streams only; a web stream (``client_id``) may not send them (events
# reference: ad_impression "is available only for App streams"; [S4] changelog).
APP_ONLY_EVENT_NAMES = frozenset({"ad_impression", "in_app_purchase", "screen_view"})
# reference, reserved prefixes (Event Builder: "^(?!ga_|google_|firebase_)").
RESERVED_EVENT_PREFIXES = ("_", "firebase_", "ga_", "google_")

# reference, "Reserved parameter names" and prefixes.
RESERVED_PARAM_NAMES = frozenset({"firebase_conversion"})
RESERVED_PARAM_PREFIXES = ("_", "firebase_", "ga_", "google_", "gtag.")

# reference and user-properties page, "Reserved user property names" and prefixes.
RESERVED_USER_PROPERTY_NAMES = frozenset(
    {
        "first_open_time",
        "first_visit_time",
        "last_deep_link_referrer",
        "user_id",
        "first_open_after_install",
    }
)
RESERVED_USER_PROPERTY_PREFIXES = ("_", "firebase_", "ga_", "google_")

# events#purchase_item: the item parameters GA4 defines (custom ones count to the 10).
STANDARD_ITEM_PARAMS = frozenset(
    {
        "item_id",
        "item_name",
        "affiliation",
        "coupon",
        "discount",
        "index",
        "item_brand",
        "item_category",
        "item_category2",
        "item_category3",
        "item_category4",
        "item_category5",
        "item_list_id",
        "item_list_name",
        "item_variant",
        "location_id",
        "price",
        "quantity",
        "promotion_id",
        "promotion_name",
        "creative_name",
        "creative_slot",
    }
)


def event_name_problem(name: str, *, web_stream: bool = True) -> tuple[str, str] | None:
    """Why ``name`` cannot be a GA4 event name, as (validation code, reason); else None."""
    if not name[:1].isascii() or not name[:1].isalpha():
        return "NAME_INVALID", "Names must start with an alphabetic character."
    if name.startswith(RESERVED_EVENT_PREFIXES):
        return "NAME_RESERVED", "Names must not start with a reserved prefix."
    if not NAME_PATTERN.match(name):
        return "NAME_INVALID", (
            "Names must start with an alphabetic character and contain only alphanumeric "
            "characters and underscores."
        )
    if len(name) > MAX_EVENT_NAME_LENGTH:
        return "NAME_INVALID", f"Names must be at most {MAX_EVENT_NAME_LENGTH} characters long."
    if name in RESERVED_EVENT_NAMES or (web_stream and name in APP_ONLY_EVENT_NAMES):
        return "NAME_RESERVED", "The name is reserved."
    return None


def param_name_problem(name: str) -> tuple[str, str] | None:
    """Why ``name`` cannot be a GA4 event parameter name, as (code, reason); else None."""
    if name in RESERVED_PARAM_NAMES or (
        name.startswith(RESERVED_PARAM_PREFIXES) and not name.startswith("_")
    ):
        return "NAME_RESERVED", "The name is reserved or uses a reserved prefix."
    if not NAME_PATTERN.match(name):
        return "NAME_INVALID", (
            "Names must start with an alphabetic character and contain only alphanumeric "
            "characters and underscores."
        )
    if len(name) > MAX_PARAM_NAME_LENGTH:
        return "NAME_INVALID", f"Names must be at most {MAX_PARAM_NAME_LENGTH} characters long."
    return None


def user_property_name_problem(name: str) -> tuple[str, str] | None:
    """Why ``name`` cannot be a user property name, as (code, reason); else None."""
    if name in RESERVED_USER_PROPERTY_NAMES or (
        name.startswith(RESERVED_USER_PROPERTY_PREFIXES) and not name.startswith("_")
    ):
        return "NAME_RESERVED", "The name is reserved or uses a reserved prefix."
    if not NAME_PATTERN.match(name):
        return "NAME_INVALID", (
            "Names must start with an alphabetic character and contain only alphanumeric "
            "characters and underscores."
        )
    if len(name) > MAX_USER_PROPERTY_NAME_LENGTH:
        return "NAME_INVALID", (
            f"Names must be at most {MAX_USER_PROPERTY_NAME_LENGTH} characters long."
        )
    return None


_APP_INSTANCE_ID = re.compile(r"^[0-9a-fA-F]{32}$")


def app_instance_id_ok(app_instance_id: str) -> bool:
    """True for the 32 hex digits the Firebase SDK makes."""
    return bool(_APP_INSTANCE_ID.match(app_instance_id))
