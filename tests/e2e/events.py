"""Contract events for the end-to-end tests."""

from __future__ import annotations

from typing import Any

from loyjoy_relay.devstack.event_factory import contract_event, new_client_id, now_ms

__all__ = ["BOT", "event", "new_client_id", "now_ms"]

BOT = "0f8e6a2c-9d4b-4c3e-8a1f-2b7d5e9c4a10"


def event(evt: str, client_id: str, ts: int, **fields: Any) -> dict[str, Any]:
    """One contract event of the end-to-end bot, in a GA4 session on the chat page."""
    defaults = {"session_id": "1700000000", "page_location": "https://shop.example.com/chat"}
    return contract_event(evt, bot_id=BOT, client_id=client_id, ts=ts, **{**defaults, **fields})
