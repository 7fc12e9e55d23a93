"""Generated: an anonymized event holds nothing of the visitor's identity, wherever and
however the identifiers were planted in it.

The identity of an event is its client id (and the base64 form Google's ``_gl`` linker
carries), its user id, its session id and the click ids in its URLs. They are planted in
any text field and in any part of its URLs, encoded, and the anonymized MP bodies are read
with the tests' own reader (``tests/support/readings.py``).
"""

from __future__ import annotations

import base64
import json
import string
from typing import Any
from urllib.parse import quote

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from loyjoy_relay.adapters.fakes import SequentialClientIds
from loyjoy_relay.adapters.mapping_file import load_mapping
from loyjoy_relay.config import shipped_file
from loyjoy_relay.core.events import LoyJoyEvent
from loyjoy_relay.core.ga4.routing import Ga4Property, SecretRef
from loyjoy_relay.core.ga4.validation.body import validate_body
from loyjoy_relay.core.planner import Planner
from loyjoy_relay.devstack.event_factory import contract_event

from tests.consent.conftest import shipped_rules
from tests.support.readings import identifier_seen, readings, strings_in

NOW = 1_732_450_000_000
# open is always anonymized; with these rules a denied start is anonymized too
PLANNER = Planner(
    shipped_rules(denied="anonymize"),
    load_mapping(shipped_file("ga4-mapping.yaml")),
    Ga4Property("G-TEST12345", SecretRef("value", "s")),
)
PROFILE = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
ALNUM = string.ascii_letters + string.digits
TEXT_FIELDS = ["label", "page_title", "process_name", "sub_process_name", "process_id"]
URL_FIELDS = ["page_location", "page_referrer", "url"]
CLICK_PARAMS = ["gclid", "fbclid", "msclkid", "dclid", "wbraid", "ttclid"]
ID_PARAMS = ["uid", "user_id", "customer_id", "cid", "sid"]


@st.composite
def identities(draw: st.DrawFn) -> dict[str, str]:
    """A visitor's identifiers: GA client id, site user id, session id, a click id."""
    random_part = draw(st.integers(10**8, 2**31 - 1))
    return {
        "client_id": f"{random_part}.{draw(st.integers(1_600_000_000, 1_732_000_000))}",
        "user_id": "u-" + draw(st.text(alphabet=ALNUM, min_size=5, max_size=12)),
        "session_id": str(draw(st.integers(1_700_000_000, 1_732_449_999))),
        "click_id": draw(st.text(alphabet=ALNUM + "-_", min_size=8, max_size=30)),
    }


def _b64(value: str) -> str:
    return base64.b64encode(value.encode()).decode()


def forms(identity: dict[str, str], which: str) -> list[str]:
    """The ways an identifier may be written into a field."""
    value = identity[which]
    written = [value, quote(value, safe=""), value.upper(), f"GA1.1.{value}"]
    if which == "client_id":
        written += [_b64(value), _b64(value).rstrip("="), quote(_b64(value), safe="")]
    if which == "user_id":
        written += [value.replace("-", "&#45;"), "\u200b".join(value)]
    return written


@st.composite
def planted(draw: st.DrawFn, identity: dict[str, str]) -> dict[str, str]:
    """Fields of one event with identifiers planted in texts and URLs."""
    fields: dict[str, str] = {}
    for _ in range(draw(st.integers(1, 4))):
        which = draw(st.sampled_from(sorted(identity)))
        written = draw(st.sampled_from(forms(identity, which)))
        name = draw(st.sampled_from(TEXT_FIELDS + URL_FIELDS))
        if name in TEXT_FIELDS:
            fields[name] = f"{draw(st.text(alphabet='ab ', max_size=20))} {written} x"[:512]
            continue
        key = draw(st.sampled_from(CLICK_PARAMS + ID_PARAMS + ["ref", "utm_content"]))
        gl = f"1*1ab2c3*_ga*{_b64(identity['client_id']).rstrip('=')}*_ga_X1Y2*R1MxLjE."
        fields[name] = draw(
            st.sampled_from(
                [
                    f"https://shop.example.com/p?utm_source=news&{key}={written}",
                    f"https://shop.example.com/u/{written}/cart",
                    f"https://shop.example.com/p#{key}={written}",
                    f"https://shop.example.com/p?_gl={gl}&utm_medium=mail",
                    f"https://{quote(written, safe='')}@shop.example.com/",
                ]
            )
        )
    # The click id is the event's own: it is also under a click parameter in one of its URLs.
    click = f"{draw(st.sampled_from(CLICK_PARAMS))}={identity['click_id']}"
    name = draw(st.sampled_from(URL_FIELDS))
    url = fields.get(name, "https://shop.example.com/")
    fields[name] = f"{url}{'&' if '?' in url else '?'}{click}"
    return fields


@st.composite
def anonymized_cases(draw: st.DrawFn) -> tuple[dict[str, str], list[dict[str, Any]]]:
    """One visitor's identity and a few of their events that the rules anonymize."""
    identity = draw(identities())
    events = []
    for index in range(draw(st.integers(1, 3))):
        fields = draw(planted(identity))
        events.append(
            contract_event(
                draw(st.sampled_from(["open", "load", "start", "hide"])),
                bot_id="bot-a",
                client_id=identity["client_id"],
                session_id=identity["session_id"],
                user_id=identity["user_id"],
                ts=NOW - 5000 + index,
                **fields,
            )
        )
    return identity, events


@PROFILE
@given(case=anonymized_cases())
def test_anonymized_bodies_hold_nothing_of_the_visitors_identity(
    case: tuple[dict[str, str], list[dict[str, Any]]],
) -> None:
    """No reading of an anonymized body holds the client id (or its base64), the user id,
    the session id or a click id of the events it carries; each body is valid."""
    identity, events = case
    parsed = [LoyJoyEvent.model_validate(event) for event in events]
    plan = PLANNER.plan(parsed, [], now_ms=NOW, new_client_id=SequentialClientIds(start=7))
    assert {outcome.action for outcome in plan.outcomes} == {"anonymize"}
    assert len(plan.requests) == len(events), plan.unsendable
    secrets = [
        identity["client_id"],
        _b64(identity["client_id"]).rstrip("="),
        identity["user_id"],
        identity["session_id"],
        identity["click_id"],
    ]
    for planned in plan.requests:
        raw = planned.request.body
        assert validate_body(raw, now_micros=NOW * 1000, behavior="ENFORCE_RECOMMENDATIONS") == []
        payload = json.loads(raw)
        assert payload["client_id"] != identity["client_id"]
        assert "user_id" not in payload
        assert payload["consent"] == {"ad_user_data": "DENIED", "ad_personalization": "DENIED"}
        values = strings_in(payload, names=False)
        seen = {reading for value in values for reading in readings(value)}
        for secret in secrets:
            assert not identifier_seen(secret, seen), (secret, raw)
        for name in ("page_location", "page_referrer", "link_url"):
            url = payload["events"][0]["params"].get(name)
            assert url is None or "#" not in url
