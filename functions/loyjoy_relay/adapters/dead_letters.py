"""Dead letters: what can never succeed is parked on the dead-letter topic, with its reason.

Two routes lead there. Pub/Sub itself moves a message after the subscription's
``max_delivery_attempts`` (it adds ``CloudPubSubDeadLetter*`` attributes); the relay
publishes permanent failures at once (an undecodable message, events GA4 refuses) with a
``reason`` attribute, so they are not retried in vain. ``loyjoy-relay replay`` sends both
kinds back to the main topic after a fix.
"""

from __future__ import annotations

from dataclasses import dataclass

from loyjoy_relay.adapters.ports import MessagePublisher, OutgoingMessage
from loyjoy_relay.core.events import ClientBatch, RelayedEvent

MAX_REASON_CHARS = 1000  # attribute values may be up to 1024 bytes


@dataclass
class DeadLetters:
    """Publishes permanent failures to the dead-letter topic."""

    publisher: MessagePublisher

    def park_raw(self, data: bytes, reason: str) -> None:
        """Park a message that could not be decoded, as it arrived."""
        self.publisher.publish_all(
            [OutgoingMessage(data, {"reason": reason[:MAX_REASON_CHARS], "source": "relay"})]
        )

    def park_events(self, batch: ClientBatch, events: list[RelayedEvent], reason: str) -> None:
        """Park some events of a client batch as a batch of their own."""
        parked = batch.model_copy(update={"events": events})
        data, attributes = parked.to_message()
        attributes.update(reason=reason[:MAX_REASON_CHARS], source="relay")
        self.publisher.publish_all([OutgoingMessage(data, attributes)])
