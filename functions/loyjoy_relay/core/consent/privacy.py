"""What a decision changes in the outgoing GA4 event: identity, session, URLs and redaction.

Pure: the fresh client id of an anonymized event comes from the caller's id source.
``forward`` keeps the client's own ids; ``anonymize`` sends one event under a fresh random
client id with no session or user id, both Consent Mode signals denied, web addresses cut
to scheme, host, path and the rules' allowed query parameters, and every one of the
visitor's identifiers (client id and its base64 form, user id, session id, click ids and
other identifying URL values) removed wherever it appears. In every mode, e-mail addresses
and phone numbers are removed on every reading of every value (:mod:`.pii`), and only
then are values cut to GA4's length limits, so a redaction never makes an event
unsendable.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator
from dataclasses import replace

from loyjoy_relay.core.consent.decision import Decision
from loyjoy_relay.core.consent.pii import PLAIN, TOKEN, Detector, holds_pii
from loyjoy_relay.core.consent.rules import BotPolicy, Signal
from loyjoy_relay.core.consent.urls import (
    allowlist,
    anonymized_url,
    identifying_values,
    is_url,
    redact_url,
)
from loyjoy_relay.core.events import LoyJoyEvent
from loyjoy_relay.core.ga4 import limits
from loyjoy_relay.core.ga4.model import ConsentSignal, Ga4Event, Ga4Identity, ParamValue
from loyjoy_relay.errors import Ga4Rejected

# Params that tie an event to a visit or a person; an anonymized event carries none.
IDENTIFYING_PARAMS = frozenset(
    {"session_id", "session_number", "ga_session_id", "ga_session_number", "user_id", "client_id"}
)
# Redacting may lengthen a value and cutting may make a new reading; a few rounds settle it.
_FIT_ROUNDS = 4


def _signal(setting: Signal, decision: Decision, name: str) -> ConsentSignal:
    if name in decision.site_denied:
        return "DENIED"  # the site's banner denies it: never granted here
    if setting == "follow":
        return "GRANTED" if decision.state == "granted" else "DENIED"
    return "GRANTED" if setting == "granted" else "DENIED"


ClientIdSource = Callable[[], str]
"""Makes a fresh, unlinkable client id in GA4's ``<number>.<number>`` form."""


def identity_for(
    decision: Decision, event: LoyJoyEvent, policy: BotPolicy, new_client_id: ClientIdSource
) -> Ga4Identity:
    """Who an event is sent as; a dropped event has no identity (ValueError).

    A client id that holds (on any reading) an e-mail address or a phone number is never
    sent: the event cannot go as the visitor (Ga4Rejected, with a reason that does not
    quote it). A site's user id that does is left out, as is one longer than GA4 takes.
    """
    if decision.action == "forward":
        if holds_pii(event.client_id):
            raise Ga4Rejected(
                "the client id holds an e-mail address or a phone number: never sent to GA4"
            )
        user_id = event.user_id
        if user_id is not None and (holds_pii(user_id) or len(user_id) > limits.MAX_USER_ID_LENGTH):
            user_id = None
        return Ga4Identity(
            client_id=event.client_id,
            user_id=user_id,
            ad_user_data=_signal(policy.ad_user_data, decision, "ad_user_data"),
            ad_personalization=_signal(policy.ad_personalization, decision, "ad_personalization"),
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


def _base64_forms(value: str) -> Iterator[str]:
    raw = value.encode()
    for encoded in (base64.b64encode(raw), base64.urlsafe_b64encode(raw)):
        text = encoded.decode()
        yield text
        yield text.rstrip("=")


def identifiers_of(event: LoyJoyEvent) -> set[str]:
    """Everything in an event that identifies the visitor: client id (and its base64 form,
    as Google's ``_gl`` linker carries it), user id, session id, and the values of
    identifying URL parameters (click ids, linker values, user ids) in any of its texts."""
    found = {event.client_id, *_base64_forms(event.client_id)}
    found.update(value for value in (event.user_id, event.session_id) if value)
    texts = [value for value in event.model_dump().values() if isinstance(value, str)]
    found.update(identifying_values(texts))
    return found


def _cut(value: str, limit: int) -> str:
    """``value`` cut to ``limit`` characters, before a token the limit would split."""
    for token in TOKEN.finditer(value):
        if token.start() < limit < token.end():
            limit = token.start()
            break
    return limits.cut(value, limit)


def sendable_value(value: str, limit: int | None, detector: Detector = PLAIN) -> str | None:
    """``value`` as it may leave: redacted on every reading, then cut to ``limit`` on a
    character boundary (and checked again, since a cut can make a new reading); None when
    nothing sendable is left."""
    current: str | None = value
    for _ in range(_FIT_ROUNDS):
        if current is None:
            return None
        redacted = redact_url(current, detector) if is_url(current) else detector.redact(current)
        if redacted is None or limit is None or len(redacted) <= limit:
            return redacted or None
        current = _cut(redacted, limit)
    return None


def redact_value(value: ParamValue, detector: Detector = PLAIN) -> ParamValue | None:
    """A param value with PII (and ``detector``'s identifiers) removed, not cut; numbers are
    left as they are; None when nothing sendable is left."""
    if not isinstance(value, str):
        return value
    return sendable_value(value, None, detector)


def _outgoing_params(params: dict[str, ParamValue], detector: Detector) -> dict[str, ParamValue]:
    kept: dict[str, ParamValue] = {}
    for name, value in params.items():
        if not isinstance(value, str):
            kept[name] = value
            continue
        sendable = sendable_value(value, limits.param_value_limit(name), detector)
        if sendable is not None:
            kept[name] = sendable
    return kept


def redact(event: Ga4Event, detector: Detector = PLAIN) -> Ga4Event:
    """The event with e-mail addresses and phone numbers removed from every string param
    and every value cut to GA4's limits afterwards."""
    return replace(event, params=_outgoing_params(event.params, detector))


def anonymize_urls(event: Ga4Event, policy: BotPolicy) -> Ga4Event:
    """Every web address among the params cut to scheme, host, path and allowed params."""
    allowed = allowlist(policy.anonymized_url_params)
    params = {
        name: anonymized_url(value, allowed) if isinstance(value, str) and is_url(value) else value
        for name, value in event.params.items()
    }
    return replace(event, params=params)


def outgoing_event(
    decision: Decision, event: Ga4Event, *, policy: BotPolicy, source: LoyJoyEvent
) -> Ga4Event:
    """The GA4 event as it may leave: for ``anonymize``, identifying params removed, URLs
    cut down and the visitor's identifiers scrubbed; in every mode PII redacted; then every
    value cut to GA4's limits."""
    if decision.action != "anonymize":
        return redact(event)
    anonymous = anonymize_urls(apply_session_policy(decision, event), policy)
    return redact(anonymous, Detector(identifiers_of(source)))
