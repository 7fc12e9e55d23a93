"""The project's error tree, in one place.

::

    RelayError
    ├── ConfigError            bad configuration; raised at start, names the variable
    ├── InvalidInput           a client sent something we refuse (ingest answers 400)
    │   └── TooLarge           more than a request may carry (ingest answers 413)
    ├── RetryableError         transient: the caller retries (ingest 503, relay re-raises)
    │   ├── PublishError       Pub/Sub did not accept a message
    │   ├── StoreUnavailable   Firestore (consent ledger, dedup) cannot be read or written
    │   └── DeliveryFailed     GA4 answered 429/5xx, timed out or could not be reached
    └── PermanentError         will never succeed: dead-letter with the reason, never retry
        ├── UndecodableMessage a Pub/Sub message that is not a client batch
        ├── Ga4Rejected        GA4 refused the request (4xx) or it failed validation
        └── DeliveryUncertain  GA4 may have received the request, but its answer was lost
                               twice: parked, not sent a third time

HTTP status codes are chosen only in the ingest entry point; the relay's rule is
"raise a ``RetryableError`` to be retried, dead-letter a ``PermanentError``".
"""

from __future__ import annotations


class RelayError(Exception):
    """Base of every error this project raises on purpose."""


class ConfigError(RelayError):
    """Configuration is missing or malformed; the message names the variable."""


class InvalidInput(RelayError):
    """A client sent input we refuse; ``reason`` says what, for the answer."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class TooLarge(InvalidInput):
    """A request body or batch larger than ingest takes."""


class RetryableError(RelayError):
    """A transient failure: the same work may succeed if tried again."""


class PublishError(RetryableError):
    """Pub/Sub did not acknowledge a publish."""


class StoreUnavailable(RetryableError):
    """A Firestore-backed store (ledger, dedup) could not be read or written."""


class DeliveryFailed(RetryableError):
    """GA4 could not be reached or answered with a retryable status."""


class PermanentError(RelayError):
    """Work that can never succeed as it is; it is dead-lettered with ``reason``."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class UndecodableMessage(PermanentError):
    """A Pub/Sub message whose payload is not a client batch of this schema."""


class Ga4Rejected(PermanentError):
    """GA4 refused a request, or the request failed validation before sending."""


class DeliveryUncertain(PermanentError):
    """GA4 may have received a request whose answer was lost, and the one resend failed too.

    Resending again could add a further copy (GA4 does not deduplicate), so the events are
    parked with this reason for a person to check before replaying them.
    """
