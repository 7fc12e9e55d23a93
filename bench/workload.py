"""Realistic request bodies of the event contract (DESIGN.md) for the load generator.

Events come from the shipped event factory (``loyjoy_relay.devstack.event_factory``);
names are drawn from a chat's visitor-side events, one client per body (one browser's
batch), so publishes spread over many ordering keys as real traffic does.
"""

from __future__ import annotations

import json
import random
import time
from typing import Any

from loyjoy_relay.devstack.event_factory import CHAT_EVENTS, contract_event, granted

BOT = "7d3c9a52-5b1e-4a57-9a0e-8f3b2c1d0e9f"
ORIGIN = "https://shop.example.com"
BATCH_SIZES = (1, 5, 20)


def make_event(rng: random.Random, client_id: str, now_ms: int) -> dict[str, Any]:
    """One contract event of ``client_id``, a few seconds before ``now_ms``."""
    return contract_event(
        rng.choice(CHAT_EVENTS),
        rng=rng,
        bot_id=BOT,
        client_id=client_id,
        session_id=str(now_ms // 1000 - rng.randrange(3600)),
        ts=now_ms - rng.randrange(5000),
        page_location="https://shop.example.com/products/espresso-machine?ref=home",
        page_title="Espresso machine | Shop",
        language="de-DE",
        consent=granted(now_ms - 60_000),
    )


def make_bodies(batch_size: int, count: int, seed: int = 8) -> list[bytes]:
    """``count`` JSON bodies of ``batch_size`` events each, each from its own client."""
    rng = random.Random(seed + batch_size)
    now_ms = int(time.time() * 1000)
    bodies = []
    for _ in range(count):
        client_id = f"{rng.randrange(10**9, 10**10)}.{now_ms // 1000 - rng.randrange(86400)}"
        events = [make_event(rng, client_id, now_ms) for _ in range(batch_size)]
        bodies.append(json.dumps({"sent_at": now_ms, "events": events}).encode())
    return bodies
