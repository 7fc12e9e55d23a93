"""GA4's recommended events for web streams: their parameters, what each requires, types.

Pure data, read from the Measurement Protocol events reference
(https://developers.google.com/analytics/devguides/collection/protocol/ga4/reference/events,
one section per event, cited below as ``events#<name>``), whose tables give each
parameter a type and a "Required" column:

- **Yes**: GA4 needs it. Missing under ENFORCE_RECOMMENDATIONS is refused (an error).
- **Yes\\*** on ``value``/``currency``: the footnote says "``value`` is typically required for
  meaningful reporting" (a recommendation: a warning when missing) and "``currency`` is
  required if you set ``value``" (an error when ``value`` comes without it).
- **Yes\\*** on ``items`` of ``select_item`` and ``view_promotion``: required, and "expected to
  have a single element ... only the first element in items will be used" (a warning
  when there are more).
- **No**: optional; only its documented type is checked.

App-only events (``ad_impression``, ``screen_view``, ``in_app_purchase``) are not here: a
web stream may not send them at all (``limits.APP_ONLY_EVENT_NAMES``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

ParamType = Literal["number", "string", "boolean"]


@dataclass(frozen=True, slots=True)
class RecommendedEvent:
    """One recommended event's table: every parameter it lists, and what it requires."""

    name: str
    params: frozenset[str]
    required: frozenset[str] = frozenset()
    # ``value`` and ``currency`` are "Yes*": value recommended, currency required with it.
    value_recommended: bool = False
    # ``items`` is "Yes*: expected to have a single element".
    single_item: bool = False

    @property
    def source(self) -> str:
        """Where the table is: the events reference's section for this event."""
        return f"events#{self.name}"


def _event(
    name: str,
    params: str = "",
    *,
    required: str = "",
    value_recommended: bool = False,
    single_item: bool = False,
) -> RecommendedEvent:
    listed = frozenset(params.split()) | frozenset(required.split())
    if value_recommended:
        listed |= {"value", "currency"}
    return RecommendedEvent(
        name, listed, frozenset(required.split()), value_recommended, single_item
    )


_EVENTS = (
    # events#add_payment_info ... events#working_lead, in the reference's order.
    _event("add_payment_info", "coupon payment_type", required="items", value_recommended=True),
    _event("add_shipping_info", "coupon shipping_tier", required="items", value_recommended=True),
    _event("add_to_cart", required="items", value_recommended=True),
    _event("add_to_wishlist", required="items", value_recommended=True),
    _event("begin_checkout", "coupon", required="items", value_recommended=True),
    _event("campaign_details", "campaign_id campaign source medium term content"),
    _event("close_convert_lead", value_recommended=True),
    _event("close_unconvert_lead", "unconvert_lead_reason", value_recommended=True),
    _event("disqualify_lead", "disqualified_lead_reason", value_recommended=True),
    _event("earn_virtual_currency", "virtual_currency_name value"),
    _event("generate_lead", "lead_source", value_recommended=True),
    _event("join_group", "group_id"),
    _event("level_end", "level_name success"),
    _event("level_start", "level_name"),
    _event("level_up", "level character"),
    _event("login", "method"),
    _event("post_score", "level character", required="score"),
    _event(
        "purchase",
        "coupon shipping tax",
        required="transaction_id items",
        value_recommended=True,
    ),
    _event("qualify_lead", value_recommended=True),
    _event(
        "refund", "coupon shipping tax items", required="transaction_id", value_recommended=True
    ),
    _event("remove_from_cart", required="items", value_recommended=True),
    _event("search", required="search_term"),
    _event("select_content", "content_type content_id"),
    _event("select_item", "item_list_id item_list_name", required="items", single_item=True),
    _event("select_promotion", "creative_name creative_slot promotion_id promotion_name items"),
    _event("share", "method content_type item_id"),
    _event("sign_up", "method"),
    _event("spend_virtual_currency", "item_name", required="value virtual_currency_name"),
    _event("tutorial_begin"),
    _event("tutorial_complete"),
    _event("unlock_achievement", required="achievement_id"),
    _event("view_cart", required="items", value_recommended=True),
    _event("view_item", required="items", value_recommended=True),
    _event("view_item_list", "item_list_id item_list_name", required="items"),
    _event(
        "view_promotion",
        "creative_name creative_slot promotion_id promotion_name",
        required="items",
        single_item=True,
    ),
    # Listed by the gtag events reference and Google's Event Builder, no parameter required.
    _event("view_search_results", "search_term"),
    _event("working_lead", "lead_status", value_recommended=True),
)
RECOMMENDED_EVENTS: Mapping[str, RecommendedEvent] = {event.name: event for event in _EVENTS}

# The "Type" column of the event tables. A parameter has the same type in every table that
# lists it. Under ENFORCE_RECOMMENDATIONS GA4 "rejects event and item params with the
# wrong type" (reference#payload_post_body, validation_behavior). Google's Event Builder
# checks the same names on custom events too (schemas/eventTypes/fieldDefinitions.ts,
# EVENT_FIELDS, applied by custom.ts).
_NUMBERS = "value tax shipping level score"
_STRINGS = (
    "currency transaction_id coupon payment_type shipping_tier affiliation"
    " virtual_currency_name group_id character method search_term content_type content_id"
    " item_id item_name item_list_id item_list_name creative_name creative_slot"
    " promotion_id promotion_name location_id achievement_id lead_source lead_status"
    " unconvert_lead_reason disqualified_lead_reason level_name"
    " campaign_id campaign source medium term content"
)
PARAM_TYPES: Mapping[str, ParamType] = {
    **dict.fromkeys(_STRINGS.split(), "string"),
    **dict.fromkeys(_NUMBERS.split(), "number"),
    # events#level_end: "success boolean".
    "success": "boolean",
}

# The "Item parameters" tables (events#purchase_item and the others, identical); the
# Event Builder's ITEM_FIELDS (schemas/eventTypes/fieldDefinitions.ts) agree.
_ITEM_NUMBERS = "discount index price quantity"
_ITEM_STRINGS = (
    "item_id item_name affiliation coupon currency item_brand item_category item_category2"
    " item_category3 item_category4 item_category5 item_list_id item_list_name item_variant"
    " location_id creative_name creative_slot promotion_id promotion_name"
)
ITEM_PARAM_TYPES: Mapping[str, ParamType] = {
    **dict.fromkeys(_ITEM_STRINGS.split(), "string"),
    **dict.fromkeys(_ITEM_NUMBERS.split(), "number"),
}


def type_matches(value: object, expected: ParamType) -> bool:
    """True when a JSON value has the documented type (a boolean is not a number)."""
    if expected == "boolean":
        return isinstance(value, bool)
    if isinstance(value, bool):
        return False
    if expected == "number":
        return isinstance(value, int | float)
    return isinstance(value, str)


def required_params_missing(name: str, present: frozenset[str]) -> list[str]:
    """The parameters recommended event ``name`` requires that ``present`` lacks, sorted."""
    event = RECOMMENDED_EVENTS.get(name)
    return [] if event is None else sorted(event.required - present)
