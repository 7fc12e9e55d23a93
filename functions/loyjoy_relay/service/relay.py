"""The relay service: the I/O around the planner, for one Pub/Sub message (a client batch).

Per message, in this order:

1. decode it; a message that is not a client batch is dead-lettered at once;
2. record the batch's consent decisions in the client's ledger and read the history; a
   ledger that cannot be read raises, so nothing is sent (fail closed) and Pub/Sub retries;
3. claim the events' ids (dedup): already sent ones are skipped, ones another delivery is
   still working on make this delivery retry later;
4. plan the claimed events (:mod:`loyjoy_relay.core.planner`: every decision is made there);
5. send the plan's requests, marking events sent request by request; a transient failure
   releases what is unsent and raises (Pub/Sub retries); events GA4 refuses for good, and
   those the plan could not send, are dead-lettered with the reason; the rest still go;
6. log one ``relay message`` line: the counts, and every decision with its event id,
   reason and rules version (:mod:`loyjoy_relay.service.audit`), also when step 5 raised.
"""

from __future__ import annotations

import base64
import binascii
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from loyjoy_relay.adapters.dead_letters import DeadLetters
from loyjoy_relay.adapters.ga4_sender import Ga4Sender
from loyjoy_relay.adapters.logs import JsonLogger, LogMessage
from loyjoy_relay.adapters.ports import ConsentLedger, DedupStore
from loyjoy_relay.core.consent.history import ConsentRecord
from loyjoy_relay.core.consent.privacy import ClientIdSource
from loyjoy_relay.core.events import ClientBatch, RelayedEvent
from loyjoy_relay.core.planner import Plan, Planner
from loyjoy_relay.core.pseudonyms import Pseudonyms
from loyjoy_relay.errors import Ga4Rejected, RetryableError, StoreUnavailable, UndecodableMessage
from loyjoy_relay.service.audit import SentRequest, audit_fields

SecretLookup = Callable[[Any], str]


def wall_clock_ms() -> int:
    """Milliseconds since the epoch, now."""
    return time.time_ns() // 1_000_000


@dataclass
class MessageReport:
    """What became of one message's events (sent counts only what GA4 accepted)."""

    forwarded: int = 0
    anonymized: int = 0
    dropped: int = 0
    duplicates: int = 0
    dead_lettered: int = 0
    requests: int = 0
    drop_reasons: Counter[str] = field(default_factory=Counter)
    sent: list[SentRequest] = field(default_factory=list)


@dataclass
class RelayService:
    """Relays client batches; holds one instance's planner, stores and clients.

    ``api_secrets`` maps each destination's secret reference to its value, resolved at
    start (:mod:`loyjoy_relay.service.wiring`), so no message waits on Secret Manager;
    ``pseudonyms`` (keyed likewise) names clients in the logs.
    """

    planner: Planner
    ledger: ConsentLedger
    dedup: DedupStore
    sender: Ga4Sender
    api_secrets: Mapping[Any, str]
    dead_letters: DeadLetters
    logger: JsonLogger
    pseudonyms: Pseudonyms
    new_client_id: ClientIdSource
    clock_ms: Callable[[], int] = wall_clock_ms

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
            self.logger.error(
                LogMessage.DEAD_LETTERED, reason=error.reason, event_ids=[], bytes=len(raw)
            )
            return MessageReport(dead_lettered=1)
        report = MessageReport()
        history = self._consent_history(batch)
        claimed = self._claim(batch, report)
        plan = self.planner.plan(
            claimed,
            history,
            now_ms=self.clock_ms(),
            new_client_id=self.new_client_id,
            context=batch.context,
        )
        failure: str | None = None
        try:
            self._complete(plan.dropped_ids())
            refused = [(item.event_id, item.reason) for item in plan.unsendable]
            try:
                refused.extend(self._send(plan, report))
            finally:
                self._park(batch, refused, report)
        except Exception as error:  # logged below, then raised: Pub/Sub delivers it again
            failure = str(error) if isinstance(error, RetryableError) else type(error).__name__
            raise
        finally:
            self._log_message(batch, plan, report, started, failure)
        return report

    def _log_message(
        self,
        batch: ClientBatch,
        plan: Plan,
        report: MessageReport,
        started: float,
        failure: str | None,
    ) -> None:
        """The message's one line: counts for the metrics, the decisions for the audit."""
        action = {outcome.event_id: outcome.action for outcome in plan.outcomes}
        for request in report.sent:
            for event_id in request.event_ids:
                if action[event_id] == "forward":
                    report.forwarded += 1
                else:
                    report.anonymized += 1
        drops = [outcome for outcome in plan.outcomes if outcome.action == "drop"]
        report.dropped = len(drops)
        report.drop_reasons.update(outcome.reason for outcome in drops)
        fields = {
            "client": self.pseudonyms.for_logs(batch.client_id),
            "rules_version": self.planner.rules.rules_version,
            "events": len(batch.events),
            "forwarded": report.forwarded,
            "anonymized": report.anonymized,
            "dropped": report.dropped,
            "duplicates": report.duplicates,
            "dead_lettered": report.dead_lettered,
            "requests": report.requests,
            # One string, not a list: a log-based metric can extract a string field.
            "drop_rules": ",".join(sorted({outcome.rule for outcome in drops})),
            "latency_ms": round((time.perf_counter() - started) * 1000, 2),
            **audit_fields(plan.outcomes, report.sent),
        }
        if failure is None:
            self.logger.info(LogMessage.RELAY_MESSAGE, **fields)
        else:  # Pub/Sub delivers it again; what was sent or dropped is recorded as done
            self.logger.warning(LogMessage.RELAY_MESSAGE, retry=failure, **fields)

    def _consent_history(self, batch: ClientBatch) -> list[ConsentRecord]:
        records = self.planner.consent_records(batch.events)
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

    def _send(self, plan: Plan, report: MessageReport) -> list[tuple[str, str]]:
        """Send every planned request; return (event id, reason) GA4 refused for good."""
        refused: list[tuple[str, str]] = []
        for index, planned in enumerate(plan.requests):
            try:
                delivery = self.sender.send(
                    planned.request.body,
                    measurement_id=planned.destination.measurement_id,
                    api_secret=self.api_secrets[planned.destination.secret],
                    events=len(planned.event_ids),
                )
            except Ga4Rejected as error:
                refused.extend((event_id, error.reason) for event_id in planned.event_ids)
                continue
            except RetryableError:
                self.dedup.release([i for p in plan.requests[index:] for i in p.event_ids])
                raise
            report.requests += 1
            report.sent.append(SentRequest(delivery.measurement_id, planned.event_ids))
            self._complete(list(planned.event_ids))
        return refused

    def _park(
        self, batch: ClientBatch, refused: Sequence[tuple[str, str]], report: MessageReport
    ) -> None:
        by_reason: dict[str, list[RelayedEvent]] = defaultdict(list)
        events = {event.event_id: event for event in batch.events}
        for event_id, reason in refused:
            by_reason[reason].append(events[event_id])
        for reason, parked in by_reason.items():
            self.dead_letters.park_events(batch, parked, reason)
            ids = [event.event_id for event in parked]
            self.dedup.release(ids)  # so that a replay after the fix may send them
            report.dead_lettered += len(parked)
            self.logger.warning(LogMessage.DEAD_LETTERED, reason=reason, event_ids=ids)

    def _complete(self, event_ids: list[str]) -> None:
        if not event_ids:
            return
        try:
            self.dedup.complete(event_ids)
        except StoreUnavailable as error:
            # The events were delivered (or dropped); retrying the message could only send
            # them twice. The claims expire with their lease.
            self.logger.error(
                LogMessage.DEDUP_NOT_RECORDED, reason=str(error), events=len(event_ids)
            )
