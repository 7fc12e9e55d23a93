"""Configuration, read from the environment once, into frozen values.

This is the only module that reads ``os.environ``. A bad value raises
:class:`~loyjoy_relay.errors.ConfigError` naming the variable, so a function fails at
start rather than on its first request.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from loyjoy_relay.errors import ConfigError

DEFAULT_TOPIC = "loyjoy-events"
DEFAULT_GA4_ENDPOINT = "https://www.google-analytics.com"
_PACKAGE_DIR = Path(__file__).resolve().parent
_TOPIC_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9._~%+-]{2,254}$")
_MEASUREMENT_ID = re.compile(r"^G-[A-Z0-9]{4,20}$")
_SECRET_VERSION = re.compile(r"^projects/[^/]+/secrets/[^/]+/versions/[^/]+$")
# An HTTP header field name (RFC 9110 token), as a load balancer's custom header is named.
_HEADER_NAME = re.compile(r"^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,64}$")
MIN_PSEUDONYM_KEY_LENGTH = 32  # as core.pseudonyms.MIN_KEY_LENGTH (config imports no core)


def _list(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in env.get(name, "").split(",") if part.strip())


def _origins(env: Mapping[str, str]) -> tuple[str, ...]:
    origins = _list(env, "ALLOWED_ORIGINS")
    for origin in origins:
        if origin == "*":
            continue
        parts = urlsplit(origin)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.path not in ("",):
            raise ConfigError(
                f"ALLOWED_ORIGINS: {origin!r} is not an origin like https://www.example.com "
                "(scheme and host, no path)"
            )
    return origins


def _topic(env: Mapping[str, str], name: str, default: str) -> str:
    topic = env.get(name, "").strip() or default
    if not _TOPIC_NAME.match(topic) or topic.startswith("goog"):
        raise ConfigError(f"{name}: {topic!r} is not a valid Pub/Sub topic name")
    return topic


def _project(env: Mapping[str, str]) -> str:
    project = env.get("GOOGLE_CLOUD_PROJECT", "").strip()
    if not project:
        raise ConfigError("GOOGLE_CLOUD_PROJECT is not set (the Google Cloud project id)")
    return project


def _header(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name, "").strip()
    if value and not _HEADER_NAME.match(value):
        raise ConfigError(f"{name}: {value!r} is not an HTTP header name")
    return value or None


def shipped_file(filename: str) -> Path:
    """Where a file from ``infra/`` ships with the functions.

    In a staged function upload it sits beside the package; in the repository it is in
    ``infra/``.
    """
    for candidate in (
        _PACKAGE_DIR.parent / filename,
        _PACKAGE_DIR.parent.parent / "infra" / filename,
    ):
        if candidate.is_file():
            return candidate
    return _PACKAGE_DIR.parent.parent / "infra" / filename


def _path(env: Mapping[str, str], name: str, filename: str) -> Path:
    value = env.get(name, "").strip()
    path = Path(value) if value else shipped_file(filename)
    if not path.is_file():
        raise ConfigError(f"{name}: no file at {str(path)!r}")
    return path


# Substrings (compared case-insensitively) of the User-Agent of crawlers and automated
# browsers: their events are answered 403 and never published. They add to what the user
# agent parser (adapters/user_agents, core/context/device) recognises as a crawler or a
# headless browser. Crawlers announce a bot name with a version ("Googlebot/2.1") or an
# info URL ("+http://..."); headless browsers say so (HeadlessChrome; PhantomJS).
DEFAULT_AUTOMATED_USER_AGENTS = (
    "headlesschrome",
    "phantomjs",
    "bot/",
    "crawler",
    "spider",
    "+http",
    "lighthouse",
    "facebookexternalhit",
)


def _automated_markers(env: Mapping[str, str]) -> tuple[str, ...]:
    """``AUTOMATED_USER_AGENTS``: empty or unset, the built-in markers; ``none``, no screening
    at all; else the built-in markers and those listed."""
    markers = tuple(marker.lower() for marker in _list(env, "AUTOMATED_USER_AGENTS"))
    if markers == ("none",):
        return ()
    return tuple(dict.fromkeys((*DEFAULT_AUTOMATED_USER_AGENTS, *markers)))


def _positive_number(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = 0.0
    if not value > 0 or value != value or value == float("inf"):
        raise ConfigError(f"{name}: {raw!r} is not a positive number")
    return value


def _whole_number(env: Mapping[str, str], name: str, default: int, minimum: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    if not raw.isascii() or not raw.isdigit() or int(raw) < minimum:
        raise ConfigError(f"{name}: {raw!r} is not a whole number of at least {minimum}")
    return int(raw)


@dataclass(frozen=True, slots=True)
class RateLimits:
    """Ingest's per-instance limits: requests a second and burst, per client and address."""

    client_per_second: float = 2.0
    client_burst: int = 10
    # People behind one office or mobile-carrier NAT share an address: far higher.
    address_per_second: float = 20.0
    address_burst: int = 60
    # How many proxies in front of ingest append to X-Forwarded-For (Google's front end
    # of Cloud Functions: 1; an external HTTPS load balancer in front adds 1 more).
    trusted_proxy_hops: int = 1

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> RateLimits:
        """Read the ``*_RATE_*`` and ``TRUSTED_PROXY_HOPS`` variables."""
        return cls(
            client_per_second=_positive_number(env, "CLIENT_RATE_PER_SECOND", 2.0),
            client_burst=_whole_number(env, "CLIENT_RATE_BURST", 10, 1),
            address_per_second=_positive_number(env, "ADDRESS_RATE_PER_SECOND", 20.0),
            address_burst=_whole_number(env, "ADDRESS_RATE_BURST", 60, 1),
            trusted_proxy_hops=_whole_number(env, "TRUSTED_PROXY_HOPS", 1, 0),
        )


@dataclass(frozen=True, slots=True)
class IngestSettings:
    """What the ingest function needs."""

    project: str
    topic: str
    allowed_origins: tuple[str, ...]
    allowed_bot_ids: frozenset[str]
    custom_event_names: frozenset[str]
    # The headers a load balancer in front of ingest adds with the client's country and
    # subdivision ({client_region}, {client_region_subdivision}); None: no load balancer.
    geo_country_header: str | None = None
    geo_region_header: str | None = None
    rate_limits: RateLimits = RateLimits()
    automated_user_agents: tuple[str, ...] = DEFAULT_AUTOMATED_USER_AGENTS

    @property
    def screen_automated_clients(self) -> bool:
        """False when ``AUTOMATED_USER_AGENTS=none`` turned screening off."""
        return bool(self.automated_user_agents)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> IngestSettings:
        """Read and check the ingest variables."""
        env = os.environ if env is None else env
        return cls(
            project=_project(env),
            topic=_topic(env, "RELAY_TOPIC", DEFAULT_TOPIC),
            allowed_origins=_origins(env),
            allowed_bot_ids=frozenset(_list(env, "ALLOWED_BOT_IDS")),
            custom_event_names=frozenset(_list(env, "CUSTOM_EVENT_NAMES")),
            geo_country_header=_header(env, "GEO_COUNTRY_HEADER"),
            geo_region_header=_header(env, "GEO_REGION_HEADER"),
            rate_limits=RateLimits.from_env(env),
            automated_user_agents=_automated_markers(env),
        )

    def origin_allowed(self, origin: str) -> bool:
        """True when a browser at ``origin`` may call ingest."""
        return "*" in self.allowed_origins or origin in self.allowed_origins

    def bot_allowed(self, bot_id: str) -> bool:
        """True when events of ``bot_id`` are accepted (any bot when none are listed)."""
        return not self.allowed_bot_ids or bot_id in self.allowed_bot_ids


@dataclass(frozen=True, slots=True, repr=False)
class RelaySettings:
    """What the relay function needs. ``repr`` never shows the API secret or the pseudonym
    key."""

    project: str
    topic: str
    dead_letter_topic: str
    measurement_id: str
    api_secret: str | None
    api_secret_name: str | None
    ga4_endpoint: str
    consent_rules_path: Path
    ga4_mapping_path: Path
    custom_event_names: frozenset[str] = frozenset()
    pseudonym_key: str | None = None
    pseudonym_key_name: str | None = None

    def __repr__(self) -> str:
        return (
            f"RelaySettings(project={self.project!r}, topic={self.topic!r}, "
            f"measurement_id={self.measurement_id!r}, ga4_endpoint={self.ga4_endpoint!r})"
        )

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> RelaySettings:
        """Read and check the relay variables."""
        env = os.environ if env is None else env
        topic = _topic(env, "RELAY_TOPIC", DEFAULT_TOPIC)
        measurement_id = env.get("GA4_MEASUREMENT_ID", "").strip()
        if not _MEASUREMENT_ID.match(measurement_id):
            raise ConfigError(
                f"GA4_MEASUREMENT_ID: {measurement_id!r} is not a web stream measurement id "
                "like G-ABC123XYZ"
            )
        secret = env.get("GA4_API_SECRET", "").strip() or None
        secret_name = env.get("GA4_API_SECRET_NAME", "").strip() or None
        if secret is None and secret_name is None:
            raise ConfigError("GA4_API_SECRET_NAME (or GA4_API_SECRET, locally) is not set")
        if secret_name is not None and not _SECRET_VERSION.match(secret_name):
            raise ConfigError(
                "GA4_API_SECRET_NAME: expected projects/<p>/secrets/<name>/versions/<v>"
            )
        key = env.get("PSEUDONYM_KEY", "").strip() or None
        key_name = env.get("PSEUDONYM_KEY_NAME", "").strip() or None
        if key is None and key_name is None:
            raise ConfigError(
                "PSEUDONYM_KEY_NAME (or PSEUDONYM_KEY, locally) is not set (the key of the "
                "client pseudonyms in logs and the consent ledger)"
            )
        if key_name is not None and not _SECRET_VERSION.match(key_name):
            raise ConfigError(
                "PSEUDONYM_KEY_NAME: expected projects/<p>/secrets/<name>/versions/<v>"
            )
        if key_name is None and key is not None and len(key) < MIN_PSEUDONYM_KEY_LENGTH:
            raise ConfigError(
                f"PSEUDONYM_KEY: the key must be at least {MIN_PSEUDONYM_KEY_LENGTH} characters"
            )
        endpoint = env.get("GA4_ENDPOINT", "").strip().rstrip("/") or DEFAULT_GA4_ENDPOINT
        if urlsplit(endpoint).scheme not in ("http", "https"):
            raise ConfigError(f"GA4_ENDPOINT: {endpoint!r} is not an http(s) URL")
        return cls(
            project=_project(env),
            topic=topic,
            dead_letter_topic=_topic(env, "DEAD_LETTER_TOPIC", f"{topic}-dead-letter"),
            measurement_id=measurement_id,
            api_secret=secret,
            api_secret_name=secret_name,
            ga4_endpoint=endpoint,
            consent_rules_path=_path(env, "CONSENT_RULES", "consent-rules.yaml"),
            ga4_mapping_path=_path(env, "GA4_MAPPING", "ga4-mapping.yaml"),
            custom_event_names=frozenset(_list(env, "CUSTOM_EVENT_NAMES")),
            pseudonym_key=key,
            pseudonym_key_name=key_name,
        )


@dataclass(frozen=True, slots=True)
class ReplaySettings:
    """What ``loyjoy-relay replay`` needs: where dead letters wait and where they go back."""

    project: str
    topic: str
    dead_letter_subscription: str

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ReplaySettings:
        """Read and check the replay variables."""
        env = os.environ if env is None else env
        topic = _topic(env, "RELAY_TOPIC", DEFAULT_TOPIC)
        return cls(
            project=_project(env),
            topic=topic,
            dead_letter_subscription=_topic(
                env, "DEAD_LETTER_SUBSCRIPTION", f"{topic}-dead-letter-replay"
            ),
        )


def secret_environment() -> Mapping[str, str]:
    """The environment, for API secrets the GA4 mapping names by variable (never logged)."""
    return os.environ


def mapping_path(env: Mapping[str, str] | None = None) -> Path:
    """The GA4 mapping file: ``GA4_MAPPING`` or the shipped copy (for the CLI)."""
    return _path(os.environ if env is None else env, "GA4_MAPPING", "ga4-mapping.yaml")
