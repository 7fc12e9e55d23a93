"""Contract events for the end-to-end tests."""

from __future__ import annotations

import random
import time
import uuid
from typing import Any

BOT = "0f8e6a2c-9d4b-4c3e-8a1f-2b7d5e9c4a10"


def new_client_id() -> str:
    """A GA4-style client id."""
    return f"{random.randint(10**8, 10**9)}.{int(time.time())}"


def event(evt: str, client_id: str, ts: int, **fields: Any) -> dict[str, Any]:
    """One contract event."""
    return {
        "evt": evt,
        "bot_id": BOT,
        "client_id": client_id,
        "event_id": str(uuid.uuid4()),
        "ts": ts,
        "session_id": "1700000000",
        "page_location": "https://shop.example.com/chat",
        **fields,
    }


def now_ms() -> int:
    """Now, in ms."""
    return int(time.time() * 1000)
