"""One delivery's claim on its events, and the planning that sets a defective event aside.

A delivery reads the client's ledger once, plans the events no other message settled or
holds, and claims those the plan sends in one write conditional on the ledger being as
read (:meth:`~loyjoy_relay.adapters.ports.ConsentLedger.claim`). Another writer in
between makes the write fail at once: the delivery reads and plans again, after a short
random pause, for at most :data:`CLAIM_ROUNDS` rounds and :data:`CLAIM_WINDOW_S`. Nobody
holds a lock, so no delivery ever waits on another.

The time windows bound a message's handling: claiming starts no new round after
:data:`CLAIM_WINDOW_S`, no GA4 request (or retry) starts after :data:`SEND_WINDOW_S`, and
every store call, GA4 attempt and publish has its own timeout, so a message ends within
about 50 s, inside the subscription's 60 s ack deadline.
"""

from __future__ import annotations

import random
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from loyjoy_relay.adapters.logs import JsonLogger, LogMessage
from loyjoy_relay.adapters.ports import ClientState, ConsentLedger, Triage
from loyjoy_relay.core.consent.history import ConsentRecord, merge_history
from loyjoy_relay.core.consent.privacy import ClientIdSource
from loyjoy_relay.core.context.model import RequestContext
from loyjoy_relay.core.events import ClientBatch, RelayedEvent
from loyjoy_relay.core.planner import Plan, Planner, Unsendable
from loyjoy_relay.errors import StoreUnavailable

CLAIM_WINDOW_S = 10.0  # no read-and-claim round starts later than this into a message
CLAIM_ROUNDS = 12  # read-and-claim rounds against a contended ledger, then retry later
SEND_WINDOW_S = 30.0  # no GA4 request (or retry of one) starts later than this


@dataclass
class Delivery:
    """One attempt at one message, and how far it got: the ledger as read, the events it
    claimed and those GA4 accepted."""

    batch: ClientBatch
    owner: str
    replay: bool
    started: float = field(default_factory=time.monotonic)
    seen: ClientState | None = None
    claimed: list[str] = field(default_factory=list)
    sent: list[str] = field(default_factory=list)

    def unsent(self) -> list[str]:
        """The claimed events GA4 has not accepted."""
        sent = set(self.sent)
        return [event_id for event_id in self.claimed if event_id not in sent]


def claim_and_plan(
    delivery: Delivery,
    *,
    ledger: ConsentLedger,
    planner: Planner,
    clock_ms: Callable[[], int],
    new_client_id: ClientIdSource,
    logger: JsonLogger,
) -> tuple[Triage, Plan]:
    """Read, plan and claim, until one conditional write succeeds; the triage of the
    message's events and the plan of those it may send. Records the read and the claimed
    ids on ``delivery``. StoreUnavailable when the ledger cannot be read or written, or kept
    changing for :data:`CLAIM_ROUNDS` rounds or :data:`CLAIM_WINDOW_S`."""
    batch = delivery.batch
    events = list({event.event_id: event for event in batch.events}.values())
    records = planner.consent_records(events)
    rng = random.Random()  # noqa: S311 -- backoff jitter, not security
    for round_ in range(CLAIM_ROUNDS):
        if round_ and time.monotonic() - delivery.started > CLAIM_WINDOW_S:
            break
        seen = ledger.load(batch.client_id)
        now = clock_ms()
        triage = seen.triage(
            [event.event_id for event in events],
            owner=delivery.owner,
            now_ms=now,
            replay=delivery.replay,
        )
        history = merge_history(seen.history, records, limit=None)
        candidates = [event for event in events if event.event_id in triage.claimable]
        plan = plan_isolating_defects(
            planner,
            candidates,
            history,
            now,
            new_client_id=new_client_id,
            logger=logger,
            context=batch.context,
        )
        to_claim = [event_id for request in plan.requests for event_id in request.event_ids]
        if ledger.claim(
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


def plan_isolating_defects(
    planner: Planner,
    events: Sequence[RelayedEvent],
    history: Sequence[ConsentRecord],
    now_ms: int,
    *,
    new_client_id: ClientIdSource,
    logger: JsonLogger,
    context: RequestContext | None = None,
) -> Plan:
    """The planner's plan; an event it cannot plan (a defect: an exception it does not
    expect) is set aside as unsendable with where it failed, and the rest still planned."""
    try:
        return planner.plan(
            events, history, now_ms=now_ms, new_client_id=new_client_id, context=context
        )
    except Exception:  # noqa: S110 -- the events at fault are found and parked below
        pass
    plannable: list[RelayedEvent] = []
    defects: list[Unsendable] = []
    for event in events:
        try:
            planner.plan(
                [event], history, now_ms=now_ms, new_client_id=lambda: "0.0", context=context
            )
        except Exception as error:  # this event's defect, parked below
            defects.append(Unsendable(event.event_id, defect_reason("planning", error)))
            logger.error(
                LogMessage.RELAY_DEFECT,
                stage="planning",
                event_ids=[event.event_id],
                error=type(error).__name__,
                where=where(error),
            )
        else:
            plannable.append(event)
    plan = planner.plan(
        plannable, history, now_ms=now_ms, new_client_id=new_client_id, context=context
    )
    return Plan(plan.outcomes, plan.requests, (*plan.unsendable, *defects))


def defect_reason(stage: str, error: BaseException) -> str:
    """A dead letter's reason for a defect: its kind and place, never its message (which
    could quote the event's data)."""
    return (
        f"relay defect while {stage}: {type(error).__name__} at {where(error)}; replay after a fix"
    )


def where(error: BaseException) -> str:
    """The file and line an exception was raised at."""
    frames = traceback.extract_tb(error.__traceback__)
    if not frames:
        return "unknown"
    last = frames[-1]
    return f"{Path(last.filename).name}:{last.lineno}"
