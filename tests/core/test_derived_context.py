"""Derived context: location from a load balancer or a time zone, and what each outcome may
carry of it (the rules' ``ga4_context``)."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml
from loyjoy_relay.adapters.fakes import SequentialClientIds
from loyjoy_relay.adapters.mapping_file import load_mapping
from loyjoy_relay.adapters.rules_file import check_rules_text
from loyjoy_relay.cli.rules_command import summary
from loyjoy_relay.config import shipped_file
from loyjoy_relay.core.consent.context import outgoing_context
from loyjoy_relay.core.consent.history import ConsentRecord
from loyjoy_relay.core.context.location import (
    locate,
    location_from_headers,
    location_from_time_zone,
)
from loyjoy_relay.core.context.model import DeviceContext, LocationContext, RequestContext
from loyjoy_relay.core.events import LoyJoyEvent
from loyjoy_relay.core.ga4.routing import Ga4Property, SecretRef
from loyjoy_relay.core.planner import Planner
from loyjoy_relay.devstack.event_factory import contract_event

from tests.consent.conftest import SHIPPED_RULES, shipped_rules

BOT, CLIENT, NOW = "bot-a", "1234567890.1700000000", 1_732_450_000_000
GRANT = ConsentRecord(NOW - 60_000, "grant", BOT, "earlier", "profiling_single_opt_in")
IPHONE = DeviceContext(
    category="mobile",
    operating_system="iOS",
    operating_system_version="17",
    browser="Safari",
    browser_version="17",
)
BAVARIA = LocationContext(country_id="DE", region_id="DE-BY")


def event(evt: str = "start", **fields: Any) -> LoyJoyEvent:
    defaults = {"bot_id": BOT, "client_id": CLIENT, "ts": NOW - 1000}
    return LoyJoyEvent.model_validate(contract_event(evt, **{**defaults, **fields}))


@pytest.mark.parametrize(
    ("country", "subdivision", "expected"),
    [
        ("DE", "DEBY", ("DE", "DE-BY")),
        ("us", "usca", ("US", "US-CA")),
        ("US", "US-NY", ("US", "US-NY")),
        ("DE", "USCA", ("DE", None)),  # a subdivision of another country is not kept
        ("DE", None, ("DE", None)),
        ("ZZ", "ZZ", None),  # CLDR's unknown region
        ("DE,FR", None, None),  # a header added twice
        ("", "DEBY", None),
        (None, None, None),
    ],
)
def test_load_balancer_headers_give_a_country_and_a_subdivision_in_it(
    country: str | None, subdivision: str | None, expected: tuple[str, str | None] | None
) -> None:
    """``{client_region}``/``{client_region_subdivision}`` become ISO 3166 codes, or nothing."""
    found = location_from_headers(country, subdivision)
    assert ((found.country_id, found.region_id) if found else None) == expected


@pytest.mark.parametrize(
    ("zone", "country"),
    [
        ("Europe/Berlin", "DE"),
        ("Asia/Calcutta", "IN"),  # a legacy link Chrome still reports
        ("America/Argentina/Salta", "AR"),
        ("UTC", None),
        ("Etc/GMT+5", None),
        ("Mars/Olympus", None),
        (None, None),
    ],
)
def test_a_time_zone_gives_one_country(zone: str | None, country: str | None) -> None:
    """tzdata's zone.tab gives one country per zone; UTC and unknown names give none."""
    found = location_from_time_zone(zone)
    assert (found.country_id if found else None) == country


def test_the_load_balancer_wins_over_the_time_zone_and_m49_follows_the_country() -> None:
    """The address's location beats the browser's zone; continent and sub-continent come
    from the UN M49 table."""
    located = locate(BAVARIA, "America/New_York")
    assert located is not None
    assert (located.country_id, located.region_id, located.source) == (
        "DE",
        "DE-BY",
        "load_balancer",
    )
    assert (located.subcontinent_id, located.continent_id) == ("155", "150")
    by_zone = locate(None, "America/New_York")
    assert by_zone is not None
    assert (by_zone.country_id, by_zone.subcontinent_id, by_zone.continent_id) == (
        "US",
        "021",
        "019",
    )
    assert by_zone.source == "time_zone"


def test_each_outcome_carries_what_the_shipped_rules_allow() -> None:
    """Forwarded: everything known; anonymized: the country (with M49) and the category
    only; dropped: nothing."""
    policy = shipped_rules().for_bot(BOT)
    context = RequestContext(device=IPHONE, location=BAVARIA)
    source = event(language="de-DE", screen_resolution="390x844", time_zone="Europe/Berlin")
    forward = outgoing_context("forward", policy, context, source)
    assert forward.user_location == {
        "country_id": "DE",
        "region_id": "DE-BY",
        "subcontinent_id": "155",
        "continent_id": "150",
    }
    assert forward.device == {
        "category": "mobile",
        "language": "de-DE",
        "screen_resolution": "390x844",
        "operating_system": "iOS",
        "operating_system_version": "17",
        "browser": "Safari",
        "browser_version": "17",
    }
    anonymous = outgoing_context("anonymize", policy, context, source)
    assert anonymous.user_location == {
        "country_id": "DE",
        "subcontinent_id": "155",
        "continent_id": "150",
    }
    assert anonymous.device == {"category": "mobile"}
    assert anonymous.note == "context: user_location DE/155/150 (load balancer); device mobile"
    drop = outgoing_context("drop", policy, context, source)
    assert (drop.user_location, drop.device) == (None, None)


def test_a_device_goes_only_with_its_category_and_a_language_only_as_a_language_tag() -> None:
    """Without a category (no user agent) no ``device`` is sent; a language field holding
    other text is never copied into it."""
    policy = shipped_rules().for_bot(BOT)
    no_category = RequestContext(device=DeviceContext(browser="Firefox", browser_version="133"))
    found = outgoing_context("forward", policy, no_category, event(screen_resolution="800x600"))
    assert found.device is None
    odd = event(language="jane@example.com", time_zone="Europe/Paris")
    found = outgoing_context("forward", policy, RequestContext(device=IPHONE), odd)
    assert found.device is not None
    assert "language" not in found.device
    assert found.user_location == {
        "country_id": "FR",
        "subcontinent_id": "155",
        "continent_id": "150",
    }


def test_the_rules_choose_the_fields_per_outcome_and_per_bot() -> None:
    """A bot's ``ga4_context`` replaces the file's: here its forwarded events carry only the
    country and category, and its anonymized ones nothing."""
    rules = shipped_rules(
        bots={
            BOT: {
                "ga4_context": {
                    "forward": {"user_location": ["country_id"], "device": ["category"]}
                }
            }
        }
    )
    planner = Planner(
        rules,
        load_mapping(shipped_file("ga4-mapping.yaml")),
        Ga4Property("G-TEST12345", SecretRef("value", "s")),
    )
    context = RequestContext(device=IPHONE, location=BAVARIA)
    plan = planner.plan(
        [event("start"), event("open")],
        [GRANT],
        now_ms=NOW,
        new_client_id=SequentialClientIds(),
        context=context,
    )
    bodies = {tuple(p.event_ids): json.loads(p.request.body) for p in plan.requests}
    forwarded, anonymized = (bodies[(o.event_id,)] for o in plan.outcomes)
    assert forwarded["user_location"] == {"country_id": "DE"}
    assert forwarded["device"] == {"category": "mobile"}
    assert "user_location" not in anonymized
    assert "device" not in anonymized


def rules_problems(extra: str) -> list[str]:
    """The problems of the shipped rules without the two new keys, plus ``extra``."""
    data = yaml.safe_load(SHIPPED_RULES.read_text())
    for key in ("ga4_context", "site_consent"):
        data.pop(key)
    _, problems = check_rules_text(yaml.safe_dump(data) + extra)
    return [problem.message for problem in problems]


def test_rules_check_knows_the_new_keys() -> None:
    """``ga4_context`` and ``site_consent`` are checked like every key: unknown fields and
    values are named, and anonymized events may not carry more than forwarded ones."""
    assert rules_problems("\nsite_consent: ignore\n") == []
    assert (
        rules_problems(
            "\nga4_context:\n  forward: {user_location: [country_id], device: [category]}\n"
            "  anonymize: {device: [category]}\n"
        )
        == []
    )
    assert rules_problems("\nsite_consent: sometimes\n") == [
        "site_consent: Input should be 'respect' or 'ignore'"
    ]
    [city] = rules_problems("\nga4_context:\n  forward: {user_location: [city]}\n")
    assert city.startswith("ga4_context.forward.user_location.0: Input should be")
    [wider] = rules_problems(
        "\nga4_context:\n  forward: {device: [category]}\n"
        "  anonymize: {device: [category, browser]}\n"
    )
    assert "may not carry more than forwarded ones: 'browser'" in wider
    [unknown] = rules_problems("\nga4_context:\n  forwarded: {device: [category]}\n")
    assert unknown == "ga4_context.forwarded: unknown key"
    said = summary(shipped_rules(site_consent="ignore"))
    assert "anonymized ones user_location continent_id, subcontinent_id, country_id and " in said
    assert "device category." in said
    assert "The site's own consent banner is ignored." in said
