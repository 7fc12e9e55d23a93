"""Reading the device from a request's ``User-Agent`` and client hints (ua-parser).

The library is ``ua-parser`` (Apache-2.0, uap-python) with its regexes from
``ua-parser-builtins`` (released monthly). Loading those regexes is I/O and costs time,
so it stays out of the import path: the library is imported, and its regexes compiled
(lazily, as far as a user agent needs), on the first request without client hints. The
pure-Python resolver is used on purpose: the Rust one (``ua-parser-rs``) parses 40 times
faster but compiles every regex up front (≈ 110-170 ms), which a cold start would pay on
its first request; the cache below makes the per-request cost small either way
(bench/README.md, "Device context").

Each distinct (user agent, hints) pair is derived once per instance and kept in a bounded
LRU cache of the derived facts. The raw user agent lives only in that in-memory cache key:
it is never published, stored or logged.
"""

from __future__ import annotations

import functools
import threading
from typing import Any, Protocol

from loyjoy_relay.core.context.device import (
    MAX_HINT,
    MAX_USER_AGENT,
    ClientHints,
    DeviceFacts,
    ParsedAgent,
    device_facts,
)

DEFAULT_CACHE_SIZE = 4096
HINT_HEADERS = (
    "Sec-CH-UA",
    "Sec-CH-UA-Mobile",
    "Sec-CH-UA-Platform",
    "Sec-CH-UA-Platform-Version",
    "Sec-CH-UA-Form-Factors",
)


class Headers(Protocol):
    """A request's headers, looked up by name without regard to case (werkzeug's, a dict
    with exact names in tests)."""

    def get(self, key: str, /) -> str | None:
        """The header's value, or None."""


class UaParserAgents:
    """ua-parser's user-agent and OS domains, loaded on first use (thread-safe)."""

    def __init__(self) -> None:
        self._resolver: Any = None
        self._domains: Any = None
        self._lock = threading.Lock()

    def _load(self) -> Any:
        with self._lock:
            if self._resolver is None:
                from ua_parser import BasicResolver, Domain, load_lazy_builtins

                self._domains = Domain.USER_AGENT | Domain.OS
                self._resolver = BasicResolver(load_lazy_builtins())
        return self._resolver

    @property
    def loaded(self) -> bool:
        """True once the library and its regexes are in memory."""
        return self._resolver is not None

    def __call__(self, user_agent: str) -> ParsedAgent:
        """The browser and OS families and majors of ``user_agent``."""
        resolver = self._resolver if self._resolver is not None else self._load()
        result = resolver(user_agent, self._domains)
        agent, system = result.user_agent, result.os
        return ParsedAgent(
            browser=agent.family if agent else None,
            browser_major=agent.major if agent else None,
            os=system.family if system else None,
            os_major=system.major if system else None,
        )


class DeviceReader:
    """The device facts of a request's headers, cached per distinct user agent and hints."""

    def __init__(
        self, agents: UaParserAgents | None = None, *, cache_size: int = DEFAULT_CACHE_SIZE
    ) -> None:
        self.agents = agents if agents is not None else UaParserAgents()
        self._derive = functools.lru_cache(maxsize=cache_size)(self._uncached)

    def _uncached(self, user_agent: str, hints: ClientHints) -> DeviceFacts:
        return device_facts(user_agent, hints, self.agents)

    def read(self, headers: Headers) -> DeviceFacts:
        """The facts of one request's ``User-Agent`` and ``Sec-CH-UA*`` headers."""
        user_agent = (headers.get("User-Agent") or "")[:MAX_USER_AGENT]
        values = [(headers.get(name) or None) for name in HINT_HEADERS]
        hints = ClientHints(*(value[:MAX_HINT] if value else None for value in values))
        return self._derive(user_agent, hints)

    def cache_info(self) -> functools._CacheInfo:
        """Hits, misses and size of the cache (for tests and benchmarks)."""
        return self._derive.cache_info()
