"""The relay service: the I/O around the planner, for one Pub/Sub message (a client batch).

Per message, in this order:

1. decode it; a message that is not a client batch is dead-lettered at once;
2. read the client's ledger, once (:mod:`loyjoy_relay.adapters.firestore_ledger`): the
   consent history, the events already settled and those another message is sending; a
   ledger that cannot be read raises, so nothing is sent (fail closed) and Pub/Sub retries;
3. plan the events that are neither settled nor being sent by another message
   (:mod:`loyjoy_relay.core.planner`: every decision is made there), against the history
   and every decision the message itself carries;
4. record the message's new decisions and claim the events the plan sends, in one
   conditional write; if the ledger changed since it was read, read and plan again;
5. send the plan's requests;
6. settle, in one write: the sent events (and those the rules dropped) are done, the
   claims of the rest are released; then events GA4 refuses for good, and those the plan
   could not send, are dead-lettered with the reason;
7. log one ``relay message`` line: the counts, and every decision with its event id, rule,
   reason and rules version (:mod:`loyjoy_relay.service.audit`); also when a transient
   failure makes the message go round again (then a WARNING naming the retry).

**Only transient failures raise** (:class:`~loyjoy_relay.errors.RetryableError`: Firestore,
GA4 429/5xx or no answer, Pub/Sub, a contended ledger, the time budget): what is unsent is
released first, so the redelivery sends it. Everything else is permanent and is
dead-lettered with its reason: an undecodable message, events GA4 refuses, and any defect
of the relay itself (an exception it does not expect while planning one event parks that
event; anywhere else, the message), so no message loops until its delivery attempts run
out, holding back its valid events.

**A message's handling is bounded** (the windows of :mod:`.claiming`, each store call's
deadline, the sender's timeouts): it ends within about 50 s, inside the subscription's
60 s ack deadline, so Pub/Sub never hands the same message to a second attempt while the
first still runs (which is why a redelivery may take over its own message's claims at
once).

**Exactly once in effect**, with two windows that cannot be closed, each adding at most one
copy of the events concerned: the relay dies (or Firestore and GA4 fail together) after
GA4 accepted a request and before the settling write (the redelivery sends those events
again); and GA4 received a request but its answer was lost (the sender resends it once,
then dead-letters it as possibly delivered; :mod:`loyjoy_relay.adapters.ga4_sender`).
Duplicate deliveries, even at the same moment, send once: the claim write lets only one
of them claim an event, and the others leave it to the message that did.
"""

from __future__ import annotations

import base64
import binascii
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from loyjoy_relay.adapters.dead_letters import DeadLetters
from loyjoy_relay.adapters.ga4_sender import Ga4Sender
from loyjoy_relay.adapters.logs import JsonLogger, LogMessage
from loyjoy_relay.adapters.ports import ConsentLedger
from loyjoy_relay.core.consent.privacy import ClientIdSource
from loyjoy_relay.core.events import ClientBatch, RelayedEvent
from loyjoy_relay.core.planner import EventOutcome, Plan, Planner
from loyjoy_relay.core.pseudonyms import Pseudonyms
from loyjoy_relay.errors import (
    DeliveryUncertain,
    Ga4Rejected,
    RetryableError,
    StoreUnavailable,
    UndecodableMessage,
)
from loyjoy_relay.service.audit import SentRequest, audit_fields
from loyjoy_relay.service.claiming import (
    SEND_WINDOW_S,
    Delivery,
    claim_and_plan,
    defect_reason,
    where,
)

SecretLookup = Callable[[Any], str]


def wall_clock_ms() -> int:
    """Milliseconds since the epoch, now."""
    return time.time_ns() // 1_000_000


@dataclass
class MessageReport:
    """What became of one message's events (each counted once; sent ones only once GA4
    accepted them), and the decisions and requests its log line names."""

    forwarded: int = 0
    anonymized: int = 0
    dropped: int = 0
    duplicates: int = 0  # settled already by an earlier delivery
    in_flight: int = 0  # being sent by another message that holds their claims
    dead_lettered: int = 0
    requests: int = 0
    drop_reasons: Counter[str] = field(default_factory=Counter)
    outcomes: tuple[EventOutcome, ...] = ()
    sent: list[SentRequest] = field(default_factory=list)


@dataclass
class RelayService:
    """Relays client batches; holds one instance's planner, ledger and clients.

    ``api_secrets`` maps each destination's secret reference to its value, resolved at
    start (:mod:`loyjoy_relay.service.wiring`), so no message waits on Secret Manager;
    ``pseudonyms`` (keyed likewise) names clients in the logs.
    """

    planner: Planner
    ledger: ConsentLedger
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
        message = message if isinstance(message, Mapping) else {}
        encoded = message.get("data")
        try:
            raw = base64.b64decode(encoded or "", validate=True)
        except (binascii.Error, TypeError, ValueError):
            raw = str(encoded).encode()
        message_id = message.get("messageId") or message.get("message_id")
        attributes = message.get("attributes")
        replay = isinstance(attributes, Mapping) and attributes.get("replayed") == "true"
        return self.process(
            raw, message_id=message_id if isinstance(message_id, str) else None, replay=replay
        )

    def process(
        self, raw: bytes, *, message_id: str | None = None, replay: bool = False
    ) -> MessageReport:
        """Relay one client batch; raise RetryableError (only) to have it delivered again.

        ``message_id`` is the Pub/Sub message id, the same on every delivery of a message:
        the owner of the message's claims. Without one, each call is an owner of its own.
        ``replay``: the message was republished from the dead letters.
        """
        started = time.perf_counter()
        try:
            batch = ClientBatch.from_message(raw)
        except UndecodableMessage as error:
            self._park_raw(raw, error.reason)
            return MessageReport(dead_lettered=1)
        delivery = Delivery(batch, message_id or f"call:{uuid.uuid4()}", replay)
        report = MessageReport()
        failure: str | None = None
        try:
            self._relay(delivery, report)
        except RetryableError as error:
            failure = str(error)
            raise
        except Exception as error:  # a defect: park, never loop
            parked = self._park_defect(raw, delivery, error)
            parked.outcomes, parked.sent = report.outcomes, report.sent
            report = parked
        finally:
            self._log_message(batch, report, started, failure)
        return report

    def _relay(self, delivery: Delivery, report: MessageReport) -> None:
        triage, plan = claim_and_plan(
            delivery,
            ledger=self.ledger,
            planner=self.planner,
            clock_ms=self.clock_ms,
            new_client_id=self.new_client_id,
            logger=self.logger,
        )
        report.duplicates = len(triage.done)
        report.in_flight = len(triage.in_flight)
        report.outcomes = plan.outcomes
        refused = [(item.event_id, item.reason) for item in plan.unsendable]
        try:
            refused.extend(self._send(delivery, plan, report))
        except RetryableError:
            self._settle(delivery, done=delivery.sent, released=delivery.unsent())
            raise
        refused_ids = {event_id for event_id, _ in refused}
        released = [event_id for event_id in delivery.claimed if event_id in refused_ids]
        if delivery.claimed:
            self._settle(delivery, done=[*delivery.sent, *plan.dropped_ids()], released=released)
        self._park(delivery.batch, refused, report)
        drops = [outcome for outcome in plan.outcomes if outcome.action == "drop"]
        report.dropped = len(drops)  # settled as done: a redelivery will not decide them again
        report.drop_reasons.update(outcome.reason for outcome in drops)
        if triage.wait:
            raise RetryableError(
                f"{len(triage.wait)} events of this replay are claimed by another message "
                "whose lease has not run out"
            )

    def _log_message(
        self, batch: ClientBatch, report: MessageReport, started: float, failure: str | None
    ) -> None:
        """The message's one line: counts for the metrics, the decisions for the audit."""
        action = {outcome.event_id: outcome.action for outcome in report.outcomes}
        for request in report.sent:
            for event_id in request.event_ids:
                if action.get(event_id) == "forward":
                    report.forwarded += 1
                else:
                    report.anonymized += 1
        drop_rules = {outcome.rule for outcome in report.outcomes if outcome.action == "drop"}
        fields = {
            "client": self.pseudonyms.for_logs(batch.client_id),
            "rules_version": self.planner.rules.rules_version,
            "events": len(batch.events),
            "forwarded": report.forwarded,
            "anonymized": report.anonymized,
            "dropped": report.dropped,
            "duplicates": report.duplicates,
            "in_flight": report.in_flight,
            "dead_lettered": report.dead_lettered,
            "requests": report.requests,
            # One string, not a list: a log-based metric can extract a string field.
            "drop_rules": ",".join(sorted(drop_rules)) if report.dropped else "",
            "latency_ms": round((time.perf_counter() - started) * 1000, 2),
            **audit_fields(report.outcomes, report.sent),
        }
        if failure is None:
            self.logger.info(LogMessage.RELAY_MESSAGE, **fields)
        else:  # Pub/Sub delivers it again; only what was sent is recorded as done
            self.logger.warning(LogMessage.RELAY_MESSAGE, retry=failure, **fields)

    def _send(self, delivery: Delivery, plan: Plan, report: MessageReport) -> list[tuple[str, str]]:
        """Send every planned request; return (event id, reason) GA4 refused for good."""
        refused: list[tuple[str, str]] = []
        deadline = delivery.started + SEND_WINDOW_S
        for planned in plan.requests:
            if time.monotonic() > deadline:
                raise RetryableError("the message's time budget ran out before all was sent")
            try:
                sent = self.sender.send(
                    planned.request.body,
                    measurement_id=planned.destination.measurement_id,
                    api_secret=self.api_secrets[planned.destination.secret],
                    events=len(planned.event_ids),
                    deadline=deadline,
                )
            except (Ga4Rejected, DeliveryUncertain) as error:
                refused.extend((event_id, error.reason) for event_id in planned.event_ids)
                continue
            delivery.sent.extend(planned.event_ids)
            report.requests += 1
            report.sent.append(SentRequest(sent.measurement_id, planned.event_ids, sent.attempts))
        return refused

    def _settle(self, delivery: Delivery, *, done: list[str], released: list[str]) -> None:
        """Record what became of the claimed events; a failure is logged, not raised.

        Not raised: the events were delivered (or are being retried or parked anyway), and
        a redelivery could only send the delivered ones twice. The claims stay: other
        messages leave those events alone, and this message's own retry takes them over.
        """
        if delivery.seen is None or not (done or released):
            return
        try:
            self.ledger.settle(
                delivery.batch.client_id,
                delivery.seen,
                done=done,
                released=released,
                now_ms=self.clock_ms(),
            )
        except StoreUnavailable as error:
            self.logger.error(
                LogMessage.DEDUP_NOT_RECORDED, reason=str(error), events=len(done) + len(released)
            )

    def _park(
        self, batch: ClientBatch, refused: Sequence[tuple[str, str]], report: MessageReport
    ) -> None:
        by_reason: dict[str, list[RelayedEvent]] = defaultdict(list)
        events = {event.event_id: event for event in batch.events}
        for event_id, reason in refused:
            by_reason[reason].append(events[event_id])
        for reason, parked in by_reason.items():
            self.dead_letters.park_events(batch, parked, reason)
            report.dead_lettered += len(parked)
            ids = [event.event_id for event in parked]
            self.logger.warning(LogMessage.DEAD_LETTERED, reason=reason, event_ids=ids)

    def _park_raw(self, raw: bytes, reason: str) -> None:
        self.dead_letters.park_raw(raw, reason)
        self.logger.error(LogMessage.DEAD_LETTERED, reason=reason, event_ids=[], bytes=len(raw))

    def _park_defect(self, raw: bytes, delivery: Delivery, error: Exception) -> MessageReport:
        """A defect outside planning: record what was sent, park the whole message as it
        came (its sent events are settled, so a replay skips them) and acknowledge it."""
        ids = [event.event_id for event in delivery.batch.events]
        self.logger.error(
            LogMessage.RELAY_DEFECT,
            stage="message",
            event_ids=ids,
            error=type(error).__name__,
            where=where(error),
        )
        self._settle(delivery, done=delivery.sent, released=delivery.unsent())
        self._park_raw(raw, defect_reason("relaying this message", error))
        settled = set(delivery.sent)
        return MessageReport(
            requests=0, dead_lettered=sum(1 for i in dict.fromkeys(ids) if i not in settled)
        )
