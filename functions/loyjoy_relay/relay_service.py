"""The relay: one Pub/Sub message (a client batch) → consent → dedup → GA4.

Per message, in this order:

1. decode it; a message that is not a client batch is dead-lettered at once;
2. record the batch's consent decisions in the client's ledger and read the history
   (one transaction); a ledger that cannot be read raises, so nothing is sent (fail
   closed) and Pub/Sub retries;
3. claim the events' ids (``dedup``): already sent ones are skipped, ones another delivery
   is still working on make this delivery retry later;
4. decide each event (forward / anonymize / drop), log the decision, map and redact;
5. send per identity in as few MP requests as GA4 allows, marking events sent request by
   request; a transient failure releases what is unsent and raises (Pub/Sub retries);
   a permanent one dead-letters those events with the reason, and the rest still go.
"""

from __future__ import annotations

import base64
import binascii
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from loyjoy_relay.consent.audit import audit_decision
from loyjoy_relay.consent.decision import decide, records_from_event
from loyjoy_relay.consent.ledger import ConsentLedger
from loyjoy_relay.consent.rules import ConsentRules
from loyjoy_relay.dead_letters import DeadLetters
from loyjoy_relay.dedup import DedupStore
from loyjoy_relay.errors import Ga4Rejected, RetryableError, StoreUnavailable, UndecodableMessage
from loyjoy_relay.events import ClientBatch, RelayedEvent
from loyjoy_relay.ga4.batching import build_requests
from loyjoy_relay.ga4.mapping import Ga4Mapping
from loyjoy_relay.ga4.model import Ga4Event, Ga4Identity
from loyjoy_relay.ga4.routing import Ga4Property
from loyjoy_relay.ga4.secrets import SecretProvider
from loyjoy_relay.ga4.sender import Ga4Sender
from loyjoy_relay.logs import JsonLogger, pseudonym
from loyjoy_relay.outgoing import prepare


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


@dataclass
class MessageReport:
    """What became of one message's events."""

    forwarded: int = 0
    anonymized: int = 0
    dropped: int = 0
    duplicates: int = 0
    dead_lettered: int = 0
    requests: int = 0
    drop_reasons: Counter[str] = field(default_factory=Counter)


@dataclass
class _Outgoing:
    """Events ready to send, grouped by where and as whom they go."""

    groups: dict[tuple[Any, ...], tuple[Ga4Property, Ga4Identity, list[Ga4Event]]] = field(
        default_factory=dict
    )

    def add(self, prop: Ga4Property, identity: Ga4Identity, event: Ga4Event) -> None:
        key = (
            prop.measurement_id,
            identity.client_id,
            identity.user_id,
            identity.ad_user_data,
            identity.ad_personalization,
        )
        self.groups.setdefault(key, (prop, identity, []))[2].append(event)


@dataclass
class RelayService:
    """Relays client batches; holds one instance's rules, mapping, stores and clients."""

    rules: ConsentRules
    mapping: Ga4Mapping
    default_property: Ga4Property
    ledger: ConsentLedger
    dedup: DedupStore
    sender: Ga4Sender
    secrets: SecretProvider
    dead_letters: DeadLetters
    logger: JsonLogger
    clock_ms: Callable[[], int] = _now_ms

    def handle_event_data(self, data: Mapping[str, Any]) -> MessageReport:
        """Handle the data of a ``messagePublished`` CloudEvent (or a push body)."""
        message = data.get("message") if isinstance(data, Mapping) else None
        encoded = message.get("data") if isinstance(message, Mapping) else None
        try:
            raw = base64.b64decode(encoded or "", validate=True)
        except (binascii.Error, TypeError, ValueError):
            raw = str(encoded).encode()
        return self.process(raw)

    def process(self, raw: bytes) -> MessageReport:
        """Relay one client batch; raise RetryableError to have Pub/Sub deliver it again."""
        started = time.perf_counter()
        try:
            batch = ClientBatch.from_message(raw)
        except UndecodableMessage as error:
            self.dead_letters.park_raw(raw, error.reason)
            self.logger.error("dead-lettered", reason=error.reason, event_ids=[], bytes=len(raw))
            return MessageReport(dead_lettered=1)
        report = MessageReport()
        history = self._consent_history(batch)
        claimed = self._claim(batch, report)
        outgoing, rejected = self._plan(batch, claimed, history, report)
        try:
            rejected.extend(self._send(outgoing, report))
        finally:
            self._park(batch, rejected, report)
        self.logger.info(
            "relay message",
            client=pseudonym(batch.client_id),
            bot_id=batch.bot_id,
            events=len(batch.events),
            forwarded=report.forwarded,
            anonymized=report.anonymized,
            dropped=report.dropped,
            duplicates=report.duplicates,
            dead_lettered=report.dead_lettered,
            requests=report.requests,
            drop_reasons=dict(report.drop_reasons),
            latency_ms=round((time.perf_counter() - started) * 1000, 2),
        )
        return report

    def _consent_history(self, batch: ClientBatch) -> list[Any]:
        records = [
            record for event in batch.events for record in records_from_event(self.rules, event)
        ]
        if records:
            return self.ledger.record(batch.client_id, records)
        return self.ledger.read(batch.client_id)

    def _claim(self, batch: ClientBatch, report: MessageReport) -> list[RelayedEvent]:
        claim = self.dedup.claim([event.event_id for event in batch.events], self.clock_ms())
        if claim.busy:
            self.dedup.release(list(claim.claimed))
            raise RetryableError(f"{len(claim.busy)} events are being relayed by another delivery")
        report.duplicates = len(claim.already_sent)
        unique = {event.event_id: event for event in batch.events}
        return [event for event_id, event in unique.items() if event_id in claim.claimed]

    def _plan(
        self,
        batch: ClientBatch,
        events: list[RelayedEvent],
        history: list[Any],
        report: MessageReport,
    ) -> tuple[_Outgoing, list[tuple[str, str]]]:
        outgoing, rejected, done = _Outgoing(), [], []
        now = self.clock_ms()
        for event in events:
            decision = decide(self.rules, event, history)
            audit_decision(self.logger, self.rules, event, decision)
            if decision.action == "drop":
                report.dropped += 1
                report.drop_reasons[decision.reason] += 1
                done.append(event.event_id)
                continue
            try:
                identity, ga4_event = prepare(self.rules, self.mapping, decision, event, now)
            except Ga4Rejected as error:
                rejected.append((event.event_id, error.reason))
                continue
            prop = self.mapping.property_for(event.bot_id, self.default_property)
            outgoing.add(prop, identity, ga4_event)
            if decision.action == "forward":
                report.forwarded += 1
            else:
                report.anonymized += 1
        self._complete(done)
        return outgoing, rejected

    def _send(self, outgoing: _Outgoing, report: MessageReport) -> list[tuple[str, str]]:
        """Send every group; return (event id, reason) GA4 refused for good."""
        pending, refused = _requests(outgoing)
        for index, (prop, body, event_ids) in enumerate(pending):
            try:
                delivery = self.sender.send(
                    body,
                    measurement_id=prop.measurement_id,
                    api_secret=self.secrets.secret_for(prop.secret),
                )
            except Ga4Rejected as error:
                refused.extend((event_id, error.reason) for event_id in event_ids)
                continue
            except RetryableError:
                self.dedup.release([i for _, _, ids in pending[index:] for i in ids])
                raise
            report.requests += 1
            self._complete(event_ids)
            self.logger.info(
                "ga4 request sent",
                measurement_id=delivery.measurement_id,
                events=delivery.events,
                attempts=delivery.attempts,
                event_ids=event_ids,
            )
        return refused

    def _park(
        self, batch: ClientBatch, rejected: list[tuple[str, str]], report: MessageReport
    ) -> None:
        by_reason: dict[str, list[RelayedEvent]] = defaultdict(list)
        events = {event.event_id: event for event in batch.events}
        for event_id, reason in rejected:
            by_reason[reason].append(events[event_id])
        for reason, parked in by_reason.items():
            self.dead_letters.park_events(batch, parked, reason)
            ids = [event.event_id for event in parked]
            self.dedup.release(ids)  # so that a replay after the fix may send them
            report.dead_lettered += len(parked)
            self.logger.warning("dead-lettered", reason=reason, event_ids=ids)

    def _complete(self, event_ids: list[str]) -> None:
        if not event_ids:
            return
        try:
            self.dedup.complete(event_ids)
        except StoreUnavailable as error:
            # The events were delivered (or dropped); retrying the message could only send
            # them twice. The claims expire with their lease.
            self.logger.error(
                "dedup completion not recorded", reason=str(error), events=len(event_ids)
            )


def _requests(
    outgoing: _Outgoing,
) -> tuple[list[tuple[Ga4Property, dict[str, Any], list[str]]], list[tuple[str, str]]]:
    """Every MP body to send, with its property and the ids of the events it carries;
    and the events of groups that cannot be sent at all (an event over GA4's size limit)."""
    requests: list[tuple[Ga4Property, dict[str, Any], list[str]]] = []
    refused: list[tuple[str, str]] = []
    for prop, identity, events in outgoing.groups.values():
        try:
            bodies = build_requests(identity, events)
        except Ga4Rejected as error:
            refused.extend((event.source_event_id, error.reason) for event in events)
            continue
        remaining = iter(events)
        for body in bodies:
            carried = [next(remaining).source_event_id for _ in body["events"]]
            requests.append((prop, body, carried))
    return requests, refused
