"""Structured JSON log lines that Cloud Logging understands.

Cloud Logging parses a JSON object printed on one line to stdout/stderr and takes
``severity`` and ``message`` from it; every other key becomes ``jsonPayload``. Never log
a secret or a raw identifier: a client id is logged as its keyed pseudonym
(:meth:`loyjoy_relay.core.pseudonyms.Pseudonyms.for_logs`).
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any, Final, TextIO


class LogMessage:
    """The ``message`` of every log line that something outside the code filters on.

    Defined once: ``terraform/monitoring.tf`` (log-based metrics and alerts) and the live
    view of ``loyjoy-relay dev`` select lines by these values, and a test checks that every
    Terraform filter names one of them.
    """

    INGEST_REQUEST: Final = "ingest request"
    # One per message: its counts and every consent decision (loyjoy_relay.service.audit).
    RELAY_MESSAGE: Final = "relay message"
    DEAD_LETTERED: Final = "dead-lettered"
    DEDUP_NOT_RECORDED: Final = "dedup completion not recorded"
    RELAY_DEFECT: Final = "relay defect"

    @classmethod
    def all(cls) -> frozenset[str]:
        """Every defined message."""
        return frozenset(
            value for name, value in vars(cls).items() if name.isupper() and isinstance(value, str)
        )


class JsonLogger:
    """Writes one JSON object per line, with a component name on every line."""

    def __init__(self, component: str, stream: TextIO | None = None) -> None:
        self.component = component
        self._stream = stream

    def log(self, severity: str, message: str, **fields: Any) -> None:
        """Write one line at ``severity`` (DEBUG, INFO, WARNING, ERROR)."""
        record = {
            "severity": severity,
            "message": message,
            "component": self.component,
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()) + "Z",
            **fields,
        }
        stream = self._stream or sys.stdout
        stream.write(json.dumps(record, default=str, separators=(",", ":")) + "\n")
        stream.flush()

    def info(self, message: str, **fields: Any) -> None:
        """Write an INFO line."""
        self.log("INFO", message, **fields)

    def warning(self, message: str, **fields: Any) -> None:
        """Write a WARNING line."""
        self.log("WARNING", message, **fields)

    def error(self, message: str, **fields: Any) -> None:
        """Write an ERROR line."""
        self.log("ERROR", message, **fields)
