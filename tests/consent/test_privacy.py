"""What forward and anonymize send as, anonymized URLs, and PII redaction in every value."""

from __future__ import annotations

import base64
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st
from loyjoy_relay.adapters.client_ids import random_client_id
from loyjoy_relay.core.consent.decision import Decision
from loyjoy_relay.core.consent.pii import EMAIL_TOKEN, ID_TOKEN, PHONE_TOKEN
from loyjoy_relay.core.consent.privacy import (
    identity_for,
    outgoing_event,
    redact,
    redact_value,
    sendable_value,
)
from loyjoy_relay.core.ga4.model import Ga4Event
from loyjoy_relay.errors import Ga4Rejected

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


@pytest.mark.parametrize(
    "user_id", ["ann@example.com", "+49 170 1234567", "ann%40example.com", "ann&#64;example.com"]
)
def test_forward_leaves_out_a_user_id_that_is_personal_data(user_id: str) -> None:
    """A site's user id that is an e-mail address or phone number, however encoded, is never
    sent."""
    identity = identity_for(
        GRANTED_FORWARD, event("start", 5, user_id=user_id), POLICY, random_client_id
    )
    assert identity.user_id is None
    assert identity.client_id == CLIENT


@pytest.mark.parametrize("client_id", ["jane@example.com", "+49 170 1234567", "jane%40x.de"])
def test_an_event_is_never_sent_under_a_client_id_that_is_personal_data(client_id: str) -> None:
    """A client id that holds an e-mail address or phone number refuses the event, and the
    reason does not quote it; anonymized events get a fresh id and still go."""
    item = event("start", 5, client_id=client_id)
    with pytest.raises(Ga4Rejected, match="client id holds") as refused:
        identity_for(GRANTED_FORWARD, item, POLICY, random_client_id)
    assert client_id not in refused.value.reason
    assert identity_for(ANONYMIZE, item, POLICY, random_client_id).client_id != client_id


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


def outgoing(decision: Decision, mapped: Ga4Event, **fields: str) -> Ga4Event:
    """The event as it leaves, for a contract event with ``fields`` as its source."""
    return outgoing_event(decision, mapped, policy=POLICY, source=event("open", 5, **fields))


def test_anonymize_removes_session_and_identifying_params() -> None:
    """An anonymized event loses session_id (and other id params); a forwarded one keeps it."""
    mapped = ga4_event(session_id="1732449990", session_number=3, process_name="Welcome")
    assert outgoing(ANONYMIZE, mapped).params == {"process_name": "Welcome"}
    assert outgoing(GRANTED_FORWARD, mapped).params == mapped.params


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
    (
        "e-mail and phone in one query value: both go",
        "https://shop.example.com/?q=jane%40example.com+0170+1234567",
        f"https://shop.example.com/?q={EMAIL_TOKEN}%2B{PHONE_TOKEN}",
    ),
    (
        "percent-encoding at any depth",
        "https://shop.example.com/?e=jane%252540example.com",
        f"https://shop.example.com/?e={EMAIL_TOKEN}",
    ),
    ("double-encoded text", "mail jane%2540example.com", f"mail {EMAIL_TOKEN}"),
    ("spaced dash separators", "call 0170 - 123 45 67", f"call {PHONE_TOKEN}"),
    ("Unicode dashes", "Tel 0170\u2013123\u20134567", f"Tel {PHONE_TOKEN}"),
    ("minus signs and no-break spaces", "+49\u00a0170\u22121234567", PHONE_TOKEN),
    ("full-width e-mail", "\uff4a\uff41\uff4e\uff45\uff20example\uff0ecom", EMAIL_TOKEN),
    ("full-width digits", "\uff10\uff11\uff17\uff10 1234567", PHONE_TOKEN),
    (
        "percent escapes written with other digits",
        "%\u0662B\u0664\u0669%\u0662\u0660\u0661\u0667\u0660%\u0662F4821-935",
        PHONE_TOKEN,
    ),
    ("HTML entities", "jane&#64;example&period;com", EMAIL_TOKEN),
    ("a zero-width space inside", "jane\u200b@example.com", EMAIL_TOKEN),
    ("an e-mail cut short", "...jane.doe@gmail", EMAIL_TOKEN),
    ("an e-mail cut at its @", "write to jane.doe@", f"write to {EMAIL_TOKEN}"),
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
    ("percent sign", "50% off"),
    ("plus in text", "C++ and Go"),
    ("HTML-like text", "Fish &amp; chips"),
]


@pytest.mark.parametrize(
    ("value", "expected"), [c[1:] for c in REDACTIONS], ids=[c[0] for c in REDACTIONS]
)
def test_pii_is_redacted(value: str, expected: str) -> None:
    """E-mail addresses and phone numbers are replaced, however they are encoded."""
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
        assert outgoing(decision, mapped).params["label"] == EMAIL_TOKEN


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


ANON_SOURCE = {
    "client_id": "1234567890.1700000000",
    "user_id": "cust-4242",
    "session_id": "1732449000",
}
B64_CLIENT = base64.b64encode(b"1234567890.1700000000").decode()


def anonymized(**params: str) -> dict[str, str | int | float]:
    """The params of an anonymized event mapped with ``params``, from a source event that
    carries the identifiers of ANON_SOURCE (and the params as its own URLs)."""
    source = {**ANON_SOURCE}
    if "page_location" in params:
        source["page_location"] = params["page_location"]
    mapped = ga4_event(**params)
    return outgoing_event(
        ANONYMIZE, mapped, policy=POLICY, source=event("open", 5, **source)
    ).params


def test_anonymized_urls_keep_scheme_host_path_and_campaign_parameters() -> None:
    """Click ids, linker values, user ids and fragments go; utm_* parameters stay."""
    location = (
        "https://me:pw@shop.example.com/p/espresso?utm_source=news&gclid=Cj0KCQ&uid=cust-42"
        f"&_gl=1*x1y2*_ga*{B64_CLIENT.rstrip('=')}*_ga_ABC*R1MxLjE.&utm_medium=mail#top"
    )
    referrer = "https://mail.example.net/r?customer_id=cust-42&utm_campaign=spring"
    params = anonymized(
        page_location=location, page_referrer=referrer, link_url="https://x.io/?fbclid=1"
    )
    assert params["page_location"] == (
        "https://shop.example.com/p/espresso?utm_source=news&utm_medium=mail"
    )
    assert params["page_referrer"] == "https://mail.example.net/r?utm_campaign=spring"
    assert params["link_url"] == "https://x.io/"


def test_forwarded_urls_keep_their_parameters_but_not_pii() -> None:
    """A forwarded event keeps click ids (the visitor consented) but loses PII."""
    location = "https://shop.example.com/?gclid=Cj0KCQ&email=jane%40example.com"
    params = outgoing(GRANTED_FORWARD, ga4_event(page_location=location)).params
    assert params["page_location"] == f"https://shop.example.com/?gclid=Cj0KCQ&email={EMAIL_TOKEN}"


@pytest.mark.parametrize(
    "planted",
    [
        "1234567890.1700000000",
        B64_CLIENT,
        B64_CLIENT.rstrip("="),
        "cust-4242",
        "CUST-4242",
        "cust%2D4242",
        "1732449000",
        "Cj0KCQiAclick",
    ],
)
def test_anonymized_events_lose_the_visitors_identifiers_wherever_they_are(planted: str) -> None:
    """The client id (and its base64), user id, session id and the event's click ids are
    removed from every value of an anonymized event."""
    location = "https://shop.example.com/?gclid=Cj0KCQiAclick"
    params = anonymized(label=f"id {planted} here", page_title=planted, page_location=location)
    assert params["label"] == f"id {ID_TOKEN} here"
    assert params["page_title"] == ID_TOKEN


def test_redaction_comes_before_the_cut() -> None:
    """An e-mail across GA4's limit is redacted whole, never sent cut short."""
    value = "x" * 86 + " jane.doe@gmail.com"  # cut at 100 first, it would end "@gmai"
    sent = sendable_value(value, 100)
    assert sent == "x" * 86 + " "
    assert sendable_value("x" * 80 + " jane.doe@gmail.com", 100) == "x" * 80 + f" {EMAIL_TOKEN}"


def test_a_longer_redaction_is_cut_and_stays_sendable() -> None:
    """A redaction that outgrows the limit is cut on a character boundary, not refused."""
    value = "é" * 91 + " 0170 12345"
    sent = sendable_value(value, 100)
    assert sent is not None
    assert len(sent) <= 100
    assert "0170" not in sent
    mapped = ga4_event(process_name=value, page_title="a@b.c" * 70)
    params = outgoing(GRANTED_FORWARD, mapped).params
    assert len(str(params["process_name"])) <= 100
    assert len(str(params["page_title"])) <= 300


def test_a_cut_never_leaves_half_an_escape_or_a_new_phone_number() -> None:
    """Cutting never ends in a partial %XX escape, nor uncovers a number the rest hid."""
    assert sendable_value("https://a.example/" + "%41" * 40, 100) == (
        "https://a.example/" + "%41" * 27
    )
    uncovered = sendable_value("a" * 87 + " 0170 1234567b", 100)
    assert uncovered is not None
    assert len(uncovered) <= 100
    assert "1234567" not in uncovered
