"""What a decision changes in the outgoing GA4 event: identity, session, and PII redaction.

Pure: the fresh client id of an anonymized event comes from the caller's id source.
``forward`` keeps the client's own ids; ``anonymize`` sends one event under a fresh random
client id with no
session or user id and both Consent Mode signals denied. In every mode, values that look
like e-mail addresses or phone numbers are replaced, including percent-encoded ones inside
URL query strings, so PII never reaches GA4.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from urllib.parse import quote_plus, unquote, unquote_plus, urlsplit, urlunsplit

from loyjoy_relay.core.consent.decision import Decision
from loyjoy_relay.core.consent.rules import BotPolicy, Signal
from loyjoy_relay.core.events import LoyJoyEvent
from loyjoy_relay.core.ga4.model import ConsentSignal, Ga4Event, Ga4Identity, ParamValue

EMAIL_TOKEN = "REDACTED_EMAIL"  # noqa: S105 (a placeholder, not a password)
PHONE_TOKEN = "REDACTED_PHONE"  # noqa: S105 (a placeholder, not a password)
# Params that tie an event to a visit or a person; an anonymized event carries none.
IDENTIFYING_PARAMS = frozenset(
    {"session_id", "session_number", "ga_session_id", "ga_session_number", "user_id", "client_id"}
)

# Local parts without "/", "=" and "?", which RFC 5322 allows but which would let a match
# run back into a URL path or query.
_EMAIL = re.compile(r"[\w.!#$%&'*+^`{|}~-]+@[\w-]+(?:\.[\w-]+)+")
# A run of 7 to 15 digits, separated by at most two of space ( ) . - / between digits.
_PHONE_CANDIDATE = re.compile(r"(?<![\w+])\+?\(?\d(?:[\s().\-/]{0,2}\d){6,14}(?![\w])")
_SEPARATED = re.compile(r"\d[\s().\-/]+\d")


def _signal(setting: Signal, decision: Decision) -> ConsentSignal:
    if setting == "follow":
        return "GRANTED" if decision.state == "granted" else "DENIED"
    return "GRANTED" if setting == "granted" else "DENIED"


ClientIdSource = Callable[[], str]
"""Makes a fresh, unlinkable client id in GA4's ``<number>.<number>`` form."""


def identity_for(
    decision: Decision, event: LoyJoyEvent, policy: BotPolicy, new_client_id: ClientIdSource
) -> Ga4Identity:
    """Who an event is sent as; a dropped event has no identity (ValueError).

    A site's user id that is an e-mail address or a phone number is not sent at all.
    """
    if decision.action == "forward":
        user_id = event.user_id
        if user_id is not None and redact_text(user_id) != user_id:
            user_id = None
        return Ga4Identity(
            client_id=event.client_id,
            user_id=user_id,
            ad_user_data=_signal(policy.ad_user_data, decision),
            ad_personalization=_signal(policy.ad_personalization, decision),
        )
    if decision.action == "anonymize":
        return Ga4Identity(client_id=new_client_id())
    raise ValueError("a dropped event is not sent, so it has no identity")


def apply_session_policy(decision: Decision, event: Ga4Event) -> Ga4Event:
    """The event with identifying params removed when it is anonymized."""
    if decision.action != "anonymize":
        return event
    params = {key: value for key, value in event.params.items() if key not in IDENTIFYING_PARAMS}
    return replace(event, params=params)


def _is_phone(candidate: str) -> bool:
    digits = sum(char.isdigit() for char in candidate)
    if not 7 <= digits <= 15:
        return False
    # An unbroken digit run is a phone number only with an international or trunk prefix;
    # without one it is far more often a timestamp, an amount or an id.
    return candidate.startswith(("+", "0", "(")) or bool(_SEPARATED.search(candidate))


def redact_text(text: str) -> str:
    """``text`` with e-mail addresses and phone numbers replaced by tokens."""
    text = _EMAIL.sub(EMAIL_TOKEN, text)
    return _PHONE_CANDIDATE.sub(
        lambda match: PHONE_TOKEN if _is_phone(match.group()) else match.group(), text
    )


def _redact_encoded(text: str, *, plus_is_space: bool) -> str:
    """Redact the decoded form of a URL part; unchanged parts keep their encoding."""
    # A "+" in a query means a space, but sloppy encoders leave an e-mail's "+" raw: PII
    # found under either reading is redacted.
    readings = (unquote(text), unquote_plus(text)) if plus_is_space else (unquote(text),)
    for decoded in readings:
        redacted = redact_text(decoded)
        if redacted != decoded:
            return quote_plus(redacted, safe="/" if plus_is_space else "/:")
    return text


def _redact_query(query: str) -> str:
    pairs = []
    for pair in query.split("&"):
        key, sep, value = pair.partition("=")
        pairs.append(
            _redact_encoded(key, plus_is_space=True)
            + sep
            + _redact_encoded(value, plus_is_space=True)
        )
    return "&".join(pairs)


def _redact_url(value: str) -> str:
    parts = urlsplit(value)
    redacted = (
        parts.scheme,
        parts.netloc.rpartition("@")[2],  # user info (name, password) is dropped
        _redact_encoded(parts.path, plus_is_space=False),
        _redact_query(parts.query),
        _redact_query(parts.fragment)
        if "=" in parts.fragment
        else _redact_encoded(parts.fragment, plus_is_space=False),
    )
    # an address with nothing to remove is sent exactly as it came
    return value if redacted == tuple(parts) else urlunsplit(redacted)


def redact_value(value: ParamValue) -> ParamValue:
    """A param value with PII removed; numbers are left as they are."""
    if not isinstance(value, str):
        return value
    if value.lower().startswith(("http://", "https://")):
        try:
            return _redact_url(value)
        except ValueError:
            pass  # not a well-formed URL (e.g. a broken IPv6 host): redacted as text below
    redacted = redact_text(value)
    if "%" in redacted or "+" in redacted:
        # percent-encoded PII outside a URL: judged on the decoded text
        return _redact_encoded(redacted, plus_is_space=True) if redacted == value else redacted
    return redacted


def redact(event: Ga4Event) -> Ga4Event:
    """The event with e-mail addresses and phone numbers removed from every string param."""
    params = {key: redact_value(value) for key, value in event.params.items()}
    return replace(event, params=params)


def outgoing_event(decision: Decision, event: Ga4Event) -> Ga4Event:
    """The GA4 event as it may leave: session policy applied, then PII redacted."""
    return redact(apply_session_policy(decision, event))
