"""Finding and removing e-mail addresses, phone numbers and a visitor's identifiers in text.

Pure. Detection runs on every reading of a value (:mod:`.readings`): percent-encoded at
any depth, ``+`` for space, HTML entities, full-width or other Unicode forms. A value in
which no reading holds anything is returned exactly as it came. Otherwise the value is
sent in its decoded form (the fixed point of decoding, whose readings are only itself and
its ``+``-as-space form) with every finding on either replaced by a token, and the result
is checked once more on all its readings: no reading of a value this module returns
holds what it looks for. A value that cannot be made clean is left out (None).

What counts, in words (docs/consent.md, "Redaction"):

- e-mail addresses: ``local@domain``, also without a top-level domain and cut short
  (``jane.doe@gmail``, ``jane.doe@``), so an address cut by a length limit still counts;
- phone numbers: 7 to 15 digits (any script's decimal digits), with any mix of spaces,
  dots, dashes (Unicode dashes too), slashes or brackets between them, up to three
  together; that start with ``+``, ``(`` or a zero, or that contain separators;
- identifiers (only when given, for anonymized events): the visitor's own ids as text.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence

from loyjoy_relay.core.consent.readings import decoded, plus_as_space, readings

EMAIL_TOKEN = "REDACTED_EMAIL"  # noqa: S105 (a placeholder, not a password)
PHONE_TOKEN = "REDACTED_PHONE"  # noqa: S105 (a placeholder, not a password)
ID_TOKEN = "REDACTED_ID"  # noqa: S105 (a placeholder, not a password)
LAST_RESORT_TOKEN = "REDACTED"  # noqa: S105 (a placeholder, not a password)
TOKEN = re.compile(r"REDACTED(?:_[A-Z]+)?")
# Identifiers shorter than this are too common as text to be searched for.
MIN_IDENTIFIER_LENGTH = 4

# Local parts without "/", "=", "?" and spaces, which would let a match run back into a
# URL or a sentence; the domain may lack a top-level domain, or be missing (cut short).
_EMAIL = re.compile(r"[\w.!#$%&'*+^`{|}~-]+@[\w-]*(?:\.[\w-]+)*")
# U+FFFD stands where broken encoding was between digits: it separates them too.
_SEPARATOR = r"[\s().\-/\[\]\u2010-\u2015\u2212\u2043\ufe58\ufe63\uff0d\ufffd]"
# Not inside a word (letters, digits) and not after a "+"; up to 15 digits with up to
# three separators between each two.
_PHONE_CANDIDATE = re.compile(
    rf"(?<![^\W_])(?<!\+)\+?\(?\d(?:{_SEPARATOR}{{0,3}}\d){{6,14}}(?![^\W_])"
)
_SEPARATED = re.compile(rf"\d{_SEPARATOR}+\d")

Span = tuple[int, int, str]


def _is_phone(candidate: str) -> bool:
    digits = [char for char in candidate if char.isdecimal()]
    if not 7 <= len(digits) <= 15:
        return False
    # An unbroken digit run is a phone number only with an international or trunk prefix;
    # without one it is far more often a timestamp, an amount or an id.
    return (
        candidate.startswith(("+", "("))
        or unicodedata.decimal(digits[0]) == 0
        or bool(_SEPARATED.search(candidate))
    )


def _identifier_forms(identifiers: Iterable[str]) -> tuple[str, ...]:
    """The identifiers as searched for: as given and decoded, lower case, longest first."""
    forms = {
        form.lower()
        for identifier in identifiers
        for form in (identifier, decoded(identifier))
        if len(form) >= MIN_IDENTIFIER_LENGTH
    }
    return tuple(sorted(forms, key=lambda form: (-len(form), form)))


def _identifier_spans(text: str, forms: Sequence[str]) -> Iterator[Span]:
    lowered = text.lower()
    if len(lowered) != len(text):  # a few characters change length in lower case
        pattern = "|".join(re.escape(form) for form in forms)
        for match in re.finditer(pattern, text, re.IGNORECASE):
            yield match.start(), match.end(), ID_TOKEN
        return
    for form in forms:
        start = lowered.find(form)
        while start >= 0:
            yield start, start + len(form), ID_TOKEN
            start = lowered.find(form, start + 1)


class Detector:
    """Finds e-mail addresses, phone numbers and (optionally) given identifiers in text."""

    __slots__ = ("_identifiers",)

    def __init__(self, identifiers: Iterable[str] = ()) -> None:
        self._identifiers = _identifier_forms(identifiers)

    def spans(self, text: str) -> list[Span]:
        """Where in ``text`` something is found: (start, end, token), in order."""
        found: list[Span] = [(m.start(), m.end(), EMAIL_TOKEN) for m in _EMAIL.finditer(text)]
        found.extend(
            (m.start(), m.end(), PHONE_TOKEN)
            for m in _PHONE_CANDIDATE.finditer(text)
            if _is_phone(m.group())
        )
        if self._identifiers:
            found.extend(_identifier_spans(text, self._identifiers))
        return sorted(found)

    def finds_in(self, text: str) -> bool:
        """True when some reading of ``text`` holds something (or it has too many)."""
        every, complete = readings(text)
        return not complete or any(self.spans(reading) for reading in every)

    def redact(self, value: str) -> str | None:
        """``value`` unchanged when no reading holds anything; else its decoded form with
        every finding replaced; None when nothing sendable is left."""
        if not self.finds_in(value):
            return value
        text = decoded(value)
        for _ in range(3):
            spans = [*self.spans(text), *_with_plus(text, self.spans(plus_as_space(text)))]
            text = _replace(text, spans)
            if not self.finds_in(text):
                return text
        return None if self.finds_in(LAST_RESORT_TOKEN) else LAST_RESORT_TOKEN


def _with_plus(text: str, spans: Iterable[Span]) -> list[Span]:
    """Spans found where ``+`` reads as a space, each phone number with the ``+`` before it
    (its international prefix)."""
    return [
        (start - 1 if token == PHONE_TOKEN and _prefix_plus(text, start) else start, end, token)
        for start, end, token in spans
    ]


def _prefix_plus(text: str, start: int) -> bool:
    """True when a ``+`` before ``start`` begins a word (a prefix, not a joining plus)."""
    return text[start - 1 : start] == "+" and (start == 1 or not text[start - 2].isalnum())


def _replace(text: str, spans: Sequence[Span]) -> str:
    """``text`` with each group of overlapping spans replaced by its first span's token."""
    pieces: list[str] = []
    position = 0
    end = -1
    for start, stop, token in sorted(spans):
        if start < end:  # overlaps the group being replaced
            end = max(end, stop)
            continue
        if end >= 0:
            position = end
        pieces.append(text[position:start])
        pieces.append(token)
        end = stop
    if end >= 0:
        position = end
    pieces.append(text[position:])
    return "".join(pieces)


PLAIN = Detector()
"""Finds e-mail addresses and phone numbers only: what every mode removes."""


def holds_pii(value: str) -> bool:
    """True when some reading of ``value`` holds an e-mail address or a phone number."""
    return PLAIN.finds_in(value)


def redact_text(value: str) -> str:
    """``value`` with e-mail addresses and phone numbers removed on every reading."""
    redacted = PLAIN.redact(value)
    return LAST_RESORT_TOKEN if redacted is None else redacted
