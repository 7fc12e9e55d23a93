"""MP request bodies for the events of one identity: ≤ 25 events and under GA4's byte limit.

Pure. Events keep their order; each carries its own ``timestamp_micros`` (the safest
placement, since request-level timestamps were once ignored by GA4). Each event is
serialised once and the body's bytes are joined from those pieces, so a body is never
serialised twice between building, checking its size and sending it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from loyjoy_relay.core.ga4 import limits
from loyjoy_relay.core.ga4.model import Ga4Event, Ga4Identity


def encode_body(payload: Any) -> bytes:
    """JSON as an MP body is sent: compact UTF-8."""
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()


@dataclass(frozen=True, slots=True)
class MeasurementRequest:
    """One MP request: the body as built, its bytes as sent, and the events it carries."""

    payload: dict[str, Any]
    body: bytes
    event_ids: tuple[str, ...]


def request_header(identity: Ga4Identity) -> dict[str, Any]:
    """The request-level fields of an MP body for ``identity`` (no events)."""
    body: dict[str, Any] = {"client_id": identity.client_id}
    if identity.user_id:
        body["user_id"] = identity.user_id
    body["consent"] = {
        "ad_user_data": identity.ad_user_data,
        "ad_personalization": identity.ad_personalization,
    }
    if identity.user_location:
        body["user_location"] = dict(identity.user_location)
    if identity.device:
        body["device"] = dict(identity.device)
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
    max_events: int = limits.MAX_EVENTS_PER_REQUEST,
    max_bytes: int = limits.MAX_BODY_BYTES,
) -> tuple[list[MeasurementRequest], list[tuple[str, str]]]:
    """The requests carrying ``events`` as ``identity``, in order, each within GA4's limits;
    and (event id, reason) for any event too large to fit in a request on its own."""
    header = request_header(identity)
    # ``{...header,"events":[`` and ``]}`` around the comma-joined events.
    prefix = encode_body({**header, "events": []})[:-2]
    base = len(prefix) + 2
    requests: list[MeasurementRequest] = []
    refused: list[tuple[str, str]] = []
    items: list[dict[str, Any]] = []
    pieces: list[bytes] = []
    ids: list[str] = []
    size = base

    def close() -> None:
        body = prefix + b",".join(pieces) + b"]}"
        requests.append(MeasurementRequest({**header, "events": list(items)}, body, tuple(ids)))

    for event in events:
        item = event_json(event)
        piece = encode_body(item)
        if base + len(piece) > max_bytes:
            refused.append(
                (
                    event.source_event_id,
                    f"event {event.source_event_id} alone is larger than GA4's "
                    f"{max_bytes}-byte limit",
                )
            )
            continue
        added = len(piece) + (1 if pieces else 0)
        if pieces and (len(pieces) >= max_events or size + added > max_bytes):
            close()
            items, pieces, ids, size, added = [], [], [], base, len(piece)
        items.append(item)
        pieces.append(piece)
        ids.append(event.source_event_id)
        size += added
    if pieces:
        close()
    return requests, refused
