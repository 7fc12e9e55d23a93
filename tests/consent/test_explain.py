"""``loyjoy-relay explain`` on the shipped sample gives the decisions the semantics require."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from loyjoy_relay.cli.main import main

from tests.consent.conftest import SHIPPED_RULES

SAMPLE = Path(__file__).parent / "data" / "sample-events.jsonl"

# index: (decision, words in the reason), following tests/consent/data/sample-events.jsonl
EXPECTED = {
    0: ("anonymize", "anonymous_always"),  # load
    1: ("anonymize", "anonymous_always"),  # open
    2: ("drop", "default denied"),  # start before any decision
    3: ("forward", "this profiling_single_opt_in event"),  # the opt-in itself
    4: ("forward", "grant"),  # stamped granted, PII in label and page_location
    5: ("drop", "this profiling_opt_out event"),  # the opt-out itself
    6: ("drop", "revoke at 1732450005000 from the client's consent history"),  # stale stamp
    7: ("forward", "grant"),  # arrives late, but happened before the opt-out
    8: ("anonymize", "anonymous_always"),  # hide
    9: ("forward", "this profiling_double_opt_in event"),  # double opt-in after revoking
    10: ("forward", "grant"),
    11: ("drop", "never"),  # customer_deleted
    12: ("drop", "consent stamp"),  # another client, stamped denied
    13: ("drop", "consent history"),  # same client, no stamp: the ledger remembers
    14: ("drop", "revoke"),  # opt-in and stamped denial at the same time: revocation wins
    15: ("forward", "consent stamp"),  # stamped granted at the event's own time
    16: ("drop", "names no event this bot grants by"),  # stamped granted, naming no event
    17: ("drop", "names no event this bot grants by"),  # granted by an event that is no opt-in
    18: ("forward", "this profiling_single_opt_in event"),  # opt-in in the help bot
    19: ("drop", "this profiling_opt_out event"),  # opt-out in the shop bot
    20: ("drop", "consent stamp"),  # help bot's event stamped with the shop bot's opt-out
    21: ("drop", "from the client's consent history"),  # no stamp: the opt-out, any bot
    # the site's banner grants (changes nothing); the context comes from the time zone
    22: (
        "forward",
        "banner (consent mode) denies nothing; granted: forward; "
        "context: user_location AT/155/150 (time zone)",
    ),
    23: ("drop", "the site's banner (tcf) denies analytics_storage; denied: drop"),  # banner denies
    24: (
        "anonymize",
        "banner (tcf) denies analytics_storage; context: user_location AT/155/150 (time zone)",
    ),
}


def run_explain(capsys: pytest.CaptureFixture[str], *files: Path) -> list[dict[str, Any]]:
    assert main(["explain", "--rules", str(SHIPPED_RULES), *map(str, files)]) == 0
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def test_sample_decisions(capsys: pytest.CaptureFixture[str]) -> None:
    """Each sample event gets the decision and reason the consent semantics require."""
    lines = run_explain(capsys, SAMPLE)
    assert [line["index"] for line in lines] == list(range(len(EXPECTED)))
    for line in lines:
        decision, words = EXPECTED[line["index"]]
        assert line["decision"] == decision, line
        assert words in line["reason"], line
        assert set(line) == {"index", "event_id", "evt", "decision", "reason", "ga4"}
        assert (line["ga4"] is None) == (decision == "drop")


def test_sample_ga4_bodies(capsys: pytest.CaptureFixture[str]) -> None:
    """Forwarded bodies carry the client's ids and no PII; anonymized ones carry neither."""
    lines = run_explain(capsys, SAMPLE)
    sample = [json.loads(raw) for raw in SAMPLE.read_text().splitlines()]
    forwarded = lines[4]["ga4"]
    assert forwarded["client_id"] == sample[4]["client_id"]
    assert forwarded["user_id"] == "u-42"
    assert forwarded["consent"] == {"ad_user_data": "GRANTED", "ad_personalization": "DENIED"}
    [carried] = [e for e in forwarded["events"] if e["timestamp_micros"] == sample[4]["ts"] * 1000]
    assert str(carried["params"]["session_id"]) == sample[4]["session_id"]
    text = json.dumps(lines)
    assert "jane.doe" not in text
    assert "2345 6789" not in text
    opened = lines[1]["ga4"]["events"][0]["params"]
    assert opened["page_location"] == "https://shop.example.com/chat?utm_source=newsletter"
    assert opened["page_referrer"] == "https://mail.example.net/read"
    assert "1234567890" not in json.dumps(lines[1]["ga4"])
    for index in (0, 1, 8):
        anonymous = lines[index]["ga4"]
        assert re.fullmatch(r"\d+\.\d+", anonymous["client_id"])
        assert anonymous["client_id"] != sample[index]["client_id"]
        assert "user_id" not in anonymous
        assert "session_id" not in anonymous["events"][0]["params"]
        assert anonymous["consent"] == {"ad_user_data": "DENIED", "ad_personalization": "DENIED"}


def test_bad_event_line_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """An event line that breaks the contract stops explain with exit 2 and its line number."""
    events = tmp_path / "events.jsonl"
    events.write_text(SAMPLE.read_text().splitlines()[0] + '\n{"evt": "load"}\n')
    assert main(["explain", "--rules", str(SHIPPED_RULES), str(events)]) == 2
    assert "line 2" in capsys.readouterr().err


def test_broken_rules_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """explain refuses broken rules with exit 2, naming the line."""
    rules = tmp_path / "rules.yaml"
    rules.write_text(SHIPPED_RULES.read_text().replace("denied: drop", "denied: nope"))
    assert main(["explain", "--rules", str(rules), str(SAMPLE)]) == 2
    assert "line " in capsys.readouterr().err
