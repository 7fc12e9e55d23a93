"""``explain``: the relay's plan for a file of events, one JSON line per event.

The events are taken one message per client, as the relay decides a message: every
consent decision of a client in the file is known before any of its events is decided,
and the client's events are planned together by the same
:class:`~loyjoy_relay.core.planner.Planner` the relay uses. Each message is taken as
arriving right after its client's last event, so an old sample export still shows its
bodies. ``ga4`` is the exact MP request body that would carry the event (several events
of one identity share a body), byte for byte as the relay would send it. The reason also
says what derived context the event is sent with: from a file of events there is no
request, so the location comes from each event's time zone and there is no device.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from loyjoy_relay.core.consent.privacy import ClientIdSource
from loyjoy_relay.core.events import LoyJoyEvent
from loyjoy_relay.core.planner import Planner


def explain_events(
    planner: Planner, events: Sequence[LoyJoyEvent], *, new_client_id: ClientIdSource
) -> list[str]:
    """One line per event, in file order: ``{"index", "event_id", "evt", "decision",
    "reason", "ga4"}``."""
    by_client: dict[str, list[int]] = {}
    for index, event in enumerate(events):
        by_client.setdefault(event.client_id, []).append(index)
    lines: dict[int, str] = {}
    for indexes in by_client.values():
        message = [events[index] for index in indexes]
        plan = planner.plan(
            message, [], now_ms=max(e.ts for e in message), new_client_id=new_client_id
        )
        bodies = {
            event_id: planned.request.body
            for planned in plan.requests
            for event_id in planned.event_ids
        }
        refused = {item.event_id: item.reason for item in plan.unsendable}
        for index, event, outcome in zip(indexes, message, plan.outcomes, strict=True):
            reason = outcome.reason
            if outcome.context:
                reason = f"{reason}; {outcome.context}"
            if event.event_id in refused:
                reason = f"{reason}; but GA4 would refuse it: {refused[event.event_id]}"
            head = json.dumps(
                {
                    "index": index,
                    "event_id": event.event_id,
                    "evt": event.evt,
                    "decision": outcome.action,
                    "reason": reason,
                },
                separators=(",", ":"),
            )
            body = bodies.get(event.event_id)
            # The body is embedded as sent, not re-encoded: what is shown is what is sent.
            ga4 = body.decode() if body is not None else "null"
            lines[index] = f'{head[:-1]},"ga4":{ga4}}}'
    return [lines[index] for index in range(len(events))]
