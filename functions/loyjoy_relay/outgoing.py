"""What leaves for GA4 for one decided event: who it is sent as, and the mapped event.

Pure; shared by the relay and ``explain`` so that what a privacy officer previews is
exactly what the relay sends.
"""

from __future__ import annotations

from loyjoy_relay.consent.decision import Decision
from loyjoy_relay.consent.privacy import identity_for, outgoing_event
from loyjoy_relay.consent.rules import ConsentRules
from loyjoy_relay.events import LoyJoyEvent
from loyjoy_relay.ga4.mapping import Ga4Mapping
from loyjoy_relay.ga4.model import Ga4Event, Ga4Identity


def prepare(
    rules: ConsentRules, mapping: Ga4Mapping, decision: Decision, event: LoyJoyEvent, now_ms: int
) -> tuple[Ga4Identity, Ga4Event]:
    """The identity and the redacted GA4 event of a forwarded or anonymized event.

    Raises Ga4Rejected when the event cannot be sent (too old, unmappable name).
    """
    ga4_event = outgoing_event(decision, mapping.map_event(event, now_ms=now_ms))
    return identity_for(decision, event, rules), ga4_event
