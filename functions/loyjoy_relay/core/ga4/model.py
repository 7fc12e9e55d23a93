"""The outgoing side's value types, shared by mapping, consent transforms and the sender.

A :class:`Ga4Event` is one mapped event (no identity); a :class:`Ga4Identity` is who it is
sent as (request-level fields of an MP body). The consent engine chooses the identity
(the client's own for ``forward``, a fresh random one for ``anonymize``); the request
builder groups events of one identity into MP bodies of at most 25 events.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

ParamValue = str | int | float
ConsentSignal = Literal["GRANTED", "DENIED"]


@dataclass(frozen=True, slots=True)
class Ga4Event:
    """One GA4 event: name, params, and its time; ``source_event_id`` links it back."""

    name: str
    params: dict[str, ParamValue]
    timestamp_micros: int
    source_event_id: str
    bot_id: str


@dataclass(frozen=True, slots=True)
class Ga4Identity:
    """Who events are sent as: the request-level fields of an MP body (with the derived
    ``user_location`` and ``device`` the rules let them carry)."""

    client_id: str
    user_id: str | None = None
    ad_user_data: ConsentSignal = "DENIED"
    ad_personalization: ConsentSignal = "DENIED"
    user_properties: dict[str, ParamValue] = field(default_factory=dict)
    user_location: dict[str, str] | None = None
    device: dict[str, str] | None = None
