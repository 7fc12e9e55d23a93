"""The tests' own reader of MP bodies: every decoded reading of every value, and whether a
planted e-mail address, phone number or identifier can be seen in any of them.

Written apart from ``core.consent.readings`` on purpose (other decoders: ``unquote_plus``,
NFKC and invisible characters as separate steps), so that the generated tests do not take
the product's word for what a reading is.
"""

from __future__ import annotations

import html
import json
import re
import unicodedata
from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote, unquote_plus

_INVISIBLE = re.compile("[\u00ad\u200b-\u200f\u2060-\u2064\ufeff]")
_DIGIT_RUN = re.compile(r"\d(?:[^\w]{0,4}\d)*")


def _steps(text: str) -> Iterator[str]:
    yield unquote(text)
    yield unquote_plus(text)
    yield html.unescape(text)
    yield unicodedata.normalize("NFKC", text)
    yield _INVISIBLE.sub("", text)


def readings(value: str, limit: int = 400) -> set[str]:
    """``value`` and everything any sequence of decodings makes of it."""
    found = {value}
    pending = [value]
    while pending:
        current = pending.pop()
        for following in _steps(current):
            if following not in found:
                assert len(found) < limit, f"too many readings of {value[:80]!r}"
                found.add(following)
                pending.append(following)
    return found


def strings_in(body: dict[str, Any], *, names: bool = True) -> Iterator[str]:
    """Every string of an MP body: ids, values, user properties, and (unless ``names`` is
    False) the names of fields and params, which come from the mapping, not the input."""
    stack: list[Any] = [body]
    while stack:
        node = stack.pop()
        if isinstance(node, str):
            yield node
        elif isinstance(node, dict):
            if names:
                stack.extend(node.keys())
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)


def body_readings(raw: bytes) -> set[str]:
    """Every reading of every string of a raw MP body."""
    return {reading for value in strings_in(json.loads(raw)) for reading in readings(value)}


def email_seen(address: str, seen: set[str]) -> bool:
    """True when the address's local part, followed by its ``@``, is in some reading."""
    local = unicodedata.normalize("NFKC", address).casefold().split("@")[0] + "@"
    return any(local in reading.casefold() for reading in seen)


def phone_seen(number: str, seen: set[str]) -> bool:
    """True when seven consecutive digits of the number appear in some reading, joined only
    by non-word characters (the number, or a part of it, still readable)."""
    digits = "".join(str(unicodedata.decimal(c)) for c in number if c.isdecimal())
    windows = {digits[i : i + 7] for i in range(len(digits) - 6)}
    for reading in seen:
        for run in _DIGIT_RUN.finditer(reading):
            joined = "".join(str(unicodedata.decimal(c)) for c in run.group() if c.isdecimal())
            if any(window in joined for window in windows):
                return True
    return False


def identifier_seen(identifier: str, seen: set[str]) -> bool:
    """True when the identifier (in any letter case) is in some reading."""
    wanted = identifier.casefold()
    return any(wanted in reading.casefold() for reading in seen)
