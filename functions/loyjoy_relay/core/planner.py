"""The relay's whole decision for one message: which events leave for GA4, as whom, how.

Pure: no I/O, no logging, no clock and no randomness of its own (the time and the source
of anonymous client ids are passed in). The relay does I/O around a :class:`Plan` (the
consent ledger before, dedup claims, sending, dead letters and logs after); ``explain``
prints the same plan, so what a privacy officer previews is what the relay sends.

For one client's events and that client's consent history, per event and in order:

1. the bot's policy is resolved once;
2. the consent decision (:mod:`~loyjoy_relay.core.consent.decision`), against the
   history merged with every decision the message itself carries, so an opt-out anywhere
   in the message is known before any of its events is decided;
3. a dropped event stops here; an event past GA4's 72-hour window cannot be sent;
4. the GA4 event (:mod:`~loyjoy_relay.core.ga4.mapping`), the identity it is sent as and
   the privacy transforms (:mod:`~loyjoy_relay.core.consent.privacy`: for an anonymized
   event its URLs cut down and the visitor's identifiers scrubbed; in every mode e-mail
   addresses and phone numbers redacted on every reading, then values cut to GA4's limits);
5. the derived context it carries (:mod:`~loyjoy_relay.core.consent.context`): the
   ``user_location`` and ``device`` fields the rules allow for its outcome, from the
   message's request context and the event's time zone, language and screen;

then the events are grouped by destination and identity into MP requests of at most 25
events and GA4's byte limit, each serialised once and validated strictly
(ENFORCE_RECOMMENDATIONS); an event that fails validation is set aside with the reason,
and the rest of its request is still sent. Validation warnings (what GA4's documentation
only recommends, such as a ``user_location`` without ``region_id`` when only the country
is known) never set anything aside.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from loyjoy_relay.core.consent.context import outgoing_context
from loyjoy_relay.core.consent.decision import Rule, decide, records_from_event
from loyjoy_relay.core.consent.history import ConsentRecord, merge_history
from loyjoy_relay.core.consent.privacy import ClientIdSource, identity_for, outgoing_event
from loyjoy_relay.core.consent.rules import Action, ConsentRules, State
from loyjoy_relay.core.context.model import RequestContext
from loyjoy_relay.core.events import LoyJoyEvent
from loyjoy_relay.core.ga4 import limits
from loyjoy_relay.core.ga4.mapping import Ga4Mapping
from loyjoy_relay.core.ga4.model import Ga4Event, Ga4Identity
from loyjoy_relay.core.ga4.requests import MeasurementRequest, build_requests
from loyjoy_relay.core.ga4.routing import Ga4Property
from loyjoy_relay.core.ga4.validation.body import ValidationMessage, validate_built
from loyjoy_relay.core.ga4.validation.report import errors
from loyjoy_relay.errors import Ga4Rejected

# GA4 takes events up to 72 hours old. We stop five minutes short so an event planned now
# is still inside the window when its request is sent moments later.
SEND_MARGIN_MS = 5 * 60 * 1000
SENDABLE_AGE_MS = limits.MAX_AGE_MICROS // 1000 - SEND_MARGIN_MS

_EVENT_PATH = re.compile(r"^events\[(\d+)\]")
_EVENT_NAME_MESSAGE = re.compile(r"^Event at index: \[(\d+)\]")


@dataclass(frozen=True, slots=True)
class EventOutcome:
    """The consent decision for one event of the message, and why; ``context`` says what
    derived context it is sent with (empty for a dropped event)."""

    event_id: str
    evt: str
    bot_id: str
    action: Action
    reason: str
    state: State
    context: str = ""
    rule: Rule = "default"


@dataclass(frozen=True, slots=True)
class PlannedRequest:
    """One MP request to send: where to, and the request (body bytes, event ids)."""

    destination: Ga4Property
    request: MeasurementRequest

    @property
    def event_ids(self) -> tuple[str, ...]:
        """The ids of the events this request carries."""
        return self.request.event_ids


@dataclass(frozen=True, slots=True)
class Unsendable:
    """An event the consent rules let through that GA4 would refuse, and why."""

    event_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class Plan:
    """What becomes of every event of one message."""

    outcomes: tuple[EventOutcome, ...]
    requests: tuple[PlannedRequest, ...]
    unsendable: tuple[Unsendable, ...]

    def count(self, action: Action) -> int:
        """How many events the consent rules gave ``action``."""
        return sum(1 for outcome in self.outcomes if outcome.action == action)

    def dropped_ids(self) -> list[str]:
        """The ids of the events the consent rules dropped."""
        return [outcome.event_id for outcome in self.outcomes if outcome.action == "drop"]

    def drop_reasons(self) -> Counter[str]:
        """How often each drop reason occurred."""
        return Counter(outcome.reason for outcome in self.outcomes if outcome.action == "drop")


@dataclass(frozen=True, slots=True)
class _Group:
    destination: Ga4Property
    identity: Ga4Identity
    events: list[Ga4Event]


@dataclass(frozen=True, slots=True)
class Planner:
    """Plans messages with one set of consent rules, one GA4 mapping and a default property."""

    rules: ConsentRules
    mapping: Ga4Mapping
    default_property: Ga4Property

    def consent_records(self, events: Iterable[LoyJoyEvent]) -> list[ConsentRecord]:
        """The decisions the events carry (their own grant/revoke, their consent stamps),
        which the relay records in the client's consent ledger before deciding."""
        return [
            record
            for event in events
            for record in records_from_event(self.rules.for_bot(event.bot_id), event)
        ]

    def plan(
        self,
        events: Sequence[LoyJoyEvent],
        history: Iterable[ConsentRecord],
        *,
        now_ms: int,
        new_client_id: ClientIdSource,
        context: RequestContext | None = None,
    ) -> Plan:
        """The plan for one client's ``events``, given that client's consent ``history``
        and the ``context`` ingest derived from the request that brought them."""
        known = merge_history(history, self.consent_records(events), limit=None)
        outcomes: list[EventOutcome] = []
        unsendable: list[Unsendable] = []
        groups: dict[tuple[object, ...], _Group] = {}
        for event in events:
            policy = self.rules.for_bot(event.bot_id)
            decision = decide(policy, event, known)
            sent_with = outgoing_context(decision.action, policy, context, event)
            outcomes.append(
                EventOutcome(
                    event.event_id,
                    event.evt,
                    event.bot_id,
                    decision.action,
                    decision.reason,
                    decision.state,
                    sent_with.note,
                    decision.rule,
                )
            )
            if decision.action == "drop":
                continue
            age = now_ms - event.ts
            if age > SENDABLE_AGE_MS:
                unsendable.append(
                    Unsendable(
                        event.event_id,
                        f"event {event.event_id} ({event.evt}) is {age / 3_600_000:.1f} hours "
                        "old; GA4 accepts events up to 72 hours old",
                    )
                )
                continue
            try:
                ga4_event = outgoing_event(
                    decision, self.mapping.map_event(event), policy=policy, source=event
                )
                identity = replace(
                    identity_for(decision, event, policy, new_client_id),
                    user_location=sent_with.user_location,
                    device=sent_with.device,
                )
            except Ga4Rejected as error:
                unsendable.append(Unsendable(event.event_id, error.reason))
                continue
            destination = self.mapping.property_for(event.bot_id, self.default_property)
            key = (
                destination.measurement_id,
                identity.client_id,
                identity.user_id,
                identity.ad_user_data,
                identity.ad_personalization,
                sent_with.key(),
            )
            groups.setdefault(key, _Group(destination, identity, [])).events.append(ga4_event)
        requests: list[PlannedRequest] = []
        for group in groups.values():
            built, refused = _valid_requests(group, now_micros=now_ms * 1000)
            requests.extend(PlannedRequest(group.destination, request) for request in built)
            unsendable.extend(Unsendable(event_id, reason) for event_id, reason in refused)
        return Plan(tuple(outcomes), tuple(requests), tuple(unsendable))


def _valid_requests(
    group: _Group, *, now_micros: int
) -> tuple[list[MeasurementRequest], list[tuple[str, str]]]:
    """The group's requests that pass strict validation, and the events that do not."""
    built, refused = build_requests(group.identity, group.events)
    valid: list[MeasurementRequest] = []
    for request in built:
        messages = _validate(request, now_micros)
        if not messages:
            valid.append(request)
            continue
        # Rare: find the events at fault, set them aside, and send the rest.
        bad = _faulty_events(messages, request)
        if bad is None:  # a request-level problem: no event of the group can go
            reason = f"request failed GA4 validation: {_describe(messages)}"
            refused.extend((event_id, reason) for event_id in request.event_ids)
            continue
        for index, event_messages in bad.items():
            reason = f"event failed GA4 validation: {_describe(event_messages)}"
            refused.append((request.event_ids[index], reason))
        kept = [e for e in group.events if e.source_event_id in request.event_ids]
        kept = [e for i, e in enumerate(kept) if i not in bad]
        if kept:
            rebuilt, _ = build_requests(group.identity, kept)
            valid.extend(r for r in rebuilt if not _validate(r, now_micros))
    return valid, refused


def _validate(request: MeasurementRequest, now_micros: int) -> list[ValidationMessage]:
    """The errors strict validation finds in ``request``; warnings do not refuse."""
    messages = validate_built(
        request.payload,
        size=len(request.body),
        now_micros=now_micros,
        behavior="ENFORCE_RECOMMENDATIONS",
    )
    return errors(messages)


def _faulty_events(
    messages: list[ValidationMessage], request: MeasurementRequest
) -> dict[int, list[ValidationMessage]] | None:
    """Messages by the index of the event they are about; None if any is about the request."""
    by_event: dict[int, list[ValidationMessage]] = {}
    for message in messages:
        found = _EVENT_PATH.match(message.field_path or "") or _EVENT_NAME_MESSAGE.match(
            message.description
        )
        if found is None or int(found.group(1)) >= len(request.event_ids):
            return None
        by_event.setdefault(int(found.group(1)), []).append(message)
    return by_event


def _describe(messages: list[ValidationMessage]) -> str:
    parts = []
    for message in messages[:5]:
        # No description quotes client_id, user_id or app_instance_id, so reasons (logged,
        # dead-lettered) carry no identifier (tests/ga4/test_validation.py checks it).
        parts.append(
            f"{message.field_path or 'body'}: {message.validation_code} {message.description}"
        )
    more = len(messages) - len(parts)
    return "; ".join(parts) + (f"; and {more} more" if more > 0 else "")
