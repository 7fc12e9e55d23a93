"""Secrets (GA4 API secrets, the pseudonym key): from Secret Manager (fetched once per
instance), env, or a value.

An adapter. Secret values are cached per reference and never logged, raised or shown in
a ``repr``. Secret Manager cannot run locally: its fake, with the real client's
interface, is :class:`~loyjoy_relay.adapters.fakes.FakeSecretManagerClient`.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from loyjoy_relay.core.ga4.routing import SecretRef
from loyjoy_relay.errors import ConfigError, RetryableError


class SecretManagerClient(Protocol):
    """The one method of ``secretmanager.SecretManagerServiceClient`` used here."""

    def access_secret_version(self, request: Any = None, **kwargs: Any) -> Any:
        """The version's response; ``.payload.data`` holds the secret bytes."""


def _real_client() -> SecretManagerClient:
    # Imported on first use (and untyped here) so loading this module stays cheap.
    secretmanager: Any = importlib.import_module("google.cloud.secretmanager")
    client: SecretManagerClient = secretmanager.SecretManagerServiceClient()
    return client


def api_exceptions() -> Any:
    return importlib.import_module("google.api_core.exceptions")


class SecretProvider:
    """Resolves :class:`SecretRef` to secret values, caching each for the instance's life."""

    def __init__(
        self,
        *,
        env: Mapping[str, str] | None = None,
        client_factory: Callable[[], SecretManagerClient] = _real_client,
    ) -> None:
        self._env = env or {}
        self._client_factory = client_factory
        self._client: SecretManagerClient | None = None
        self._cache: dict[tuple[str, str], str] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"SecretProvider(cached={len(self._cache)})"

    def secret_for(self, ref: SecretRef, variable: str = "GA4_API_SECRET_NAME") -> str:
        """The secret ``ref`` points to; fetched at most once per reference. An error names
        ``variable``, the setting the reference came from."""
        if ref.kind == "value":
            return ref.name
        key = (ref.kind, ref.name)
        with self._lock:
            if key not in self._cache:
                self._cache[key] = self._resolve(ref, variable)
            return self._cache[key]

    def _resolve(self, ref: SecretRef, variable: str) -> str:
        if ref.kind == "env":
            value = self._env.get(ref.name, "").strip()
            if not value:
                raise ConfigError(f"{ref.name} is not set (the API secret of a GA4 property)")
            return value
        if self._client is None:
            self._client = self._client_factory()
        return _access(self._client, ref.name, variable)


def _access(client: SecretManagerClient, name: str, variable: str) -> str:
    exceptions = api_exceptions()
    try:
        response = client.access_secret_version(request={"name": name})
    except (exceptions.NotFound, exceptions.PermissionDenied, exceptions.InvalidArgument) as e:
        raise ConfigError(f"{variable}: cannot read {name} ({type(e).__name__})") from None
    except exceptions.GoogleAPIError as error:
        raise RetryableError(
            f"Secret Manager did not answer for {name} ({type(error).__name__})"
        ) from None
    value = bytes(response.payload.data).decode("utf-8").strip()
    if not value:
        raise ConfigError(f"{variable}: {name} is empty")
    return value
