"""Every way a text value can be read: the one normaliser behind PII detection.

Pure. Whoever receives a value (GA4, a report, an analyst) may read it after
percent-decoding at any depth, with ``+`` as a space, after resolving HTML entities, and
after Unicode compatibility normalisation (NFKC: full-width digits and letters, small or
full-width ``@``, ligatures become plain ones; the digits of every script become ASCII
digits; invisible format characters such as zero-width spaces and soft hyphens are
removed). :func:`readings` is the set of all those
readings of a value; :func:`decoded` is its fixed point, the value with every decoding
applied until nothing changes. The fixed point's only readings are itself and its
``+``-as-space form (:func:`plus_as_space`, aligned character by character), so a redacted
fixed point leaves nothing for any further decoding to reveal.
"""

from __future__ import annotations

import html
import unicodedata
from collections.abc import Callable
from urllib.parse import unquote

# A value with more distinct readings than this is not read further: callers treat it as
# holding what they look for (see :func:`readings`), which only ever sends less.
MAX_READINGS = 64


def _percent(text: str) -> str:
    return unquote(text, errors="replace") if "%" in text else text


def _entities(text: str) -> str:
    return html.unescape(text) if "&" in text else text


def _unicode(text: str) -> str:
    if text.isascii():
        return text
    normal = unicodedata.normalize("NFKC", text)
    return "".join(_plain(char) for char in normal if unicodedata.category(char) != "Cf")


def _plain(char: str) -> str:
    """A decimal digit of any script as its ASCII digit (NFKC keeps ``٤`` as it is)."""
    if char.isascii() or not char.isdecimal():
        return char
    return str(unicodedata.decimal(char))


def plus_as_space(text: str) -> str:
    """``text`` with every ``+`` read as a space (as a query string means it)."""
    return text.replace("+", " ")


# Unicode forms and entities first: an invisible character inside a %XX escape, or an
# escape written in full-width characters, would otherwise break the escape for good.
_DECODINGS: tuple[Callable[[str], str], ...] = (_unicode, _entities, _percent)
_STEPS: tuple[Callable[[str], str], ...] = (*_DECODINGS, plus_as_space)


def is_plain(text: str) -> bool:
    """True when no decoding changes ``text`` (ASCII without ``%``, ``&`` or ``+``)."""
    return text.isascii() and not any(char in text for char in "%&+")


def decoded(text: str) -> str:
    """``text`` with percent-encoding, HTML entities and Unicode forms decoded until
    nothing changes (``+`` is kept: :func:`plus_as_space` gives the other reading)."""
    current = text
    # Every round that changes something after the first makes the text shorter, so this
    # ends within len(text) rounds; the bound is a guard, not a limit that is ever met.
    for _ in range(len(text) + 8):
        following = current
        for step in _DECODINGS:
            following = step(following)
        if following == current:
            return current
        current = following
    return current


def readings(text: str) -> tuple[set[str], bool]:
    """Every reading of ``text`` under any sequence of decodings (itself included), and
    whether that set is complete (False once it exceeds :data:`MAX_READINGS`)."""
    if is_plain(text):
        return {text}, True
    found = {text}
    pending = [text]
    while pending:
        current = pending.pop()
        for step in _STEPS:
            following = step(current)
            if following not in found:
                if len(found) >= MAX_READINGS:
                    return found, False
                found.add(following)
                pending.append(following)
    return found, True
