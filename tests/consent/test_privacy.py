"""What forward and anonymize send as, and PII redaction in every param value."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st
from loyjoy_relay.adapters.client_ids import random_client_id
from loyjoy_relay.core.consent.decision import Decision
from loyjoy_relay.core.consent.privacy import (
    EMAIL_TOKEN,
    PHONE_TOKEN,
    identity_for,
    outgoing_event,
    redact,
    redact_value,
)
from loyjoy_relay.core.ga4.model import Ga4Event

from tests.consent.conftest import BOT, CLIENT, event, shipped_rules

POLICY = shipped_rules().for_bot(BOT)

GRANTED_FORWARD = Decision("forward", "granted", "granted")
DENIED_FORWARD = Decision("forward", "denied but forwarded by the rules", "denied")
ANONYMIZE = Decision("anonymize", "anonymous_always", "granted")


def ga4_event(**params: str | int) -> Ga4Event:
    return Ga4Event("start", dict(params), 1, "00000000-0000-4000-8000-000000000001", "bot-a")


def test_forward_sends_the_clients_own_ids_with_signals_per_rules() -> None:
    """forward keeps client and user id; ad_user_data follows the state, personalization denied."""
    item = event("start", 5, user_id="user-7")
    identity = identity_for(GRANTED_FORWARD, item, POLICY, random_client_id)
    assert (identity.client_id, identity.user_id) == (CLIENT, "user-7")
    assert (identity.ad_user_data, identity.ad_personalization) == ("GRANTED", "DENIED")


@pytest.mark.parametrize("user_id", ["ann@example.com", "+49 170 1234567"])
def test_forward_leaves_out_a_user_id_that_is_personal_data(user_id: str) -> None:
    """A site's user id that is an e-mail address or phone number is never sent."""
    identity = identity_for(
        GRANTED_FORWARD, event("start", 5, user_id=user_id), POLICY, random_client_id
    )
    assert identity.user_id is None
    assert identity.client_id == CLIENT


def test_follow_signal_is_denied_when_the_state_is_denied() -> None:
    """A forwarded event of a denied client (rules say forward) carries ad_user_data DENIED."""
    rules = shipped_rules(ga4_consent={"ad_user_data": "follow", "ad_personalization": "granted"})
    identity = identity_for(DENIED_FORWARD, event("start", 5), rules.for_bot(BOT), random_client_id)
    assert (identity.ad_user_data, identity.ad_personalization) == ("DENIED", "GRANTED")


def test_anonymize_uses_a_fresh_random_id_per_event_and_denies_both_signals() -> None:
    """anonymize: a new <number>.<number> client id every time, no user id, both signals denied."""
    item = event("open", 5, user_id="user-7")
    identities = [identity_for(ANONYMIZE, item, POLICY, random_client_id) for _ in range(50)]
    client_ids = {identity.client_id for identity in identities}
    assert len(client_ids) == 50
    assert all(re.fullmatch(r"[1-9]\d*\.[1-9]\d*", client_id) for client_id in client_ids)
    assert CLIENT not in client_ids
    assert all(identity.user_id is None for identity in identities)
    assert {(i.ad_user_data, i.ad_personalization) for i in identities} == {("DENIED", "DENIED")}


def test_a_dropped_event_has_no_identity() -> None:
    """Asking for the identity of a dropped event is a programming error."""
    with pytest.raises(ValueError, match="dropped"):
        identity_for(
            Decision("drop", "denied", "denied"), event("start", 5), POLICY, random_client_id
        )


def test_anonymize_removes_session_and_identifying_params() -> None:
    """An anonymized event loses session_id (and other id params); a forwarded one keeps it."""
    mapped = ga4_event(session_id="1732449990", session_number=3, process_name="Welcome")
    assert outgoing_event(ANONYMIZE, mapped).params == {"process_name": "Welcome"}
    assert outgoing_event(GRANTED_FORWARD, mapped).params == mapped.params


REDACTIONS = [
    (
        "plain e-mail",
        "write to jane.doe+chat@example.co.uk please",
        f"write to {EMAIL_TOKEN} please",
    ),
    ("international phone", "+49 151 2345 6789", PHONE_TOKEN),
    ("national phone with trunk zero", "Tel. 030 1234567", f"Tel. {PHONE_TOKEN}"),
    ("US phone", "(555) 123-4567", PHONE_TOKEN),
    ("dashed phone", "call 555-123-4567 now", f"call {PHONE_TOKEN} now"),
    ("percent-encoded e-mail in text", "jane%40example.com", EMAIL_TOKEN),
    (
        "e-mail in a page_location query",
        "https://shop.example.com/c?email=jane%40example.com&step=2",
        f"https://shop.example.com/c?email={EMAIL_TOKEN}&step=2",
    ),
    (
        "phone in a query with plus-encoded spaces",
        "https://shop.example.com/?tel=%2B49+151+23456789&x=1",
        f"https://shop.example.com/?tel={PHONE_TOKEN}&x=1",
    ),
    (
        "e-mail in a URL path and user info",
        "https://me:secret@shop.example.com/u/jane@example.com/x",
        f"https://shop.example.com/u/{EMAIL_TOKEN}/x",
    ),
    (
        "e-mail in a fragment",
        "https://a.example/#mail=jane@example.com",
        f"https://a.example/#mail={EMAIL_TOKEN}",
    ),
    (
        "malformed URL treated as text",
        "https://[::1/x jane@example.com",
        f"https://[::1/x {EMAIL_TOKEN}",
    ),
]
KEPT = [
    ("URL with an IPv6 host and port", "https://[::1]:8080/chat?step=2"),
    ("timestamp session id", "1732449990"),
    ("millisecond timestamp", "1732449990123"),
    ("price", "EUR 19.99"),
    ("uuid", "550e8400-e29b-41d4-a716-446655440000"),
    ("client id", "1234567890.1732449000"),
    ("clean URL", "https://shop.example.com/chat?step=2&q=hello+world"),
    ("short number", "Order 12345"),
]


@pytest.mark.parametrize(
    ("value", "expected"), [c[1:] for c in REDACTIONS], ids=[c[0] for c in REDACTIONS]
)
def test_pii_is_redacted(value: str, expected: str) -> None:
    """E-mail addresses and phone numbers are replaced, also URL-encoded inside URLs."""
    assert redact_value(value) == expected


@pytest.mark.parametrize("value", [c[1] for c in KEPT], ids=[c[0] for c in KEPT])
def test_ordinary_values_are_kept(value: str) -> None:
    """Ids, timestamps, prices and clean URLs pass unchanged."""
    assert redact_value(value) == value


def test_redact_touches_every_string_param_and_leaves_numbers() -> None:
    """redact works on every string param of an event; numeric params are left as they are."""
    mapped = ga4_event(
        label="jane@example.com", page_title="Call +44 20 7946 0958", count=4155550123
    )
    assert redact(mapped).params == {
        "label": EMAIL_TOKEN,
        "page_title": f"Call {PHONE_TOKEN}",
        "count": 4155550123,
    }


def test_redaction_applies_in_every_mode() -> None:
    """Forwarded and anonymized events are both redacted."""
    mapped = ga4_event(label="jane@example.com")
    for decision in (GRANTED_FORWARD, ANONYMIZE):
        assert outgoing_event(decision, mapped).params["label"] == EMAIL_TOKEN


LOWER = "abcdefghijklmnopqrstuvwxyz"
# Built from plain text strategies (from_regex trips a Hypothesis deprecation warning).
local = st.builds(
    str.__add__, st.sampled_from(LOWER), st.text(alphabet=LOWER + "0123456789._+-", max_size=15)
)
domain = st.builds(
    "{}{}.{}".format,
    st.sampled_from(LOWER),
    st.text(alphabet=LOWER + "0123456789-", max_size=10),
    st.sampled_from(["com", "de", "co.uk", "org"]),
)
filler = st.text(alphabet=st.sampled_from("abc XYZ-_,;:!"), max_size=20)


@given(user=local, host=domain, before=filler, after=filler)
def test_no_email_survives_in_text(user: str, host: str, before: str, after: str) -> None:
    """Any e-mail address embedded in text is gone after redaction."""
    address = f"{user}@{host}"
    assert "@" not in str(redact_value(f"{before} {address} {after}"))


@given(user=local, host=domain, key=st.sampled_from(["email", "e", "contact"]))
def test_no_email_survives_in_a_query_string(user: str, host: str, key: str) -> None:
    """An e-mail percent-encoded in a page_location query is gone once decoded."""
    url = f"https://shop.example.com/p?a=1&{key}={user}%40{host}"
    query = parse_qs(urlsplit(str(redact_value(url))).query)
    assert query[key] == [EMAIL_TOKEN]


@given(
    country=st.sampled_from(["+49", "+44", "+1", "0049", "0"]),
    groups=st.lists(st.from_regex(r"[0-9]{2,4}", fullmatch=True), min_size=3, max_size=4),
    separator=st.sampled_from([" ", "-", "/", "."]),
)
def test_no_phone_number_survives(country: str, groups: list[str], separator: str) -> None:
    """Phone numbers in common notations are redacted whole."""
    number = (
        country + separator.join(["", *groups]) if country != "0" else "0" + separator.join(groups)
    )
    digits = sum(char.isdigit() for char in number)
    if not 7 <= digits <= 15:
        return
    assert redact_value(f"Ruf an: {number}") == f"Ruf an: {PHONE_TOKEN}"
