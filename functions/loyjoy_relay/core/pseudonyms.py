"""Keyed pseudonyms of a visitor's client id: in logs and as consent-ledger document ids.

Pure (HMAC-SHA256). The key is the deployment's own, held in Secret Manager and resolved
when the relay starts (:mod:`loyjoy_relay.service.wiring`). Without it a pseudonym cannot
be reversed by trying client ids (a GA client id has about 2^31 values per first-visit
second, a few seconds of work against an unkeyed hash), and pseudonyms of two deployments
cannot be matched. Each use has its own label, so a log pseudonym cannot be matched
against a ledger document id either. Rotating the key changes every pseudonym: see
docs/consent.md, "The consent ledger".
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

# A key shorter than a SHA-256 block's security level is refused at start.
MIN_KEY_LENGTH = 32
LOG_PSEUDONYM_LENGTH = 16  # hex characters: enough to correlate log lines


@dataclass(frozen=True, slots=True, repr=False)
class Pseudonyms:
    """Pseudonyms under one key; its ``repr`` never shows the key."""

    key: bytes

    def __post_init__(self) -> None:
        if len(self.key) < MIN_KEY_LENGTH:
            raise ValueError(f"a pseudonym key has at least {MIN_KEY_LENGTH} bytes")

    def __repr__(self) -> str:
        return "Pseudonyms(key=***)"

    def _mac(self, purpose: bytes, value: str) -> str:
        return hmac.new(self.key, purpose + b"\x00" + value.encode(), hashlib.sha256).hexdigest()

    def for_logs(self, client_id: str) -> str:
        """The short pseudonym of a client id in log lines."""
        return self._mac(b"log", client_id)[:LOG_PSEUDONYM_LENGTH]

    def ledger_key(self, client_id: str) -> str:
        """The id of a client's consent-ledger document."""
        return self._mac(b"consent-ledger", client_id)
