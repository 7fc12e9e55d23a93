"""The API secret: Secret Manager once per instance, env or value; never shown.

Secret Manager cannot run on this machine (there is no emulator for it), so these tests
use :class:`FakeSecretManagerClient`, which has the real client's interface and raises
the same ``google.api_core`` exceptions.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from loyjoy_relay.adapters.fakes import FakeSecretManagerClient
from loyjoy_relay.adapters.secret_manager import SecretProvider
from loyjoy_relay.config import RelaySettings
from loyjoy_relay.core.ga4.routing import Ga4Property, SecretRef
from loyjoy_relay.errors import ConfigError, RetryableError
from loyjoy_relay.service.wiring import default_property

from tests.ga4.conftest import SECRET

VERSION = "projects/p/secrets/ga4-api-secret/versions/latest"


def test_secret_manager_is_read_once_and_cached() -> None:
    """A Secret Manager version is fetched on first use and then served from the cache."""
    fake = FakeSecretManagerClient({VERSION: SECRET + "\n"})
    made: list[int] = []

    def factory() -> FakeSecretManagerClient:
        made.append(1)
        return fake

    provider = SecretProvider(client_factory=factory)
    ref = SecretRef("secret_manager", VERSION)
    assert provider.secret_for(ref) == SECRET
    assert provider.secret_for(ref) == SECRET
    assert fake.calls == 1
    assert made == [1]


def test_env_and_value_references() -> None:
    """An env reference reads the given mapping; a value reference is the value itself."""
    provider = SecretProvider(env={"GA4_SECRET_SHOP": SECRET})
    assert provider.secret_for(SecretRef("env", "GA4_SECRET_SHOP")) == SECRET
    assert provider.secret_for(SecretRef("value", "local-secret")) == "local-secret"
    with pytest.raises(ConfigError, match="GA4_SECRET_OTHER"):
        provider.secret_for(SecretRef("env", "GA4_SECRET_OTHER"))


def test_missing_version_is_config_error_and_outage_is_retryable() -> None:
    """NotFound names the version (not a value); an unavailable service is retryable."""
    from google.api_core import exceptions

    provider = SecretProvider(client_factory=lambda: FakeSecretManagerClient({}))
    with pytest.raises(ConfigError, match="GA4_API_SECRET_NAME"):
        provider.secret_for(SecretRef("secret_manager", VERSION))

    class Down(FakeSecretManagerClient):
        def access_secret_version(self, request: Any = None, **kwargs: Any) -> Any:
            raise exceptions.ServiceUnavailable("try later")

    flaky = SecretProvider(client_factory=lambda: Down({}))
    with pytest.raises(RetryableError):
        flaky.secret_for(SecretRef("secret_manager", VERSION))


def settings_env(tmp_path: Path, **values: str) -> dict[str, str]:
    """Relay variables with stand-in rule and mapping files (owned by other parts)."""
    stand_in = tmp_path / "stand-in.yaml"
    stand_in.write_text("version: 1\n")
    return {
        "GOOGLE_CLOUD_PROJECT": "p",
        "GA4_MEASUREMENT_ID": "G-TEST12345",
        "PSEUDONYM_KEY": "k" * 32,
        "CONSENT_RULES": str(stand_in),
        "GA4_MAPPING": str(stand_in),
        **values,
    }


def test_reprs_never_show_the_secret(tmp_path: Path) -> None:
    """SecretRef, Ga4Property, the provider and the settings never print a secret value."""
    provider = SecretProvider(env={"S": SECRET})
    provider.secret_for(SecretRef("env", "S"))
    settings = RelaySettings.from_env(settings_env(tmp_path, GA4_API_SECRET=SECRET))
    prop = default_property(settings)
    assert prop == Ga4Property("G-TEST12345", SecretRef("value", SECRET))
    for thing in (prop, prop.secret, provider, settings):
        assert SECRET not in repr(thing)
        assert SECRET not in str(thing)


def test_default_property_prefers_secret_manager(tmp_path: Path) -> None:
    """With GA4_API_SECRET_NAME set, the default property reads Secret Manager."""
    settings = RelaySettings.from_env(settings_env(tmp_path, GA4_API_SECRET_NAME=VERSION))
    assert default_property(settings).secret == SecretRef("secret_manager", VERSION)
