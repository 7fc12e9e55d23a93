"""Terraform's log filters and the code agree on the log messages they select by."""

from __future__ import annotations

import re

from loyjoy_relay.adapters.logs import LogMessage

from tests.support.processes import ROOT

_FILTERED_MESSAGE = re.compile(r'jsonPayload\.message\s*=\s*\\?"([^"\\]+)\\?"')


def filtered_messages() -> set[str]:
    """Every ``jsonPayload.message="..."`` a Terraform file filters on."""
    found: set[str] = set()
    for path in (ROOT / "terraform").glob("*.tf"):
        found.update(_FILTERED_MESSAGE.findall(path.read_text()))
    return found


def test_every_terraform_log_filter_names_a_message_the_code_logs() -> None:
    """A metric or alert filtering on a message the code does not define would stay at zero."""
    used = filtered_messages()
    assert {LogMessage.INGEST_REQUEST, LogMessage.RELAY_MESSAGE} <= used
    assert used <= LogMessage.all()


def test_the_filter_pattern_reads_terraform_quoting() -> None:
    """The check reads both quoting styles a filter string can use in HCL."""
    assert _FILTERED_MESSAGE.findall('a AND jsonPayload.message=\\"relay message\\"') == [
        "relay message"
    ]
    assert _FILTERED_MESSAGE.findall('jsonPayload.message="ingest request"') == ["ingest request"]
