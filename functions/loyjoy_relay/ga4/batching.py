"""Group the events of one identity into MP request bodies: ≤ 25 events and under 130 kB.

Pure. Events keep their order; each carries its own ``timestamp_micros`` (the safest
placement, since request-level timestamps were once ignored by GA4).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from loyjoy_relay.errors import Ga4Rejected
from loyjoy_relay.ga4 import rules
from loyjoy_relay.ga4.model import Ga4Event, Ga4Identity
from loyjoy_relay.ga4.validation import encode_body


def request_header(identity: Ga4Identity) -> dict[str, Any]:
    """The request-level fields of an MP body for ``identity`` (no events)."""
    body: dict[str, Any] = {"client_id": identity.client_id}
    if identity.user_id:
        body["user_id"] = identity.user_id
    body["consent"] = {
        "ad_user_data": identity.ad_user_data,
        "ad_personalization": identity.ad_personalization,
    }
    if identity.user_properties:
        body["user_properties"] = {
            name: {"value": value} for name, value in identity.user_properties.items()
        }
    return body


def event_json(event: Ga4Event) -> dict[str, Any]:
    """One event as it appears in an MP body."""
    return {
        "name": event.name,
        "params": dict(event.params),
        "timestamp_micros": event.timestamp_micros,
    }


def build_requests(
    identity: Ga4Identity,
    events: Sequence[Ga4Event],
    *,
    max_events: int = rules.MAX_EVENTS_PER_REQUEST,
    max_bytes: int = rules.MAX_BODY_BYTES,
) -> list[dict[str, Any]]:
    """MP bodies for ``events`` sent as ``identity``, in order, each within GA4's limits."""
    header = request_header(identity)
    # Size of the header plus ``"events":[]`` and the comma joining them.
    base = len(encode_body({**header, "events": []}))
    bodies: list[dict[str, Any]] = []
    batch: list[dict[str, Any]] = []
    size = base
    for event in events:
        item = event_json(event)
        item_size = len(encode_body(item))
        if base + item_size > max_bytes:
            raise Ga4Rejected(
                f"event {event.source_event_id} alone is larger than GA4's {max_bytes}-byte limit"
            )
        added = item_size + (1 if batch else 0)
        if batch and (len(batch) >= max_events or size + added > max_bytes):
            bodies.append({**header, "events": batch})
            batch, size, added = [], base, item_size
        batch.append(item)
        size += added
    if batch:
        bodies.append({**header, "events": batch})
    return bodies
