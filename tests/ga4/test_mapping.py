"""The mapping file: names, families, params, sessions and routing; bad names fail at load."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from loyjoy_relay.adapters.mapping_file import load_mapping, parse_mapping
from loyjoy_relay.config import shipped_file
from loyjoy_relay.core.catalogue import CATALOGUE
from loyjoy_relay.core.consent.privacy import redact
from loyjoy_relay.core.events import LoyJoyEvent
from loyjoy_relay.core.ga4 import limits
from loyjoy_relay.core.ga4.mapping import Ga4Mapping
from loyjoy_relay.core.ga4.routing import Ga4Property, SecretRef
from loyjoy_relay.errors import ConfigError, Ga4Rejected

from tests.ga4.conftest import NOW_MS

SOURCE = "ga4-mapping.yaml"


def event(**fields: Any) -> LoyJoyEvent:
    values: dict[str, Any] = {
        "evt": "open",
        "bot_id": "bot-1",
        "client_id": "1234567890.1700000000",
        "event_id": "2b1f9f4e-8c1a-4c55-9d1e-0a7f6f3c2b10",
        "ts": NOW_MS - 60_000,
    }
    return LoyJoyEvent.model_validate({**values, **fields})


def mapping(text: str) -> Ga4Mapping:
    return parse_mapping(text, source=SOURCE)


@pytest.fixture(scope="module")
def shipped() -> Ga4Mapping:
    return load_mapping(shipped_file("ga4-mapping.yaml"))


def test_shipped_mapping_names_every_catalogue_event_validly(shipped: Ga4Mapping) -> None:
    """Every LoyJoy event maps, with the shipped file, to a name GA4 accepts."""
    for evt in CATALOGUE:
        name, _ = shipped.event_name(evt)
        assert limits.event_name_problem(name) is None, (evt, name)


def test_identity_by_default_and_renames_verbatim(shipped: Ga4Mapping) -> None:
    """Unlisted events keep their LoyJoy name; renames give GA4 recommended names."""
    assert shipped.event_name("open") == ("open", {})
    assert shipped.event_name("sign_in") == ("login", {})
    assert shipped.event_name("sign_up") == ("sign_up", {})


def test_prefix_applies_to_unrenamed_and_family_names_only() -> None:
    """A prefix is put before identity and family names, not before explicit renames."""
    m = mapping(
        "prefix: lj_\nrename: {sign_in: login}\n"
        "families: [{prefix: nps_survey_score_, event: nps, param: score, min: 0, max: 10}]"
    )
    assert m.event_name("open") == ("lj_open", {})
    assert m.event_name("sign_in") == ("login", {})
    assert m.event_name("nps_survey_score_3") == ("lj_nps", {"score": 3})


@pytest.mark.parametrize(("evt", "score"), [("nps_survey_score_0", 0), ("nps_survey_score_10", 10)])
def test_family_folds_into_one_event_with_a_number(
    shipped: Ga4Mapping, evt: str, score: int
) -> None:
    """nps_survey_score_0..10 become one nps_survey_score event with a numeric score."""
    mapped = shipped.map_event(event(evt=evt))
    assert mapped.name == "nps_survey_score"
    assert mapped.params["score"] == score


def test_family_outside_its_range_is_not_folded() -> None:
    """A name past the family's max keeps its own name."""
    m = mapping("families: [{prefix: nps_survey_score_, event: nps, param: score, max: 10}]")
    assert m.event_name("nps_survey_score_11") == ("nps_survey_score_11", {})


def test_mapped_event_carries_params_session_engagement_and_time(shipped: Ga4Mapping) -> None:
    """Configured fields become params; session_id, engagement_time_msec and time are set."""
    source = event(
        process_id="p1",
        process_name="Onboarding",
        page_location="https://shop.example/",
        page_title="Shop",
        language="de",
        session_id="1759990000",
        user_id="must-not-appear",
    )
    mapped = shipped.map_event(source)
    assert mapped.params == {
        "bot_id": "bot-1",
        "process_id": "p1",
        "process_name": "Onboarding",
        "page_location": "https://shop.example/",
        "page_title": "Shop",
        "language": "de",
        "session_id": 1759990000,
        "engagement_time_msec": 100,
    }
    assert mapped.timestamp_micros == source.ts * 1000
    assert mapped.source_event_id == source.event_id
    assert mapped.bot_id == "bot-1"


def test_session_fallback_is_one_session_per_client_day(shipped: Ga4Mapping) -> None:
    """Without the page's session id, events of one UTC day share a numeric session id."""
    day_start = NOW_MS // 86_400_000 * 86_400_000
    first = shipped.map_event(event(ts=day_start + 1))
    last = shipped.map_event(event(ts=day_start + 86_399_999))
    assert first.params["session_id"] == last.params["session_id"] == day_start // 1000
    none = mapping("session_id_fallback: none").map_event(event())
    assert "session_id" not in none.params
    assert none.params["engagement_time_msec"] == 100


def test_long_values_are_cut_to_ga4_limits_after_the_privacy_step(shipped: Ga4Mapping) -> None:
    """Mapping keeps values whole (redaction comes first); the outgoing event has them cut to
    GA4's limits, so a strict check never fails on them."""
    mapped = shipped.map_event(
        event(process_name="x" * 300, page_title="t" * 400, url="https://a/" + "u" * 1000)
    )
    assert len(str(mapped.params["process_name"])) == 300
    sent = redact(mapped)
    assert len(str(sent.params["process_name"])) == 100
    assert len(str(sent.params["page_title"])) == 300
    assert len(str(sent.params["link_url"])) == 100


def test_uncatalogued_name_breaking_rules_is_rejected_at_map_time(shipped: Ga4Mapping) -> None:
    """A custom name that GA4 would refuse is a permanent failure, not a bad request."""
    with pytest.raises(Ga4Rejected, match="session_start"):
        shipped.map_event(event(evt="session_start"))


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("prefix: loyjoy_chat_", "prefix"),
        ("rename: {open: session_start}", "rename.open"),
        ("rename: {open: chat-open}", "rename.open"),
        ("rename: {open: ga_open}", "rename.open"),
        (f"rename: {{open: {'o' * 41}}}", "rename.open"),
        ("families: [{prefix: nps_survey_score_, event: 'n-p-s', param: score}]", "families[0]"),
        ("families: [{prefix: nps_survey_score_, event: nps, param: _score}]", "families[0].param"),
        ("families: [{prefix: nps_survey_score_, param: score}]", "families[0].event"),
        ("params: {client_id: cid}", "params.client_id"),
        ("params: {bot_id: google_bot}", "params.bot_id"),
        ("params: {bot_id: session_id}", "params.bot_id"),
        # A recommended event whose required params a chat event cannot carry (events
        # reference: search_term, transaction_id, items Yes).
        ("rename: {open: search}", "rename.open"),
        ("rename: {open: refund}", "rename.open"),
        ("rename: {open: add_to_cart}", "rename.open"),
        ("families: [{prefix: nps_survey_score_, event: purchase, param: tax}]", "families[0]"),
        # Params a chat event cannot fill as GA4 requires: numbers, currency, value, items.
        ("params: {label: value}", "params.label"),
        ("params: {label: level}", "params.label"),
        ("params: {label: currency}", "params.label"),
        ("params: {label: items}", "params.label"),
        ("families: [{prefix: nps_survey_score_, event: nps, param: value}]", "families[0].param"),
        (
            "families: [{prefix: nps_survey_score_, event: nps, param: success}]",
            "families[0].param",
        ),
        ("engagement_time_msec: 0", "engagement_time_msec"),
        ("session_id_fallback: week", "session_id_fallback"),
        ("colour: blue", "colour"),
        ("version: 2", "version"),
        (
            "properties: {b1: {measurement_id: UA-1, api_secret_env: S}}",
            "properties.b1.measurement_id",
        ),
        ("properties: {b1: {measurement_id: G-ABC123}}", "properties.b1"),
        (
            "properties: {b1: {measurement_id: G-ABC123, api_secret_name: my-secret}}",
            "properties.b1.api_secret_name",
        ),
    ],
)
def test_bad_mapping_fails_at_load_naming_file_and_key(text: str, key: str) -> None:
    """A name or setting that breaks GA4's rules is a ConfigError naming the file and key."""
    with pytest.raises(ConfigError) as caught:
        mapping(text)
    assert str(caught.value).startswith(f"{SOURCE}: {key}: ")


def test_long_prefix_error_names_the_event_to_rename() -> None:
    """A too-long prefix names the LoyJoy event that no longer fits."""
    with pytest.raises(ConfigError, match="web_push_opt_in_subscription_request"):
        mapping("prefix: chat_x")


def test_custom_names_are_checked_at_load() -> None:
    """Configured custom event names are checked with the catalogue at load time."""
    with pytest.raises(ConfigError, match="first_visit"):
        parse_mapping("", source=SOURCE, custom_names=["first_visit"])


def test_custom_name_of_a_recommended_event_needs_its_required_params() -> None:
    """A site's custom event named like GA4's refund fails at load, naming what it lacks."""
    with pytest.raises(ConfigError) as caught:
        parse_mapping("", source=SOURCE, custom_names=["refund"])
    assert str(caught.value).startswith(f"{SOURCE}: custom event 'refund': ")
    assert "transaction_id" in str(caught.value)
    assert parse_mapping("rename: {refund: chat_refund}", source=SOURCE, custom_names=["refund"])


def test_recommended_events_a_chat_event_can_fill_are_allowed() -> None:
    """Renames to recommended events without required params, and a family giving
    post_score its required score, load and map."""
    m = mapping(
        "rename: {open: tutorial_begin, end: generate_lead, start: select_content}\n"
        "families: [{prefix: nps_survey_score_, event: post_score, param: score, max: 10}]"
    )
    assert m.map_event(event(evt="nps_survey_score_7")).params["score"] == 7
    assert m.event_name("end") == ("generate_lead", {})


def test_a_family_number_for_a_text_param_is_sent_as_text() -> None:
    """A family whose param the events reference types as a string sends the number as text."""
    m = mapping(
        "families: [{prefix: nps_survey_score_, event: unlock_achievement,"
        " param: achievement_id, max: 10}]"
    )
    assert m.map_event(event(evt="nps_survey_score_4")).params["achievement_id"] == "4"


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    """A mapping path with no file names GA4_MAPPING."""
    with pytest.raises(ConfigError, match="GA4_MAPPING"):
        load_mapping(tmp_path / "nope.yaml")


def test_per_bot_property_routing() -> None:
    """A bot with its own property is routed there; every other bot to the default."""
    m = mapping(
        "properties:\n"
        "  shop-bot: {measurement_id: G-SHOP123, api_secret_name: "
        "projects/p/secrets/shop/versions/latest}\n"
        "  dev-bot: {measurement_id: G-DEV1234, api_secret_env: GA4_SECRET_DEV}\n"
    )
    default = Ga4Property("G-DEFAULT1", SecretRef("value", "x"))
    assert m.property_for("shop-bot", default) == Ga4Property(
        "G-SHOP123", SecretRef("secret_manager", "projects/p/secrets/shop/versions/latest")
    )
    assert m.property_for("dev-bot", default).secret == SecretRef("env", "GA4_SECRET_DEV")
    assert m.property_for("other", default) is default
