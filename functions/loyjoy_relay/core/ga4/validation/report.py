"""Validation messages and the report that collects them, in GA4's debug-endpoint shape."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class ValidationMessage:
    """One message of the debug endpoint; ``field_path`` is None for parse errors."""

    field_path: str | None
    description: str
    validation_code: str

    def as_json(self) -> dict[str, str]:
        """The debug endpoint's shape (no ``fieldPath`` key when there is none)."""
        out = {"description": self.description, "validationCode": self.validation_code}
        return out if self.field_path is None else {"fieldPath": self.field_path, **out}


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


class Report:
    """Collects validation messages; parse errors replace everything else, as in GA4."""

    def __init__(self) -> None:
        self.enforce = False
        self._messages: list[tuple[str | None, str, str]] = []
        self._parse_errors: list[str] = []

    def add(
        self, path: str | None, description: str, code: str, *, enforce_only: bool = False
    ) -> None:
        """Record one message (skipped under RELAXED when ``enforce_only``)."""
        if enforce_only and not self.enforce:
            return
        self._messages.append((path, description, code))

    def parse_error(self, description: str) -> None:
        """Record a parse-level failure: VALUE_INVALID with no field path."""
        self._parse_errors.append(description)

    def duplicates(self, obj: Any, path: str) -> None:
        """Report keys given more than once in ``obj``."""
        for key in getattr(obj, "duplicates", ()):
            self.add(_join(path, key), f"Duplicate name [{key}].", "NAME_DUPLICATED")

    def unknown_fields(self, obj: dict[str, Any], allowed: Iterable[str], path: str) -> None:
        """Report keys the MP schema does not have (GA4 fails to parse them)."""
        known = frozenset(allowed)
        for key in obj:
            if key not in known:
                self.parse_error(
                    "Unable to parse Measurement Protocol JSON payload. "
                    f"({path or 'request'}) {key}: Cannot find field."
                )

    def messages(self) -> list[ValidationMessage]:
        """The messages, in the order found."""
        if self._parse_errors:
            return [ValidationMessage(None, text, "VALUE_INVALID") for text in self._parse_errors]
        return [ValidationMessage(*message) for message in self._messages]
