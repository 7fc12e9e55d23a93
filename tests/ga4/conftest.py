"""Shared values for the GA4 tests: a fixed clock and a valid MP body to vary."""

from __future__ import annotations

import copy
from typing import Any

NOW_MS = 1_760_000_000_000
NOW_MICROS = NOW_MS * 1000
HOUR_MICROS = 3600 * 1_000_000
SECRET = "s3cr3t-DO-NOT-LEAK-42"
MEASUREMENT_ID = "G-TEST12345"

_VALID: dict[str, Any] = {
    "client_id": "1234567890.1700000000",
    "consent": {"ad_user_data": "DENIED", "ad_personalization": "DENIED"},
    "events": [
        {
            "name": "open",
            "params": {"bot_id": "bot-1", "session_id": 1759968000, "engagement_time_msec": 100},
            "timestamp_micros": NOW_MICROS - HOUR_MICROS,
        }
    ],
}


def valid_body(**top: Any) -> dict[str, Any]:
    """A body GA4 accepts in both behaviours, with ``top`` keys replaced."""
    return {**copy.deepcopy(_VALID), **top}


def with_event(**fields: Any) -> dict[str, Any]:
    """A valid body whose one event has ``fields`` replaced."""
    body = valid_body()
    body["events"][0].update(fields)
    return body


def with_params(**params: Any) -> dict[str, Any]:
    """A valid body whose one event has ``params`` added."""
    body = valid_body()
    body["events"][0]["params"].update(params)
    return body
