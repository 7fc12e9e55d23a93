"""Replay: move dead-lettered messages back onto the main topic, after a fix.

Each message is acknowledged on the dead-letter subscription only after the main topic
accepted its copy, so a failed replay loses nothing (the relay's deduplication absorbs a
message that made it twice). Messages that are not client batches stay where they are.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from loyjoy_relay.adapters.ports import MessagePublisher, OutgoingMessage
from loyjoy_relay.core.events import ClientBatch
from loyjoy_relay.errors import PublishError, UndecodableMessage

PULL_TIMEOUT_SECONDS = 5.0
ACK_DEADLINE_SECONDS = 600
_DROPPED_ATTRIBUTE_PREFIXES = ("CloudPubSubDeadLetter", "googclient_")
_DROPPED_ATTRIBUTES = {"reason", "source"}


@dataclass
class ReplayReport:
    """What a replay found and did."""

    found: int = 0
    replayed: int = 0
    kept: int = 0
    reasons: Counter[str] = field(default_factory=Counter)

    def as_json(self) -> dict[str, Any]:
        """A JSON-ready summary."""
        return {
            "found": self.found,
            "replayed": self.replayed,
            "kept": self.kept,
            "reasons": dict(self.reasons.most_common()),
        }


def reason_of(attributes: dict[str, str]) -> str:
    """Why a message was dead-lettered, from its attributes."""
    if "reason" in attributes:
        return attributes["reason"]
    if "CloudPubSubDeadLetterSourceDeliveryCount" in attributes:
        return "delivery attempts exhausted (transient failures outlasted the retry policy)"
    return "unknown"


def _clean(attributes: dict[str, str]) -> dict[str, str]:
    return {
        key: value
        for key, value in attributes.items()
        if key not in _DROPPED_ATTRIBUTES and not key.startswith(_DROPPED_ATTRIBUTE_PREFIXES)
    }


class Replayer:
    """Pulls from the dead-letter subscription and republishes to the main topic."""

    def __init__(self, subscriber: Any, subscription_path: str, publisher: MessagePublisher):
        self._subscriber = subscriber
        self._subscription = subscription_path
        self._publisher = publisher

    def pull(self, limit: int) -> list[Any]:
        """Pull up to ``limit`` dead letters, holding them for the replay's duration."""
        from google.api_core.exceptions import DeadlineExceeded

        received: list[Any] = []
        while len(received) < limit:
            try:
                response = self._subscriber.pull(
                    request={
                        "subscription": self._subscription,
                        "max_messages": min(100, limit - len(received)),
                    },
                    timeout=PULL_TIMEOUT_SECONDS,
                )
            except DeadlineExceeded:
                break
            if not response.received_messages:
                break
            self._hold([m.ack_id for m in response.received_messages], ACK_DEADLINE_SECONDS)
            received.extend(response.received_messages)
        return received

    def run(self, limit: int, dry_run: bool) -> ReplayReport:
        """Replay up to ``limit`` dead letters (or only report them with ``dry_run``)."""
        pulled = self.pull(limit)
        report = ReplayReport(found=len(pulled))
        report.reasons.update(reason_of(dict(m.message.attributes)) for m in pulled)
        if dry_run:
            self._hold([m.ack_id for m in pulled], 0)
            report.kept = len(pulled)
            return report
        for received in pulled:
            if self._replay_one(received.message):
                self._subscriber.acknowledge(
                    request={"subscription": self._subscription, "ack_ids": [received.ack_id]}
                )
                report.replayed += 1
            else:
                self._hold([received.ack_id], 0)
                report.kept += 1
        return report

    def _replay_one(self, message: Any) -> bool:
        try:
            ClientBatch.from_message(message.data)  # only client batches go back
        except UndecodableMessage:
            return False
        attributes = {**_clean(dict(message.attributes)), "replayed": "true"}
        try:
            self._publisher.publish_all([OutgoingMessage(message.data, attributes)])
        except PublishError:
            return False
        return True

    def _hold(self, ack_ids: list[str], seconds: int) -> None:
        if ack_ids:
            self._subscriber.modify_ack_deadline(
                request={
                    "subscription": self._subscription,
                    "ack_ids": ack_ids,
                    "ack_deadline_seconds": seconds,
                }
            )
