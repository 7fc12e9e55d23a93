"""Where a bot's events go: a GA4 property (measurement id) and how to get its API secret.

Pure values. A :class:`SecretRef` names a secret (a Secret Manager version, an
environment variable) or, for local use, holds its value; its ``repr`` never shows a value.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

SecretKind = Literal["secret_manager", "env", "value"]
MEASUREMENT_ID = re.compile(r"^G-[A-Z0-9]{4,20}$")
SECRET_VERSION = re.compile(r"^projects/[^/]+/secrets/[^/]+/versions/[^/]+$")
ENV_NAME = re.compile(r"^[A-Z_][A-Z0-9_]*$")


@dataclass(frozen=True, slots=True, repr=False)
class SecretRef:
    """How to obtain an API secret: by Secret Manager version, env variable, or the value."""

    kind: SecretKind
    name: str

    def __repr__(self) -> str:
        shown = "***" if self.kind == "value" else self.name
        return f"SecretRef(kind={self.kind!r}, name={shown!r})"

    def __str__(self) -> str:
        return repr(self)


@dataclass(frozen=True, slots=True)
class Ga4Property:
    """One GA4 web stream to send to: its measurement id and API secret reference."""

    measurement_id: str
    secret: SecretRef
