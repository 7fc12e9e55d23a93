"""The listener meets ingest's rate limit in Chromium: it keeps the events and comes back
after Retry-After, against the real ingest with a tight per-client limit."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conftest import PROJECT
from tests.support.emulators import Emulator
from tests.support.net import wait_until
from tests.support.processes import ServerProcess, function_process

from .conftest import Published, Tab
from .servers import FaultProxy, Site

# One request at once per client, then one every 5 s: the second batch, a second or two
# after the first, gets "429, Retry-After: 3" or 4, longer than the listener's own first
# backoff (0.8 to 1.2 s), so a retry that honours it is told apart from one that does not.
LIMITS = {"CLIENT_RATE_BURST": "1", "CLIENT_RATE_PER_SECOND": "0.2"}


@pytest.fixture(scope="module")
def limited_proxy(
    pubsub_emulator: Emulator, browser_subscription: tuple[str, str], site: Site
) -> Iterator[FaultProxy]:
    """A proxy (to watch the requests) in front of a real ingest with a tight client limit."""
    topic, _ = browser_subscription
    process: ServerProcess = function_process(
        "ingest",
        {
            "GOOGLE_CLOUD_PROJECT": PROJECT,
            "RELAY_TOPIC": topic,
            "ALLOWED_ORIGINS": site.origin,
            "PUBSUB_EMULATOR_HOST": pubsub_emulator.host,
            **LIMITS,
        },
    ).start()
    proxy = FaultProxy(process.url).start()
    yield proxy
    proxy.stop()
    process.stop()


def test_a_rate_limited_batch_is_kept_and_sent_after_retry_after(
    tab: Tab, site: Site, limited_proxy: FaultProxy, published: Published, bot: str
) -> None:
    """429 with Retry-After → the same batch again no sooner than that, then 202; every
    event published once, nothing left in the queue."""
    endpoint = limited_proxy.url
    tab.expect_failed_requests(endpoint)
    tab.page.goto(site.page_url(endpoint=endpoint, bot=bot))
    first = limited_proxy.wait_posts(1)[0]
    assert first.status == 202
    tab.fire("open")
    tab.fire("start")
    _, refused, retried = limited_proxy.wait_posts(3)
    assert (refused.status, retried.status) == (429, 202)
    assert refused.events() == retried.events(), "the same batch, kept and resent"
    retry_after = int(refused.returned["Retry-After"])
    assert retry_after >= 2
    assert retried.at - refused.at >= retry_after - 0.1, "not before Retry-After"
    events = published.events(bot, 3)
    assert [e["evt"] for e in events] == ["load", "open", "start"]
    wait_until(lambda: not tab.storage().get(f"queue:{endpoint}"), what="the stored queue to empty")
    assert published.count(bot) == 3
