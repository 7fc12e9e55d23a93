"""Generated: e-mail addresses and phone numbers planted in every string field, under any
mix of encodings and at the length limits, never reach GA4 on any reading.

Events go the whole way: a listener's JSON through ingest's parsing (what ingest accepts),
the client-batch message and the planner. Every MP body is checked with the tests' own
reader (``tests/support/readings.py``) and with ``ga4 validate``'s checks.
"""

from __future__ import annotations

import json
import string
from typing import Any
from urllib.parse import quote

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from loyjoy_relay.adapters.fakes import SequentialClientIds
from loyjoy_relay.adapters.mapping_file import load_mapping
from loyjoy_relay.config import shipped_file
from loyjoy_relay.core.events import ClientBatch, parse_request
from loyjoy_relay.core.ga4.routing import Ga4Property, SecretRef
from loyjoy_relay.core.ga4.validation.body import validate_body
from loyjoy_relay.core.planner import Planner
from loyjoy_relay.devstack.event_factory import contract_event, granted

from tests.consent.conftest import shipped_rules
from tests.support.readings import body_readings, email_seen, phone_seen

NOW = 1_732_450_000_000
CLIENT = "1234567890.1700000000"
# Forward what has consent, anonymize load/open/show/hide: both modes are exercised.
PLANNER = Planner(
    shipped_rules(),
    load_mapping(shipped_file("ga4-mapping.yaml")),
    Ga4Property("G-TEST12345", SecretRef("value", "s")),
)
# GA4's limit of the param each field becomes (shipped mapping), and ingest's own limit.
FIELDS = {
    "bot_id": (100, 128),
    "process_id": (100, 512),
    "process_name": (100, 512),
    "sub_process_id": (100, 512),
    "sub_process_name": (100, 512),
    "label": (100, 512),
    "page_title": (300, 512),
    "language": (100, 35),
    "session_id": (100, 64),
    "user_id": (256, 256),
    "client_id": (100, 128),
    "consent.evt": (64, 64),  # a denied stamp naming no event of the rules
}
URL_FIELDS = {"url": (100, 2048), "page_location": (1000, 2048), "page_referrer": (420, 2048)}
PROFILE = settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

LOWER = string.ascii_lowercase
local_parts = st.builds(
    str.__add__, st.sampled_from(LOWER), st.text(alphabet=LOWER + "0123456789._+-", max_size=12)
)
domains = st.builds(
    "{}{}.{}".format,
    st.sampled_from(LOWER),
    st.text(alphabet=LOWER + "0123456789-", max_size=8),
    st.sampled_from(["com", "de", "co.uk", "org", "info"]),
)
emails = st.builds("{}@{}".format, local_parts, domains)
SEPARATORS = [" ", "-", " - ", "/", ".", " / ", "\u2013", "\u2212", "\u00a0", "\u2011", "  "]
PREFIXES = ["+49 ", "+41", "0049 ", "0", "(0", "+1 (", "+44 "]


@st.composite
def phones(draw: st.DrawFn) -> str:
    """A phone number as people write it: a prefix, digit groups, any separators."""
    prefix = draw(st.sampled_from(PREFIXES))
    groups = draw(st.lists(st.text(alphabet="0123456789", min_size=2, max_size=4), min_size=2))
    digits = sum(c.isdigit() for c in prefix) + sum(len(g) for g in groups)
    if not 8 <= digits <= 15:
        groups = ["170", "4821", "935"] if digits < 8 else groups[:3]
    parts = [groups[0]]
    for group in groups[1:]:
        parts.append(draw(st.sampled_from(SEPARATORS)) + group)
    number = prefix + "".join(parts)
    if prefix == "(0":
        number = number.replace("(0", "(0)", 1)
    return number


def _fullwidth(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


def _arabic_digits(text: str) -> str:
    return "".join(chr(0x0660 + int(c)) if c.isdigit() else c for c in text)


ENCODINGS = {
    "percent, everything": lambda s: quote(s, safe=""),
    "percent, the telling characters": lambda s: (
        s.replace("%", "%25").replace("@", "%40").replace("+", "%2B").replace(" ", "%20")
    ),
    "plus for space": lambda s: s.replace(" ", "+"),
    "HTML decimal entities": lambda s: s.replace("@", "&#64;").replace(".", "&#46;"),
    "HTML hex entities": lambda s: s.replace("@", "&#x40;").replace("+", "&#x2B;"),
    "HTML named entities": lambda s: s.replace("@", "&commat;").replace(".", "&period;"),
    "full-width forms": _fullwidth,
    "Arabic-Indic digits": _arabic_digits,
    "zero-width spaces": lambda s: "\u200b".join(s[i : i + 3] for i in range(0, len(s), 3)),
    "soft hyphens": lambda s: s.replace("@", "\u00ad@\u00ad"),
    "no-break spaces": lambda s: s.replace(" ", "\u00a0"),
}
encodings = st.lists(st.sampled_from(sorted(ENCODINGS)), max_size=3)
filler = st.text(alphabet=LOWER + " ,;:!_|", min_size=0, max_size=30)


def _encode(value: str, names: list[str]) -> str:
    for name in names:
        value = ENCODINGS[name](value)
    return value


@st.composite
def planted_values(draw: st.DrawFn, kind: str, limits: tuple[int, int]) -> tuple[str, str]:
    """(field value, the PII in it): the PII encoded and placed near the start, across
    GA4's limit, or at the very end of what ingest takes."""
    pii = draw(emails if kind == "email" else phones())
    encoded = _encode(pii, draw(encodings))
    ga4_limit, ingest_limit = limits
    before, after = draw(filler), draw(filler)
    where = draw(st.sampled_from(["start", "across GA4's limit", "at ingest's limit"]))
    if where == "across GA4's limit":
        before = (before + "x" * ga4_limit)[: max(0, ga4_limit - len(encoded) // 2 - 1)]
    elif where == "at ingest's limit":
        before = (before + "y" * ingest_limit)[: max(0, ingest_limit - len(encoded) - 2)]
        after = ""
    value = f"{before} {encoded} {after}".strip(" ")[:ingest_limit]
    return value, pii


@st.composite
def planted_urls(draw: st.DrawFn, kind: str, limits: tuple[int, int]) -> tuple[str, str]:
    """(URL, the PII in it): the PII encoded in the path, a query name or value, the
    fragment or the user info, the URL padded towards the limits."""
    pii = draw(emails if kind == "email" else phones())
    encoded = _encode(pii, draw(encodings))
    padding = "p" * draw(st.sampled_from([0, limits[0] - 60, limits[0] - 10]))
    where = draw(st.sampled_from(["path", "query value", "query name", "fragment", "user"]))
    base = "https://shop.example.com"
    url = {
        "path": f"{base}/{padding}/{encoded}/x?utm_source=news",
        "query value": f"{base}/{padding}?utm_source=news&q={encoded}&step=2",
        "query name": f"{base}/{padding}?{encoded}=1",
        "fragment": f"{base}/{padding}#to={encoded}",
        "user": f"https://{quote(pii, safe='')}:pw@shop.example.com/{padding}",
    }[where]
    return url[: limits[1]], pii


@st.composite
def planted_events(draw: st.DrawFn) -> tuple[list[dict[str, Any]], list[tuple[str, str]]]:
    """A few contract events of one client with PII in any of their string fields."""
    events, planted = [], []
    for index in range(draw(st.integers(1, 3))):
        fields: dict[str, Any] = {
            "bot_id": "bot-a",
            "client_id": CLIENT,
            "ts": NOW - 10_000 + index,
            "consent": granted(NOW - 60_000),
        }
        for _ in range(draw(st.integers(1, 3))):
            kind = draw(st.sampled_from(["email", "phone"]))
            name = draw(st.sampled_from(sorted(FIELDS) + sorted(URL_FIELDS)))
            if name in URL_FIELDS:
                value, pii = draw(planted_urls(kind, URL_FIELDS[name]))
            else:
                value, pii = draw(planted_values(kind, FIELDS[name]))
            if name == "consent.evt":
                fields["consent"] = {"profiling": "denied", "at": NOW - 60_000, "evt": value}
            else:
                fields[name] = value
            planted.append((kind, pii))
        evt = draw(st.sampled_from(["start", "interaction", "link_clicked", "open", "load"]))
        events.append(contract_event(evt, **fields))
    return events, planted


def plan_through_ingest(events: list[dict[str, Any]]) -> tuple[list[bytes], Any]:
    """Ingest's parsing, the message round trip and the planner: the bodies and the plan."""
    body = json.dumps({"sent_at": NOW, "events": events}).encode()
    parsed = parse_request(body, received_at=NOW, bot_allowed=lambda bot: True)
    bodies: list[bytes] = []
    plans = []
    for batch in parsed.batches:
        decoded = ClientBatch.from_message(batch.to_message()[0])
        plan = PLANNER.plan(decoded.events, [], now_ms=NOW, new_client_id=SequentialClientIds())
        plans.append(plan)
        bodies.extend(planned.request.body for planned in plan.requests)
    return bodies, plans


@PROFILE
@given(case=planted_events())
def test_no_planted_pii_reaches_ga4_on_any_reading(
    case: tuple[list[dict[str, Any]], list[tuple[str, str]]],
) -> None:
    """No e-mail address or phone number, however encoded and wherever planted, can be read
    in any MP body; every body passes strict validation; no event is lost to redaction."""
    events, planted = case
    bodies, plans = plan_through_ingest(events)
    seen: set[str] = set()
    for raw in bodies:
        assert validate_body(raw, now_micros=NOW * 1000, behavior="ENFORCE_RECOMMENDATIONS") == []
        payload = json.loads(raw)
        if payload["client_id"] == CLIENT:  # the visitor's own id, holding no PII:
            del payload["client_id"]  # its digits are not a phone number's
        seen.update(body_readings(json.dumps(payload).encode()))
    for kind, pii in planted:
        found = email_seen(pii, seen) if kind == "email" else phone_seen(pii, seen)
        assert not found, (kind, pii)
    for plan in plans:
        for unsendable in plan.unsendable:
            # only a client id holding PII makes an event unsendable here, never a redaction
            assert "client id holds" in unsendable.reason, unsendable.reason
