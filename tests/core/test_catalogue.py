"""The LoyJoy event catalogue: complete, and consent events classified exactly."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from loyjoy_relay.core.catalogue import (
    CATALOGUE,
    Category,
    ConsentAction,
    ConsentTopic,
    lookup,
    profiling_events,
)

from tests.support.emulators import unavailable

SEED = Path(__file__).resolve().parents[3] / "shared" / "seed" / "loyjoy-tracking-integration.md"


def test_catalogue_has_the_145_distinct_names() -> None:
    """The catalogue holds exactly the 145 distinct names of LoyJoy's tracking page."""
    assert len(CATALOGUE) == 145


def test_catalogue_matches_the_source_document() -> None:
    """Every name in the source document's table is in the catalogue and nothing else is."""
    if not SEED.is_file():
        unavailable("the shared source document is not beside this checkout")
    names = set(re.findall(r"^\| ([a-z0-9_]+) +\|", SEED.read_text(), flags=re.MULTILINE))
    assert names == set(CATALOGUE)


CONSENT_TABLE = {
    "profiling_single_opt_in": (ConsentTopic.PROFILING, ConsentAction.GRANT),
    "profiling_double_opt_in": (ConsentTopic.PROFILING, ConsentAction.GRANT),
    "profiling_opt_out": (ConsentTopic.PROFILING, ConsentAction.REVOKE),
    "profiling_single_opt_in_rejected": (ConsentTopic.PROFILING, ConsentAction.REVOKE),
    "profiling_single_opt_in_asked": (ConsentTopic.PROFILING, ConsentAction.ASK),
    "newsletter_single_opt_in": (ConsentTopic.NEWSLETTER, ConsentAction.GRANT),
    "newsletter_double_opt_in": (ConsentTopic.NEWSLETTER, ConsentAction.GRANT),
    "newsletter_opt_out": (ConsentTopic.NEWSLETTER, ConsentAction.REVOKE),
    "newsletter_single_opt_in_rejected": (ConsentTopic.NEWSLETTER, ConsentAction.REVOKE),
    "newsletter_single_opt_in_asked": (ConsentTopic.NEWSLETTER, ConsentAction.ASK),
    "reminder_single_opt_in": (ConsentTopic.REMINDER, ConsentAction.GRANT),
    "reminder_double_opt_in": (ConsentTopic.REMINDER, ConsentAction.GRANT),
    "reminder_opt_out": (ConsentTopic.REMINDER, ConsentAction.REVOKE),
    "reminder_single_opt_in_rejected": (ConsentTopic.REMINDER, ConsentAction.REVOKE),
    "reminder_single_opt_in_asked": (ConsentTopic.REMINDER, ConsentAction.ASK),
    "sms_single_opt_in": (ConsentTopic.SMS, ConsentAction.GRANT),
    "sms_double_opt_in": (ConsentTopic.SMS, ConsentAction.GRANT),
    "sms_single_opt_in_rejected": (ConsentTopic.SMS, ConsentAction.REVOKE),
    "sms_single_opt_in_asked": (ConsentTopic.SMS, ConsentAction.ASK),
    "sms_opt_in_code_sent": (ConsentTopic.SMS, ConsentAction.ASK),
    "web_push_single_opt_in": (ConsentTopic.WEB_PUSH, ConsentAction.GRANT),
    "web_push_double_opt_in": (ConsentTopic.WEB_PUSH, ConsentAction.GRANT),
    "web_push_single_opt_in_rejected": (ConsentTopic.WEB_PUSH, ConsentAction.REVOKE),
    "web_push_single_opt_in_asked": (ConsentTopic.WEB_PUSH, ConsentAction.ASK),
    "web_push_opt_in_subscription_request": (ConsentTopic.WEB_PUSH, ConsentAction.ASK),
    "web_push_subscription_gone": (ConsentTopic.WEB_PUSH, ConsentAction.REVOKE),
    "terms_accepted": (ConsentTopic.TERMS, ConsentAction.GRANT),
    "terms_rejected": (ConsentTopic.TERMS, ConsentAction.REVOKE),
}


@pytest.mark.parametrize(("name", "expected"), sorted(CONSENT_TABLE.items()))
def test_every_consent_event_is_classified(
    name: str, expected: tuple[ConsentTopic, ConsentAction]
) -> None:
    """Each consent event has its topic and action (ask, grant or revoke)."""
    entry = CATALOGUE[name]
    assert entry.category is Category.CONSENT
    assert (entry.consent_topic, entry.consent_action) == expected


def test_consent_category_holds_exactly_the_consent_table() -> None:
    """No other event is classified as consent."""
    consent = {name for name, entry in CATALOGUE.items() if entry.category is Category.CONSENT}
    assert consent == set(CONSENT_TABLE)


def test_profiling_grant_and_revoke_sets_match_the_design() -> None:
    """The profiling grant and revoke events are those DESIGN.md names."""
    assert profiling_events(ConsentAction.GRANT) == {
        "profiling_single_opt_in",
        "profiling_double_opt_in",
    }
    assert profiling_events(ConsentAction.REVOKE) == {
        "profiling_opt_out",
        "profiling_single_opt_in_rejected",
    }


@pytest.mark.parametrize(
    ("name", "category"),
    [
        ("firstname_entered", Category.PERSONAL_DATA),
        ("phone_number_entered", Category.PERSONAL_DATA),
        ("birthdate_entered", Category.PERSONAL_DATA),
        ("customer_deleted", Category.BACK_OFFICE),
        ("customer_purged", Category.BACK_OFFICE),
        ("load", Category.LIFECYCLE),
        ("sign_up", Category.IDENTITY),
        ("platform_whatsapp", Category.PLATFORM),
        ("user_agent_mobile", Category.PLATFORM),
        ("intent_matched", Category.CONVERSATION),
    ],
)
def test_sample_classifications(name: str, category: Category) -> None:
    """Representative events of each class carry that class."""
    assert CATALOGUE[name].category is category


def test_custom_names_only_when_configured() -> None:
    """A site's own name resolves to CUSTOM only when configured."""
    assert lookup("openlink") is None
    entry = lookup("openlink", frozenset({"openlink"}))
    assert entry is not None
    assert entry.category is Category.CUSTOM
