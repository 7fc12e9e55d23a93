"""Web addresses in events: redacted part by part, and cut down for anonymized events.

Pure. :func:`redact_url` removes the user name and password and redacts the host, the
path, every query parameter name and value and the fragment on their own, so an address
keeps its shape; an address that still holds something read as a whole is redacted as
text. :func:`anonymized_url` keeps scheme, host and path and only the query parameters the
rules allow, never a fragment. :func:`identifying_values` collects the values of
identifying parameters (click ids, linker values, user and session ids) an event carries
anywhere, so that an anonymized event can be scrubbed of them wherever they appear.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from urllib.parse import SplitResult, quote, quote_plus, urlsplit, urlunsplit

from loyjoy_relay.core.consent.pii import LAST_RESORT_TOKEN, Detector
from loyjoy_relay.core.consent.readings import decoded

# Query parameters that identify a visitor, a visit or an ad click. They never survive
# anonymization, and the rules may not allow them (rules check refuses a pattern that
# matches one). Compared in lower case.
IDENTIFYING_PARAMS = frozenset(
    {
        # Google: linker, cookies, click ids
        "_gl", "_ga", "_gid", "gclid", "gclsrc", "dclid", "gbraid", "wbraid", "srsltid",
        # other ad platforms' click ids
        "fbclid", "msclkid", "ttclid", "twclid", "li_fat_id", "yclid", "ysclid", "igshid",
        "epik", "sccid", "rdt_cid", "irclickid", "s_kwcid", "ef_id", "obclid", "dicbo",
        # e-mail and marketing-automation recipient ids
        "mc_eid", "_hsenc", "_hsmi", "_kx", "mkt_tok", "vero_id", "oly_enc_id",
        "oly_anon_id", "wickedid", "trk_contact", "ml_subscriber", "ml_subscriber_hash",
        # user, customer and session ids
        "uid", "user", "user_id", "userid", "customer", "customer_id", "customerid",
        "cust_id", "cid", "client_id", "clientid", "member_id", "account_id", "visitor_id",
        "email", "mail", "e", "phone", "tel", "token", "auth", "session", "session_id",
        "sessionid", "sid", "ssid", "phpsessid", "jsessionid", "aspsessionid",
    }
)  # fmt: skip
IDENTIFYING_PREFIXES = ("_ga_",)  # _ga_<stream>: a GA4 session cookie carried in a link
DEFAULT_ANONYMIZED_URL_PARAMS = ("utm_*",)

_URL = re.compile(r"^https?://", re.IGNORECASE)
_PARAM = re.compile(r"(?:^|[?&#;\s])([\w.\-\[\]]+)=([^?&#;\s]*)")
_USER_INFO = re.compile(r"^([a-z][a-z0-9+.\-]*://)[^/?#@]*@", re.IGNORECASE)


def is_url(value: str) -> bool:
    """True for an http(s) address, the only kind read part by part."""
    return bool(_URL.match(value))


def is_identifying(name: str) -> bool:
    """True when a query parameter name identifies a visitor, visit or click."""
    key = decoded(name).lower()
    return key in IDENTIFYING_PARAMS or key.startswith(IDENTIFYING_PREFIXES)


def pattern_matches(pattern: str, name: str) -> bool:
    """``utm_source`` matches itself; ``utm_*`` matches every name starting ``utm_``."""
    pattern, name = pattern.lower(), name.lower()
    if pattern.endswith("*"):
        return name.startswith(pattern[:-1])
    return name == pattern


def allowlist(patterns: Iterable[str]) -> Callable[[str], bool]:
    """Whether a query parameter (by its decoded name) may stay in an anonymized URL."""
    kept = tuple(patterns)

    def allowed(name: str) -> bool:
        key = decoded(name)
        return not is_identifying(key) and any(pattern_matches(p, key) for p in kept)

    return allowed


def _component(raw: str, detector: Detector, *, query: bool) -> str:
    if not detector.finds_in(raw):
        return raw
    redacted = detector.redact(raw)
    if redacted is None:
        redacted = LAST_RESORT_TOKEN
    return quote_plus(redacted, safe=":") if query else quote(redacted, safe="/:")


def _query(query: str, detector: Detector) -> str:
    pairs = []
    for pair in query.split("&"):
        key, separator, value = pair.partition("=")
        pairs.append(
            _component(key, detector, query=True)
            + separator
            + _component(value, detector, query=True)
        )
    return "&".join(pairs)


def _host(netloc: str, detector: Detector) -> str:
    host = netloc.rpartition("@")[2]  # a user name and password are never sent
    return host if not detector.finds_in(host) else quote(detector.redact(host) or "", safe=":")


def redact_url(value: str, detector: Detector) -> str | None:
    """The address with every part redacted on its own, and with no user info; the whole
    redacted as text when parts together still hold something; None if nothing is left."""
    if "@" not in value.partition("?")[0].partition("#")[0] and not detector.finds_in(value):
        return value  # nothing to remove: sent exactly as it came
    try:
        parts = urlsplit(value)
    except ValueError:  # not a well-formed URL (e.g. a broken IPv6 host)
        return detector.redact(_USER_INFO.sub(r"\1", value))
    fragment = (
        _query(parts.fragment, detector)
        if "=" in parts.fragment
        else _component(parts.fragment, detector, query=False)
    )
    redacted = SplitResult(
        parts.scheme,
        _host(parts.netloc, detector),
        _component(parts.path, detector, query=False),
        _query(parts.query, detector),
        fragment,
    )
    # an address with nothing to remove is sent exactly as it came
    rebuilt = value if redacted == parts else urlunsplit(redacted)
    return detector.redact(rebuilt)


def anonymized_url(value: str, allowed: Callable[[str], bool]) -> str:
    """Scheme, host and path of the address, and only the allowed query parameters; no
    user info, no fragment."""
    try:
        parts = urlsplit(value)
    except ValueError:
        return _USER_INFO.sub(r"\1", re.split(r"[?#]", value, maxsplit=1)[0])
    kept = [pair for pair in parts.query.split("&") if pair and allowed(pair.partition("=")[0])]
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit((parts.scheme, host, parts.path, "&".join(kept), ""))


def identifying_values(texts: Iterable[str]) -> set[str]:
    """The values of identifying query parameters found anywhere in ``texts`` (decoded),
    and the parts of Google's ``_gl`` linker value."""
    found: set[str] = set()
    for text in texts:
        for reading in {text, decoded(text)}:
            for match in _PARAM.finditer(reading):
                name, value = match.group(1), match.group(2)
                if not value or not is_identifying(name):
                    continue
                found.add(value)
                found.add(decoded(value))
                if name.lower() == "_gl":
                    found.update(part for part in decoded(value).split("*") if part)
    return found
