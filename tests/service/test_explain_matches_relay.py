"""``explain`` previews exactly what the relay sends: the same bodies, byte for byte."""

from __future__ import annotations

import io
import json
import random
from typing import Any

from loyjoy_relay.adapters.fakes import (
    SequentialClientIds,
)
from loyjoy_relay.adapters.logs import LogMessage
from loyjoy_relay.adapters.mapping_file import load_mapping
from loyjoy_relay.adapters.rules_file import load_rules
from loyjoy_relay.config import shipped_file
from loyjoy_relay.core.events import LoyJoyEvent
from loyjoy_relay.core.ga4.routing import Ga4Property, SecretRef
from loyjoy_relay.core.planner import Planner
from loyjoy_relay.devstack.event_factory import (
    contract_event,
    denied,
    granted,
    message_data,
    new_client_id,
)
from loyjoy_relay.devstack.fake_relay import fake_relay
from loyjoy_relay.service.audit import decisions_in
from loyjoy_relay.service.explain import explain_events

NOW = 1_732_450_000_000
BOTS = ("bot-a", "bot-b")
PLANNER = Planner(
    load_rules(shipped_file("consent-rules.yaml")),
    load_mapping(shipped_file("ga4-mapping.yaml")),
    Ga4Property("G-TEST12345", SecretRef("value", "s3cr3t")),
)


def corpus(seed: int = 11) -> list[dict[str, Any]]:
    """Twelve clients' chats over two bots: opt-ins, opt-outs, stamps, PII, anonymous events."""
    rng = random.Random(seed)
    names = ["load", "open", "start", "interaction", "data_collection_answer", "end", "hide"]
    events = []
    for _ in range(12):
        client = new_client_id(rng, NOW)
        at = NOW - rng.randrange(3_600_000)
        for _ in range(rng.randrange(3, 14)):
            at += rng.randrange(1, 4000)
            evt = rng.choice([*names, "profiling_single_opt_in", "profiling_opt_out"])
            fields: dict[str, Any] = {
                "bot_id": rng.choice(BOTS),
                "client_id": client,
                "ts": at,
                "page_location": "https://shop.example.com/?q=jane.doe%40example.com",
                "label": rng.choice(["Call me: +49 170 1234567", "Fine", None]),
            }
            stamp = rng.choice([None, granted(at - 500), denied(at - 200)])
            if stamp is not None:
                fields["consent"] = {k: v for k, v in stamp.items() if k != "evt"}
            if rng.random() < 0.3:
                fields["user_id"] = f"user-{rng.randrange(100)}"
            events.append(contract_event(evt, rng=rng, **fields))
    return events


def relay_run(events: list[dict[str, Any]]) -> tuple[list[bytes], dict[str, str]]:
    """What the GA4 endpoint receives when each client's events arrive as one message, and
    the decision the relay's audit trail logged for each event."""
    log = io.StringIO()
    relay = fake_relay(PLANNER, clock_ms=lambda: max(e["ts"] for e in events), log=log)
    by_client: dict[str, list[dict[str, Any]]] = {}
    for event in events:
        by_client.setdefault(event["client_id"], []).append(event)
    for client_events in by_client.values():
        relay.service.process(message_data(client_events, received_at=NOW))
    records = [json.loads(line) for line in log.getvalue().splitlines()]
    audit = {
        decided["event_id"]: decided["decision"]
        for record in records
        if record["message"] == LogMessage.RELAY_MESSAGE
        for decided in decisions_in(record)
    }
    return relay.transport.bodies(), audit


def explained_bodies(events: list[dict[str, Any]]) -> list[bytes]:
    """The distinct ``ga4`` bodies of explain's lines, as printed, in order of appearance."""
    lines = explain_events(
        PLANNER,
        [LoyJoyEvent.model_validate(e) for e in events],
        new_client_id=SequentialClientIds(),
    )
    bodies: list[bytes] = []
    for line in lines:
        printed = line.partition(',"ga4":')[2][:-1].encode()
        assert json.loads(line)["ga4"] == (json.loads(printed) if printed != b"null" else None)
        if printed != b"null" and printed not in bodies:
            bodies.append(printed)
    return bodies


def test_the_bodies_ga4_receives_equal_explains_byte_for_byte() -> None:
    """One corpus through the relay (fakes, fixed ids) and through explain: same bodies."""
    events = corpus()
    sent, _ = relay_run(events)
    assert len(sent) > 10
    assert sorted(sent) == sorted(explained_bodies(events))
    text = b"".join(sent)
    assert b"jane.doe" not in text
    assert b"1234567" not in text


def test_decisions_agree_with_the_relays_audit_trail() -> None:
    """explain's decision for each event is the decision the relay logged for it."""
    events = corpus(seed=5)
    _, audit = relay_run(events)
    lines = explain_events(
        PLANNER,
        [LoyJoyEvent.model_validate(e) for e in events],
        new_client_id=SequentialClientIds(),
    )
    assert {json.loads(line)["event_id"]: json.loads(line)["decision"] for line in lines} == audit
    assert {"forward", "anonymize", "drop"} <= set(audit.values())
