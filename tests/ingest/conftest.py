"""Fixtures for the ingest function: a real app from ``create_app`` on the emulator."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import flask
import pytest
from functions_framework import create_app
from loyjoy_relay.devstack.event_factory import contract_event, granted, ingest_body, now_ms

from tests.conftest import PROJECT
from tests.support.emulators import Emulator
from tests.support.processes import ROOT

INGEST_SOURCE = str(ROOT / "functions" / "ingest" / "main.py")
ORIGIN = "https://shop.example.com"
BOT = "7d3c9a52-5b1e-4a57-9a0e-8f3b2c1d0e9f"


def make_event(**overrides: Any) -> dict[str, Any]:
    """A valid contract event of the allowed bot, opted in; ``overrides`` replace fields."""
    fields: dict[str, Any] = {"bot_id": BOT, "consent": granted(now_ms() - 5000), **overrides}
    return contract_event(**fields)


def make_batch(*events: dict[str, Any], sent_at: int | None = None) -> dict[str, Any]:
    """A batch body holding ``events``."""
    return ingest_body(events, sent_at=sent_at)


@pytest.fixture
def ingest_env(
    pubsub_emulator: Emulator, topic_and_subscription: tuple[str, str]
) -> dict[str, str]:
    """Environment for an ingest function publishing to a fresh topic."""
    topic, _ = topic_and_subscription
    return {
        "GOOGLE_CLOUD_PROJECT": PROJECT,
        "RELAY_TOPIC": topic,
        "ALLOWED_ORIGINS": f"{ORIGIN},http://localhost:8080",
        "ALLOWED_BOT_IDS": BOT,
        "PUBSUB_EMULATOR_HOST": pubsub_emulator.host,
    }


@pytest.fixture
def make_client(
    monkeypatch: pytest.MonkeyPatch, ingest_env: dict[str, str]
) -> Callable[..., flask.testing.FlaskClient]:
    """Build the real ingest app (functions-framework ``create_app``) with env overrides."""

    def build(**overrides: str) -> flask.testing.FlaskClient:
        for name, value in {**ingest_env, **overrides}.items():
            monkeypatch.setenv(name, value)
        app = create_app("ingest", INGEST_SOURCE, "http")
        return app.test_client()

    return build


@pytest.fixture
def client(make_client: Callable[..., flask.testing.FlaskClient]) -> Iterator[Any]:
    """The ingest app with the default test environment."""
    return make_client()
