"""The relay service: the I/O around the planner, for one Pub/Sub message (a client batch).

Per message, in this order:

1. decode it; a message that is not a client batch is dead-lettered at once;
2. read the client's ledger, once (:mod:`loyjoy_relay.adapters.firestore_ledger`): the
   consent history, the events already settled and those another message is sending; a
   ledger that cannot be read raises, so nothing is sent (fail closed) and Pub/Sub retries;
3. plan the events that are neither settled nor being sent by another message
   (:mod:`loyjoy_relay.core.planner`: every decision is made there), against the history
   and every decision the message itself carries, and log one audit line per decision;
4. record the message's new decisions and claim the events the plan sends, in one
   conditional write; if the ledger changed since it was read, read and plan again;
5. send the plan's requests;
6. settle, in one write: the sent events (and those the rules dropped) are done, the
   claims of the rest are released; then events GA4 refuses for good, and those the plan
   could not send, are dead-lettered with the reason.

**Only transient failures raise** (:class:`~loyjoy_relay.errors.RetryableError`: Firestore,
GA4 429/5xx or no answer, Pub/Sub, a contended ledger, the time budget): what is unsent is
released first, so the redelivery sends it. Everything else is permanent and is
dead-lettered with its reason: an undecodable message, events GA4 refuses, and any defect
of the relay itself (an exception it does not expect while planning one event parks that
event; anywhere else, the message), so no message Pub/Sub could ever deliver loops until
its delivery attempts run out while it holds back nothing else.

**A message's handling is bounded** (:data:`CLAIM_WINDOW_S`, :data:`SEND_WINDOW_S`, each
store call's deadline, the sender's timeouts): it ends within about 50 s, inside the
subscription's 60 s ack deadline, so Pub/Sub never hands the same message to a second
attempt while the first still runs (which is why a redelivery may take over its own
message's claims at once).

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
import random
import time
import traceback
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from loyjoy_relay.adapters.dead_letters import DeadLetters
from loyjoy_relay.adapters.ga4_sender import Ga4Sender
from loyjoy_relay.adapters.logs import JsonLogger, LogMessage
from loyjoy_relay.adapters.ports import ClientState, ConsentLedger, Triage
from loyjoy_relay.core.consent.history import ConsentRecord, merge_history
from loyjoy_relay.core.consent.privacy import ClientIdSource
from loyjoy_relay.core.events import ClientBatch, RelayedEvent
from loyjoy_relay.core.planner import Plan, Planner, Unsendable
from loyjoy_relay.core.pseudonyms import Pseudonyms
from loyjoy_relay.errors import (
    DeliveryUncertain,
    Ga4Rejected,
    RetryableError,
    StoreUnavailable,
    UndecodableMessage,
)

SecretLookup = Callable[[Any], str]

CLAIM_WINDOW_S = 10.0  # no read-and-claim round starts later than this into a message
CLAIM_ROUNDS = 12  # read-and-claim rounds against a contended ledger, then retry later
SEND_WINDOW_S = 30.0  # no GA4 request (or retry of one) starts later than this


def wall_clock_ms() -> int:
    """Milliseconds since the epoch, now."""
    return time.time_ns() // 1_000_000


@dataclass
class MessageReport:
    """What became of one message's events (each counted once)."""

    forwarded: int = 0
    anonymized: int = 0
    dropped: int = 0
    duplicates: int = 0  # settled already by an earlier delivery
    in_flight: int = 0  # being sent by another message that holds their claims
    dead_lettered: int = 0
    requests: int = 0
    drop_reasons: Counter[str] = field(default_factory=Counter)


@dataclass
class _Delivery:
    """One attempt at one message, and how far it got."""

    batch: ClientBatch
    owner: str
    replay: bool
    started: float = field(default_factory=time.monotonic)
    seen: ClientState | None = None
    claimed: list[str] = field(default_factory=list)
    sent: list[str] = field(default_factory=list)

    def unsent(self) -> list[str]:
        sent = set(self.sent)
        return [event_id for event_id in self.claimed if event_id not in sent]


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
        delivery = _Delivery(batch, message_id or f"call:{uuid.uuid4()}", replay)
        try:
            report = self._relay(delivery)
        except RetryableError:
            raise
        except Exception as error:  # a defect: park, never loop
            report = self._park_defect(raw, delivery, error)
        self.logger.info(
            LogMessage.RELAY_MESSAGE,
            client=self.pseudonyms.for_logs(batch.client_id),
            bot_ids=list(batch.bot_ids),
            events=len(batch.events),
            forwarded=report.forwarded,
            anonymized=report.anonymized,
            dropped=report.dropped,
            duplicates=report.duplicates,
            in_flight=report.in_flight,
            dead_lettered=report.dead_lettered,
            requests=report.requests,
            drop_reasons=dict(report.drop_reasons),
            latency_ms=round((time.perf_counter() - started) * 1000, 2),
        )
        return report

    def _relay(self, delivery: _Delivery) -> MessageReport:
        report = MessageReport()
        triage, plan = self._claim(delivery)
        report.duplicates = len(triage.done)
        report.in_flight = len(triage.in_flight)
        self._audit(delivery.batch, plan, report)
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
        if triage.wait:
            raise RetryableError(
                f"{len(triage.wait)} events of this replay are claimed by another message "
                "whose lease has not run out"
            )
        return report

    def _claim(self, delivery: _Delivery) -> tuple[Triage, Plan]:
        """Read, plan and claim, until one conditional write succeeds."""
        batch = delivery.batch
        events = list({event.event_id: event for event in batch.events}.values())
        records = self.planner.consent_records(events)
        rng = random.Random()  # noqa: S311 -- backoff jitter, not security
        for round_ in range(CLAIM_ROUNDS):
            if round_ and time.monotonic() - delivery.started > CLAIM_WINDOW_S:
                break
            seen = self.ledger.load(batch.client_id)
            now = self.clock_ms()
            triage = seen.triage(
                [event.event_id for event in events],
                owner=delivery.owner,
                now_ms=now,
                replay=delivery.replay,
            )
            history = merge_history(seen.history, records, limit=None)
            candidates = [event for event in events if event.event_id in triage.claimable]
            plan = self._plan(candidates, history, now)
            to_claim = [event_id for request in plan.requests for event_id in request.event_ids]
            if self.ledger.claim(
                batch.client_id,
                seen,
                records=records,
                event_ids=to_claim,
                owner=delivery.owner,
                now_ms=now,
            ):
                delivery.seen, delivery.claimed = seen, to_claim
                return triage, plan
            time.sleep(rng.uniform(0, 0.02 * (round_ + 1)))  # back off from the other writer
        raise StoreUnavailable(
            "consent ledger kept changing while this message claimed its events; retry later"
        )

    def _plan(
        self, events: Sequence[RelayedEvent], history: Sequence[ConsentRecord], now_ms: int
    ) -> Plan:
        """The planner's plan; an event it cannot plan (a defect) is set aside, not the rest."""
        try:
            return self.planner.plan(
                events, history, now_ms=now_ms, new_client_id=self.new_client_id
            )
        except Exception:  # noqa: S110 -- the events at fault are found and parked below
            pass
        plannable: list[RelayedEvent] = []
        defects: list[Unsendable] = []
        for event in events:
            try:
                self.planner.plan([event], history, now_ms=now_ms, new_client_id=lambda: "0.0")
            except Exception as error:  # this event's defect, parked below
                defects.append(Unsendable(event.event_id, _defect_reason("planning", error)))
                self.logger.error(
                    LogMessage.RELAY_DEFECT,
                    stage="planning",
                    event_ids=[event.event_id],
                    error=type(error).__name__,
                    where=_where(error),
                )
            else:
                plannable.append(event)
        plan = self.planner.plan(
            plannable, history, now_ms=now_ms, new_client_id=self.new_client_id
        )
        return Plan(plan.outcomes, plan.requests, (*plan.unsendable, *defects))

    def _audit(self, batch: ClientBatch, plan: Plan, report: MessageReport) -> None:
        client = self.pseudonyms.for_logs(batch.client_id)
        rules_version = self.planner.rules.rules_version
        for outcome in plan.outcomes:
            self.logger.info(
                LogMessage.CONSENT_DECISION,
                event_id=outcome.event_id,
                client=client,
                bot_id=outcome.bot_id,
                evt=outcome.evt,
                decision=outcome.action,
                state=outcome.state,
                reason=outcome.reason,
                rules_version=rules_version,
            )
        unsendable = {item.event_id for item in plan.unsendable}
        for outcome in plan.outcomes:
            if outcome.action == "drop":
                report.dropped += 1
                report.drop_reasons[outcome.reason] += 1
            elif outcome.event_id in unsendable:
                continue
            elif outcome.action == "forward":
                report.forwarded += 1
            else:
                report.anonymized += 1

    def _send(
        self, delivery: _Delivery, plan: Plan, report: MessageReport
    ) -> list[tuple[str, str]]:
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
            self.logger.info(
                LogMessage.GA4_REQUEST_SENT,
                measurement_id=sent.measurement_id,
                events=sent.events,
                attempts=sent.attempts,
                event_ids=list(planned.event_ids),
            )
        return refused

    def _settle(self, delivery: _Delivery, *, done: list[str], released: list[str]) -> None:
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

    def _park_defect(self, raw: bytes, delivery: _Delivery, error: Exception) -> MessageReport:
        """A defect outside planning: record what was sent, park the whole message as it
        came (its sent events are settled, so a replay skips them) and acknowledge it."""
        ids = [event.event_id for event in delivery.batch.events]
        self.logger.error(
            LogMessage.RELAY_DEFECT,
            stage="message",
            event_ids=ids,
            error=type(error).__name__,
            where=_where(error),
        )
        self._settle(delivery, done=delivery.sent, released=delivery.unsent())
        self._park_raw(raw, _defect_reason("relaying this message", error))
        settled = set(delivery.sent)
        return MessageReport(
            requests=0, dead_lettered=sum(1 for i in dict.fromkeys(ids) if i not in settled)
        )


def _defect_reason(stage: str, error: BaseException) -> str:
    """A dead letter's reason for a defect: its kind and place, never its message (which
    could quote the event's data)."""
    return (
        f"relay defect while {stage}: {type(error).__name__} at {_where(error)}; replay after a fix"
    )


def _where(error: BaseException) -> str:
    frames = traceback.extract_tb(error.__traceback__)
    if not frames:
        return "unknown"
    last = frames[-1]
    return f"{Path(last.filename).name}:{last.lineno}"
