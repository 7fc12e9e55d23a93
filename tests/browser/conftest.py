"""Fixtures for the browser tests: headless Chromium, the test site, ingest, a fault proxy.

One Chromium, one ingest process (publishing to the Pub/Sub emulator) and one proxy serve
the whole session; each test gets a fresh browser context (cookies, localStorage) and its
own bot id, so what it reads from Pub/Sub is only its own.
"""

from __future__ import annotations

import json
import uuid
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import PROJECT, create_topic_and_subscription
from tests.support.emulators import Emulator, unavailable
from tests.support.processes import ServerProcess, function_process

from .servers import FaultProxy, Site

CHROMIUM = Path("/usr/bin/chromium")
# Headless Chromium says "HeadlessChrome" in its User-Agent, which ingest refuses as an
# automated client (as it should); the pages here play real visitors, so they present a
# desktop Chrome's User-Agent.
VISITOR_USER_AGENT = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
CHROMIUM_ARGS = [
    f"--user-agent={VISITOR_USER_AGENT}",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Debian's headless Chromium driven by Playwright (never Playwright's own browsers)."""
    if not CHROMIUM.exists():
        unavailable(f"{CHROMIUM} is missing (make browser installs Debian's chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def browser_subscription(pubsub_emulator: Emulator) -> tuple[str, str]:
    """A topic for the session's ingest process and a pull subscription on it."""
    return create_topic_and_subscription("browser")


@pytest.fixture(scope="session")
def site() -> Iterator[Site]:
    """The website under test (its origin is the one ingest allows)."""
    served = Site().start()
    yield served
    served.stop()


@pytest.fixture(scope="session")
def ingest(
    pubsub_emulator: Emulator, browser_subscription: tuple[str, str], site: Site
) -> Iterator[ServerProcess]:
    """The real ingest function under functions-framework, allowing the site's origin."""
    topic, _ = browser_subscription
    process = function_process(
        "ingest",
        {
            "GOOGLE_CLOUD_PROJECT": PROJECT,
            "RELAY_TOPIC": topic,
            "ALLOWED_ORIGINS": site.origin,
            "ALLOWED_BOT_IDS": "",
            "PUBSUB_EMULATOR_HOST": pubsub_emulator.host,
        },
    ).start()
    site.listener_url = f"{process.url}/listener.js"
    yield process
    process.stop()


@pytest.fixture(scope="session")
def session_proxy(ingest: ServerProcess) -> Iterator[FaultProxy]:
    """A proxy in front of ingest that can answer faults."""
    proxy = FaultProxy(ingest.url).start()
    yield proxy
    proxy.stop()


@pytest.fixture
def proxy(session_proxy: FaultProxy) -> FaultProxy:
    """The proxy, healed and with nothing seen."""
    session_proxy.reset()
    return session_proxy


@dataclass
class Published:
    """What ingest published, read from the emulator and sorted by bot."""

    subscription: str
    by_bot: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))

    def _pull_once(self, wait: float) -> None:
        from google.api_core.exceptions import DeadlineExceeded
        from google.cloud import pubsub_v1

        subscriber = pubsub_v1.SubscriberClient()
        try:
            response = subscriber.pull(
                request={"subscription": self.subscription, "max_messages": 100}, timeout=wait
            )
        except DeadlineExceeded:
            return
        if not response.received_messages:
            return
        subscriber.acknowledge(
            request={
                "subscription": self.subscription,
                "ack_ids": [m.ack_id for m in response.received_messages],
            }
        )
        for received in response.received_messages:
            batch = json.loads(received.message.data)
            # one message per client: each bot's share of it, in the message's order
            for bot in dict.fromkeys(event["bot_id"] for event in batch["events"]):
                events = [event for event in batch["events"] if event["bot_id"] == bot]
                self.by_bot[bot].append({**batch, "events": events})

    def batches(self, bot: str, events: int, timeout: float = 30.0) -> list[dict[str, Any]]:
        """The messages for ``bot``, once they hold at least ``events`` events."""
        import time

        deadline = time.monotonic() + timeout
        while self.count(bot) < events and time.monotonic() < deadline:
            self._pull_once(wait=2.0)
        assert self.count(bot) >= events, f"published {self.count(bot)} of {events} events"
        return self.by_bot[bot]

    def events(self, bot: str, count: int, timeout: float = 30.0) -> list[dict[str, Any]]:
        """The published events of ``bot`` (at least ``count``), in client time order."""
        batches = self.batches(bot, count, timeout)
        found = [event for batch in batches for event in batch["events"]]
        return sorted(found, key=lambda event: (event["client_ts"], event["received_at"]))

    def count(self, bot: str) -> int:
        """How many events of ``bot`` were published so far."""
        return sum(len(batch["events"]) for batch in self.by_bot[bot])


@pytest.fixture(scope="session")
def published(browser_subscription: tuple[str, str]) -> Published:
    """The reader of everything ingest published in this session."""
    return Published(browser_subscription[1])


@pytest.fixture
def bot() -> str:
    """A bot id of this test alone."""
    return str(uuid.uuid4())


@dataclass
class Tab:
    """A page of the test site, with the console errors and page errors it produced."""

    page: Any
    errors: list[str] = field(default_factory=list)
    failing_url: str | None = None

    def expect_failed_requests(self, url: str) -> None:
        """Accept Chromium's own network log line for requests to ``url`` that a test
        makes fail on purpose ("Failed to load resource: ..."): the browser writes it,
        not the page's scripts, and no script can prevent it."""
        self.failing_url = url

    def on_console(self, message: Any) -> None:
        """Record a console error, unless it is an expected failed request."""
        if message.type != "error":
            return
        where = str((message.location or {}).get("url", ""))
        expected = self.failing_url is not None and where.startswith(self.failing_url)
        if not (expected and message.text.startswith("Failed to load resource")):
            self.errors.append(f"console: {message.text} ({where})")

    def fire(self, evt: str, fields: dict[str, Any] | None = None) -> None:
        """Make the LoyJoy stand-in fire ``evt`` through the configured listeners."""
        self.page.evaluate("([evt, fields]) => LoyJoy.fire(evt, fields)", [evt, fields or {}])

    def wait_until_sent(self, endpoint: str) -> None:
        """Wait until the listener holds nothing for ``endpoint``, queued or in flight (a
        page left while a fetch is in flight hands its events to the beacon as well, and
        ingest publishes that second copy: a test that counts copies waits first)."""
        from tests.support.net import wait_until

        wait_until(
            lambda: not self.storage().get(f"queue:{endpoint}"),
            timeout=30,
            what="the listener's queue to be sent and answered",
        )

    def storage(self) -> dict[str, Any]:
        """The listener's localStorage entries, decoded."""
        raw = self.page.evaluate(
            """() => Object.fromEntries(Object.keys(localStorage)
                .filter(k => k.startsWith('loyjoy_relay.'))
                .map(k => [k.slice('loyjoy_relay.'.length), localStorage.getItem(k)]))"""
        )
        return {key: json.loads(value) for key, value in raw.items()}


@pytest.fixture
def context(browser: Any, ingest: ServerProcess) -> Iterator[Any]:
    """A fresh browser context: no cookies, empty localStorage."""
    fresh = browser.new_context()
    yield fresh
    fresh.close()


@pytest.fixture
def tab(context: Any) -> Iterator[Tab]:
    """A page that records console errors and uncaught errors; the test fails on any."""
    opened = watch(context.new_page())
    yield opened
    assert opened.errors == [], "the page logged errors"


def watch(page: Any) -> Tab:
    """A Tab recording the console errors and uncaught errors of ``page``."""
    opened = Tab(page)
    page.on("console", opened.on_console)
    page.on("pageerror", lambda error: opened.errors.append(f"pageerror: {error}"))
    return opened
