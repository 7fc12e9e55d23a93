"""Keyed pseudonyms: the relay's logs and ledger ids cannot be reversed without the
deployment's key, and the key is resolved at start like the API secrets."""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

import pytest
from loyjoy_relay.adapters.fakes import FakeSecretManagerClient
from loyjoy_relay.adapters.logs import JsonLogger, LogMessage
from loyjoy_relay.adapters.secret_manager import SecretProvider
from loyjoy_relay.config import RelaySettings
from loyjoy_relay.core.pseudonyms import Pseudonyms
from loyjoy_relay.devstack.ga4_sink import Ga4Sink
from loyjoy_relay.errors import ConfigError
from loyjoy_relay.service.wiring import resolve_pseudonyms

from tests.ga4.test_secrets import settings_env
from tests.relay.test_relay_service import CLIENT, event, make_service, message

KEY_VERSION = "projects/p/secrets/loyjoy-pseudonym-key/versions/latest"
KEY = "k3y-" * 10


def test_pseudonyms_depend_on_the_key_and_differ_by_use() -> None:
    """The same client id gives other pseudonyms under another key, and its log pseudonym
    is no part of its ledger id; an unkeyed hash of the id matches neither."""
    one, other = Pseudonyms(KEY.encode()), Pseudonyms(b"another key of 32 bytes or more!!")
    assert one.for_logs(CLIENT) == one.for_logs(CLIENT)
    assert one.for_logs(CLIENT) != other.for_logs(CLIENT)
    assert one.ledger_key(CLIENT) != other.ledger_key(CLIENT)
    assert one.for_logs(CLIENT) not in one.ledger_key(CLIENT)
    unkeyed = hashlib.sha256(CLIENT.encode()).hexdigest()
    assert unkeyed not in (one.ledger_key(CLIENT), one.for_logs(CLIENT))
    assert KEY not in repr(one)
    with pytest.raises(ValueError, match="32"):
        Pseudonyms(b"short")


def test_the_relay_logs_clients_by_their_keyed_pseudonym() -> None:
    """Every relay log line names the client by the keyed pseudonym, never the id."""
    stream = io.StringIO()
    pseudonyms = Pseudonyms(KEY.encode())
    with Ga4Sink() as sink:
        service = make_service(sink, logger=JsonLogger("relay", stream), pseudonyms=pseudonyms)
        service.process(message(event("start")))
    records = [json.loads(line) for line in stream.getvalue().splitlines()]
    named = [r["client"] for r in records if "client" in r]
    assert {r["message"] for r in records if "client" in r} == {LogMessage.RELAY_MESSAGE}
    assert set(named) == {pseudonyms.for_logs(CLIENT)}
    assert CLIENT not in stream.getvalue()


def test_the_key_comes_from_secret_manager_at_start(tmp_path: Path) -> None:
    """PSEUDONYM_KEY_NAME is read from Secret Manager; a missing version, or a key shorter
    than 32 bytes, stops the relay at start naming PSEUDONYM_KEY_NAME."""
    settings = RelaySettings.from_env(
        settings_env(tmp_path, GA4_API_SECRET="s", PSEUDONYM_KEY_NAME=KEY_VERSION)
    )
    found = SecretProvider(client_factory=lambda: FakeSecretManagerClient({KEY_VERSION: KEY}))
    assert resolve_pseudonyms(settings, found) == Pseudonyms(KEY.encode())
    missing = SecretProvider(client_factory=lambda: FakeSecretManagerClient({}))
    with pytest.raises(ConfigError, match=r"PSEUDONYM_KEY_NAME: cannot read .*NotFound"):
        resolve_pseudonyms(settings, missing)
    short = SecretProvider(client_factory=lambda: FakeSecretManagerClient({KEY_VERSION: "x"}))
    with pytest.raises(ConfigError, match="PSEUDONYM_KEY_NAME: the pseudonym key must be"):
        resolve_pseudonyms(settings, short)


@pytest.mark.parametrize(
    ("values", "words"),
    [
        ({}, "PSEUDONYM_KEY_NAME \\(or PSEUDONYM_KEY, locally\\) is not set"),
        ({"PSEUDONYM_KEY": "too short"}, "PSEUDONYM_KEY: the key must be at least 32"),
        ({"PSEUDONYM_KEY_NAME": "loyjoy-pseudonym-key"}, "PSEUDONYM_KEY_NAME: expected"),
    ],
)
def test_a_missing_or_bad_key_setting_stops_the_relay(
    tmp_path: Path, values: dict[str, str], words: str
) -> None:
    """Without a key, with a short local key or a malformed version name, the settings
    refuse to load, naming the variable."""
    env = settings_env(tmp_path, GA4_API_SECRET="s")
    del env["PSEUDONYM_KEY"]
    env.update(values)
    with pytest.raises(ConfigError, match=words):
        RelaySettings.from_env(env)


def test_the_settings_never_show_the_key(tmp_path: Path) -> None:
    """The relay's settings print neither a local key nor the key once resolved."""
    settings = RelaySettings.from_env(settings_env(tmp_path, GA4_API_SECRET="s", PSEUDONYM_KEY=KEY))
    assert KEY not in repr(settings)
    assert KEY not in repr(resolve_pseudonyms(settings, SecretProvider()))
