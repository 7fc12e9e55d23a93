"""What the live view shows: each event's way through the stages, from the stack's own output.

Fed by the real parts: the ingest function's request log lines, the messages a tap
subscription sees on the topic, the relay's decision and send log lines, and the GA4
stand-in's record of requests. Nothing here changes what the pipeline does.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from loyjoy_relay.adapters.logs import LogMessage
from loyjoy_relay.service.audit import decisions_in

MAX_EVENTS = 300
MAX_REQUESTS = 100


@dataclass
class EventFlow:
    """One event's stages, as far as they have been seen."""

    event_id: str
    evt: str = ""
    bot_id: str = ""
    client: str = ""
    published_at: int | None = None
    context: str | None = None  # the derived context published with it (device, where)
    site_consent: str | None = None  # the page's banner as the listener stamped it
    decision: str | None = None
    reason: str | None = None
    consent_state: str | None = None
    ga4_request: int | None = None
    dead_letter: str | None = None

    def as_json(self) -> dict[str, Any]:
        """A JSON-ready view."""
        return dict(self.__dict__)


def _context(context: dict[str, Any], event: dict[str, Any]) -> str:
    """``mobile · iOS · Safari · DE-BY (load balancer)``: what was derived, and from where."""
    device = context.get("device") or {}
    parts = [str(device[k]) for k in ("category", "operating_system", "browser") if device.get(k)]
    location = context.get("location") or {}
    if location.get("country_id"):
        where = location.get("region_id") or location["country_id"]
        parts.append(f"{where} (load balancer)")
    elif event.get("time_zone"):
        parts.append(f"{event['time_zone']} (time zone)")
    return " · ".join(parts)


def _site_consent(stamp: Any) -> str | None:
    """``consent mode: analytics denied, ads granted``: the page's banner, shortly."""
    if not isinstance(stamp, dict):
        return None
    words = [
        f"{name.replace('_storage', '').replace('_', ' ')} {stamp[name]}"
        for name in ("analytics_storage", "ad_storage", "ad_user_data", "ad_personalization")
        if stamp.get(name)
    ]
    return f"{str(stamp.get('source', '')).replace('_', ' ')}: " + ", ".join(words)


@dataclass
class FlowBoard:
    """Thread-safe collection of the stages every event has passed."""

    events: dict[str, EventFlow] = field(default_factory=dict)
    ingest_requests: deque[dict[str, Any]] = field(
        default_factory=lambda: deque(maxlen=MAX_REQUESTS)
    )
    ga4_requests: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=MAX_REQUESTS))
    lock: threading.Lock = field(default_factory=threading.Lock)
    _ga4_count: int = 0

    def _event(self, event_id: str) -> EventFlow:
        flow = self.events.get(event_id)
        if flow is None:
            flow = self.events[event_id] = EventFlow(event_id)
            if len(self.events) > MAX_EVENTS:
                self.events.pop(next(iter(self.events)))
        return flow

    def on_published(self, data: bytes) -> None:
        """A message was seen on the topic (a client batch)."""
        try:
            batch = json.loads(data)
        except ValueError:
            return
        context = batch.get("context") or {}
        with self.lock:
            for event in batch.get("events", []):
                flow = self._event(str(event.get("event_id")))
                flow.evt = str(event.get("evt", ""))
                flow.bot_id = str(event.get("bot_id", ""))
                flow.client = str(event.get("client_id", ""))[-6:]
                flow.published_at = int(time.time() * 1000)
                flow.context = _context(context, event)
                flow.site_consent = _site_consent(event.get("site_consent"))

    def on_log(self, record: dict[str, Any]) -> None:
        """A structured log line from ingest or relay."""
        message = record.get("message")
        with self.lock:
            if message == LogMessage.INGEST_REQUEST:
                self.ingest_requests.appendleft(
                    {key: record.get(key) for key in ("time", "status", "accepted", "rejected")}
                )
            elif message == LogMessage.RELAY_MESSAGE:
                first_request = self._ga4_count + 1
                self._ga4_count += len(record.get("ga4_requests") or [])
                for decided in decisions_in(record):
                    flow = self._event(str(decided["event_id"]))
                    flow.decision = decided["decision"]
                    flow.reason = decided["reason"]
                    flow.consent_state = decided["state"]
                    flow.evt = flow.evt or str(decided["evt"] or "")
                    if decided["ga4_request"] is not None:
                        flow.ga4_request = first_request + decided["ga4_request"]
            elif message == LogMessage.DEAD_LETTERED:
                for event_id in record.get("event_ids", []):
                    self._event(str(event_id)).dead_letter = str(record.get("reason"))

    def on_ga4_requests(self, requests: list[dict[str, Any]]) -> None:
        """The GA4 stand-in's record of requests (newest last), replacing the previous view."""
        with self.lock:
            self.ga4_requests = deque(reversed(requests[-MAX_REQUESTS:]), maxlen=MAX_REQUESTS)

    def snapshot(self) -> dict[str, Any]:
        """Everything the live view shows, newest first."""
        with self.lock:
            return {
                "events": [flow.as_json() for flow in reversed(self.events.values())],
                "ingest_requests": list(self.ingest_requests),
                "ga4_requests": list(self.ga4_requests),
            }
