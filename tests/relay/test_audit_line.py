"""The relay's one line per message, read back per event (audit trail and live view)."""

from __future__ import annotations

from loyjoy_relay.adapters.logs import LogMessage
from loyjoy_relay.core.planner import EventOutcome
from loyjoy_relay.devstack.flow import FlowBoard
from loyjoy_relay.service.audit import SentRequest, audit_fields, decisions_in


def outcome(event_id: str, action: str, reason: str = "r", rule: str = "granted") -> EventOutcome:
    """A decided event of bot ``b``."""
    return EventOutcome(event_id, "start", "b", action, reason, "granted", rule)  # type: ignore[arg-type]


def line(outcomes: list[EventOutcome], sent: list[SentRequest]) -> dict[str, object]:
    """A relay message line as the relay logs it."""
    return {
        "message": LogMessage.RELAY_MESSAGE,
        "client": "c1",
        "rules_version": "v1-x",
        **audit_fields(outcomes, sent),
    }


def test_each_event_is_read_back_with_its_decision_and_request() -> None:
    """Equal decisions share one entry, yet each event reads back its own decision."""
    outcomes = [
        outcome("e1", "forward"),
        outcome("e2", "drop", "why", "denied"),
        outcome("e3", "forward"),
    ]
    record = line(outcomes, [SentRequest("G-1", ("e3", "e1"))])
    assert len(record["decisions"]) == 2  # type: ignore[arg-type]
    assert [(r["event_id"], r["decision"], r["ga4_request"]) for r in decisions_in(record)] == [
        ("e1", "forward", 0),
        ("e2", "drop", None),
        ("e3", "forward", 0),
    ]
    assert decisions_in(record)[1]["reason"] == "why"
    assert {r["rules_version"] for r in decisions_in(record)} == {"v1-x"}


def test_the_live_view_numbers_ga4_requests_across_lines() -> None:
    """Requests of later lines continue the count, so the view links events to requests."""
    board = FlowBoard()
    board.on_log(line([outcome("a", "forward")], [SentRequest("G-1", ("a",))]))
    board.on_log(
        line(
            [outcome("b", "forward"), outcome("c", "anonymize")],
            [SentRequest("G-1", ("b",)), SentRequest("G-1", ("c",))],
        )
    )
    flows = {flow["event_id"]: flow for flow in board.snapshot()["events"]}
    assert {key: flows[key]["ga4_request"] for key in "abc"} == {"a": 1, "b": 2, "c": 3}
    assert flows["c"]["decision"] == "anonymize"
