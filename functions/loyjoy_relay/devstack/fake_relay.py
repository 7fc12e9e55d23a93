"""The relay over the shipped fakes, as tests, benchmarks and the embedded dev stack build it.

Everything in memory: the consent ledger, a GA4 endpoint that records what it receives,
dead letters kept in a list, pseudonyms under a fixed key and, unless given, a fixed source
of anonymous client ids and a fixed clock, so what is sent is repeatable byte for byte.
The relay itself is the shipped one (``service.wiring.build_relay_service``).
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import TextIO

from loyjoy_relay.adapters.dead_letters import DeadLetters
from loyjoy_relay.adapters.fakes import (
    InMemoryConsentLedger,
    RecordingGa4Transport,
    RecordingPublisher,
    SequentialClientIds,
    fixed_pseudonyms,
)
from loyjoy_relay.adapters.ga4_sender import Ga4Sender, RetryPolicy
from loyjoy_relay.adapters.logs import JsonLogger
from loyjoy_relay.adapters.mapping_file import load_mapping
from loyjoy_relay.adapters.ports import ConsentLedger
from loyjoy_relay.adapters.rules_file import load_rules
from loyjoy_relay.adapters.secret_manager import SecretProvider
from loyjoy_relay.config import shipped_file
from loyjoy_relay.core.consent.privacy import ClientIdSource
from loyjoy_relay.core.consent.rules import ConsentRules
from loyjoy_relay.core.ga4.routing import Ga4Property, SecretRef
from loyjoy_relay.core.planner import Planner
from loyjoy_relay.service.relay import RelayService, wall_clock_ms
from loyjoy_relay.service.wiring import build_relay_service

TEST_PROPERTY = Ga4Property("G-TEST12345", SecretRef("value", "s3cr3t-value"))


def shipped_planner(
    rules: ConsentRules | None = None, default_property: Ga4Property = TEST_PROPERTY
) -> Planner:
    """The planner with the shipped rules (or ``rules``) and the shipped GA4 mapping."""
    return Planner(
        rules or load_rules(shipped_file("consent-rules.yaml")),
        load_mapping(shipped_file("ga4-mapping.yaml")),
        default_property,
    )


@dataclass
class FakeRelay:
    """A relay over fakes, and the fakes a test looks into."""

    service: RelayService
    transport: RecordingGa4Transport
    dead_letters: RecordingPublisher
    log: TextIO


def fake_relay(
    planner: Planner | None = None,
    *,
    ledger: ConsentLedger | None = None,
    transport: RecordingGa4Transport | None = None,
    clock_ms: Callable[[], int] | None = None,
    new_client_id: ClientIdSource | None = None,
    log: TextIO | None = None,
) -> FakeRelay:
    """The shipped relay over in-memory adapters (see the module docstring)."""
    transport = transport or RecordingGa4Transport()
    dead = RecordingPublisher()
    stream = log if log is not None else io.StringIO()
    service = build_relay_service(
        planner=planner or shipped_planner(),
        ledger=ledger or InMemoryConsentLedger(),
        sender=Ga4Sender(
            "https://ga4.test",
            transport=transport,
            retry=RetryPolicy(attempts=2),
            sleep=lambda _: None,
        ),
        secrets=SecretProvider(),
        dead_letters=DeadLetters(dead),
        logger=JsonLogger("relay", stream),
        pseudonyms=fixed_pseudonyms(),
        new_client_id=new_client_id or SequentialClientIds(),
        clock_ms=clock_ms or wall_clock_ms,
    )
    return FakeRelay(service, transport, dead, stream)
