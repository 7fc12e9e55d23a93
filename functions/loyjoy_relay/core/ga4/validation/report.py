"""Validation messages and the report that collects them, in GA4's debug-endpoint shape.

A message is an *error* (GA4 refuses what it is about; the planner sets the event or the
request aside) or a *warning*: a recommendation of the documentation that GA4 does not
enforce (e.g. ``value`` on ``add_to_cart``). Both use GA4's seven codes and the debug
endpoint's three keys; a warning's description starts with :data:`WARNING_PREFIX`, so a
reader of the JSON tells them apart without a key the endpoint does not have.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

Severity = Literal["error", "warning"]
WARNING_PREFIX = "Warning: "


@dataclass(frozen=True, slots=True)
class ValidationMessage:
    """One message of the debug endpoint; ``field_path`` is None for parse errors."""

    field_path: str | None
    description: str
    validation_code: str
    severity: Severity = "error"

    @property
    def is_error(self) -> bool:
        """True when GA4 refuses what the message is about (not a mere recommendation)."""
        return self.severity == "error"

    def as_json(self) -> dict[str, str]:
        """The debug endpoint's shape (no ``fieldPath`` key when there is none)."""
        out = {"description": self.description, "validationCode": self.validation_code}
        return out if self.field_path is None else {"fieldPath": self.field_path, **out}


def errors(messages: Iterable[ValidationMessage]) -> list[ValidationMessage]:
    """The messages that refuse something; warnings left out."""
    return [message for message in messages if message.is_error]


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


class Report:
    """Collects validation messages; parse errors replace everything else, as in GA4."""

    def __init__(self) -> None:
        self.enforce = False
        self._messages: list[ValidationMessage] = []
        self._parse_errors: list[str] = []

    def add(
        self, path: str | None, description: str, code: str, *, enforce_only: bool = False
    ) -> None:
        """Record one error (skipped under RELAXED when ``enforce_only``)."""
        if enforce_only and not self.enforce:
            return
        self._messages.append(ValidationMessage(path, description, code))

    def warn(self, path: str, description: str, code: str) -> None:
        """Record a recommendation GA4 does not enforce (only under ENFORCE_RECOMMENDATIONS)."""
        if self.enforce:
            self._messages.append(
                ValidationMessage(path, WARNING_PREFIX + description, code, "warning")
            )

    def add_or_warn(self, path: str, description: str, code: str, *, refuse: bool) -> None:
        """Record an ENFORCE_RECOMMENDATIONS error when ``refuse``, else a warning."""
        if refuse:
            self.add(path, description, code, enforce_only=True)
        else:
            self.warn(path, description, code)

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
        return list(self._messages)
