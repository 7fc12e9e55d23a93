"""How listener.js delivers: batches, size limits, the beacon on page hide, retries with
backoff, events kept across page loads, and what it does not retry."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.net import wait_until
from tests.support.processes import ServerProcess

from .conftest import Published, Tab, watch
from .servers import FaultProxy, Site

pytestmark = [pytest.mark.browser, pytest.mark.emulator]

HOLD = {"batchDelay": 60_000}  # nothing leaves on the timer while the test runs


def fire_many(tab: Tab, names: list[str], fields: dict[str, Any] | None = None) -> None:
    """Fire several events in one go (one JavaScript task)."""
    tab.page.evaluate(
        "([names, fields]) => names.forEach(n => LoyJoy.fire(n, fields))", [names, fields or {}]
    )


def queue_in_storage(tab: Tab, endpoint: str) -> list[dict[str, Any]]:
    """The unsent events the listener keeps in localStorage for ``endpoint``."""
    return list(tab.storage().get(f"queue:{endpoint}", []))


def test_events_are_sent_in_one_batch(
    tab: Tab, site: Site, proxy: FaultProxy, published: Published, bot: str
) -> None:
    """Events fired close together go out in one fetch request and one Pub/Sub message."""
    tab.page.goto(site.page_url(endpoint=proxy.url, bot=bot, boot="0"))
    tab.page.evaluate(  # boot and five events in one task: the batch delay is the only timer
        """([endpoint, bot]) => {
            LoyJoy('boot', {bot, eventListeners: [LoyJoyRelay.listener({endpoint})]});
            for (const evt of ['open', 'start', 'interaction',
                               'data_collection_question_answered', 'end']) LoyJoy.fire(evt);
        }""",
        [proxy.url, bot],
    )
    batches = published.batches(bot, 6)
    assert [len(batch["events"]) for batch in batches] == [6]
    [request] = proxy.wait_posts(1)
    assert request.status == 202
    assert request.headers["Content-Type"] == "text/plain", "no CORS preflight"
    assert request.headers["Sec-Fetch-Mode"] == "cors", "sent by fetch, not the beacon"
    assert [e["evt"] for e in request.events()][:2] == ["load", "open"]
    assert not [r for r in proxy.seen if r.method == "OPTIONS"]


def test_size_cap_splits_batches(
    tab: Tab, site: Site, proxy: FaultProxy, published: Published, bot: str
) -> None:
    """More than 20 queued events go out in several requests of at most 20."""
    tab.page.goto(site.page_url(endpoint=proxy.url, bot=bot, options=HOLD))
    fire_many(tab, ["interaction"] * 44)
    events = published.events(bot, 45)
    assert len({event["event_id"] for event in events}) == 45
    assert [len(request.events()) for request in proxy.wait_posts(3)] == [20, 20, 5]


def test_bodies_stay_under_64_kib(
    tab: Tab, site: Site, proxy: FaultProxy, published: Published, bot: str
) -> None:
    """Large events are split so that no request body reaches 64 KiB."""
    big = {
        "url": "https://shop.example.com/" + "p" * 3000,
        "label": "l" * 600,
        "sub_process_name": "s" * 600,
    }
    tab.page.goto(site.page_url(endpoint=proxy.url, bot=bot, options=HOLD))
    fire_many(tab, ["link_clicked"] * 19, big)
    tab.page.evaluate("LoyJoyRelay.flush()")
    events = published.events(bot, 20)
    assert len(proxy.wait_posts(2)) >= 2
    assert all(len(request.body) < 64 * 1024 for request in proxy.posts())
    assert all(request.status == 202 for request in proxy.posts())
    clicked = [event for event in events if event["evt"] == "link_clicked"]
    assert {len(event["url"]) for event in clicked} == {2048}, "cut to the contract's limit"


def hide_tab(tab: Tab) -> None:
    """What a browser does on a tab switch: visibilityState hidden, a visibilitychange."""
    tab.page.evaluate(
        """() => { Object.defineProperty(document, 'visibilityState',
                       {configurable: true, get: () => 'hidden'});
                   document.dispatchEvent(new Event('visibilitychange')); }"""
    )


def test_beacon_sends_queued_events_when_the_page_is_left(
    tab: Tab, site: Site, proxy: FaultProxy, published: Published, bot: str
) -> None:
    """Queued events leave with navigator.sendBeacon when the page is left (pagehide)."""
    tab.page.goto(site.page_url(endpoint=proxy.url, bot=bot, options=HOLD))
    fire_many(tab, ["open", "interaction"])
    assert proxy.posts() == [], "held by the batch delay"
    tab.page.click("#away")
    assert [e["evt"] for e in published.events(bot, 3)] == ["load", "open", "interaction"]
    [request] = proxy.wait_posts(1)
    assert request.headers["Sec-Fetch-Mode"] == "no-cors", "sent by sendBeacon"
    assert request.headers["Content-Type"].startswith("text/plain")
    assert queue_in_storage(tab, proxy.url) == []


def test_a_tab_switch_sends_with_a_fetch_whose_answer_counts(
    tab: Tab, site: Site, proxy: FaultProxy, published: Published, bot: str
) -> None:
    """On a tab switch queued events leave at once with a keepalive fetch, not a beacon: a
    503 from ingest is retried like any failed batch, so nothing is given up."""
    proxy.fail(1, status=503)
    tab.expect_failed_requests(proxy.url)
    tab.page.goto(site.page_url(endpoint=proxy.url, bot=bot, options=HOLD))
    fire_many(tab, ["open", "interaction"])
    hide_tab(tab)
    events = published.events(bot, 3)
    assert [e["evt"] for e in events] == ["load", "open", "interaction"]
    refused, accepted = proxy.wait_posts(2)
    assert (refused.status, accepted.status) == (503, 202)
    assert refused.headers["Sec-Fetch-Mode"] == "cors", "a fetch, whose answer is read"
    assert refused.events() == accepted.events(), "the same batch, retried"
    wait_until(lambda: queue_in_storage(tab, proxy.url) == [], what="the stored queue to empty")
    assert published.count(bot) == 3, "each event published once"


def test_pagehide_hands_events_in_flight_to_the_beacon(
    tab: Tab, site: Site, proxy: FaultProxy, published: Published, bot: str
) -> None:
    """A fetch still in flight when the page is left does not hold its events back: they go
    with the beacon too, beside what was queued (a second copy is the relay's to drop)."""
    proxy.hold(1)
    tab.page.goto(site.page_url(endpoint=proxy.url, bot=bot, options=HOLD))
    fire_many(tab, ["open"])
    tab.page.evaluate("LoyJoyRelay.flush()")
    wait_until(lambda: proxy.holding() == 1, what="the fetch to be in flight")
    fire_many(tab, ["interaction"])
    tab.page.click("#away")
    events = published.events(bot, 3)
    assert [e["evt"] for e in events] == ["load", "open", "interaction"]
    [beacon] = proxy.wait_posts(1)
    assert beacon.headers["Sec-Fetch-Mode"] == "no-cors", "sent by sendBeacon"
    assert [e["evt"] for e in beacon.events()] == ["load", "open", "interaction"]
    proxy.release()  # the late copy reaches ingest too: the relay drops it by event_id
    late = proxy.wait_posts(2)[1]
    assert [e["event_id"] for e in late.events()] == [e["event_id"] for e in events[:2]]


def test_a_long_title_ending_in_an_emoji_is_cut_whole_and_delivered(
    tab: Tab, site: Site, ingest: ServerProcess, published: Published, bot: str
) -> None:
    """Text is cut by code points: a 512-character title ending in an emoji keeps the whole
    emoji, and half an emoji in the page's own text is sent as U+FFFD; ingest takes both."""
    tab.page.goto(site.page_url(endpoint=ingest.url, bot=bot, boot="0"))
    title = "x" * 511 + "\U0001f600" + " and more"
    tab.page.evaluate(
        """([endpoint, bot, title]) => {
            document.title = title;
            LoyJoy('boot', {bot, eventListeners: [LoyJoyRelay.listener({endpoint})]});
            LoyJoy.fire('start', {label: 'Yes \\ud83d'});
            LoyJoyRelay.flush();
        }""",
        [ingest.url, bot, title],
    )
    events = published.events(bot, 2)
    assert [e["evt"] for e in events] == ["load", "start"]
    assert {e["page_title"] for e in events} == {"x" * 511 + "\U0001f600"}
    assert events[1]["label"] == "Yes \ufffd"


@pytest.mark.parametrize(
    "fault",
    [pytest.param(503, id="503"), pytest.param(429, id="429"), pytest.param(0, id="network-error")],
)
def test_failed_batch_is_retried_with_backoff(
    tab: Tab, site: Site, proxy: FaultProxy, published: Published, bot: str, fault: int
) -> None:
    """A batch that met a 503, 429 or network error is sent again, later each time."""
    proxy.fail(2, status=fault)
    tab.expect_failed_requests(proxy.url)
    tab.page.goto(site.page_url(endpoint=proxy.url, bot=bot))
    tab.fire("open")
    events = published.events(bot, 2)
    assert [e["evt"] for e in events] == ["load", "open"]
    first, second, third = proxy.wait_posts(3)
    assert [first.status, second.status, third.status] == [fault, fault, 202]
    assert first.events() == second.events() == third.events(), "the same batch, resent"
    assert 0.7 < second.at - first.at < third.at - second.at, "the wait grows"
    wait_until(lambda: queue_in_storage(tab, proxy.url) == [], what="the stored queue to empty")
    assert published.count(bot) == 2


def test_unsent_events_survive_the_page(
    context: Any, tab: Tab, site: Site, proxy: FaultProxy, published: Published, bot: str
) -> None:
    """Events that could not be sent stay in localStorage and go out on the next page load."""
    proxy.fail(1000)
    tab.expect_failed_requests(proxy.url)
    url = site.page_url(endpoint=proxy.url, bot=bot)
    tab.page.goto(url)
    tab.fire("interaction")
    wait_until(lambda: len(proxy.posts()) >= 1, what="a first, failed attempt")
    stored = queue_in_storage(tab, proxy.url)
    assert [e["evt"] for e in stored] == ["load", "interaction"]
    tab.page.close()  # while ingest still fails: no beacon, the events stay stored

    proxy.fail(0)
    again = watch(context.new_page())
    again.page.goto(url)
    events = published.events(bot, 3)
    assert [e["evt"] for e in events] == ["load", "interaction", "load"]
    assert {e["event_id"] for e in stored} <= {e["event_id"] for e in events}
    wait_until(lambda: queue_in_storage(again, proxy.url) == [], what="the stored queue to empty")
    assert again.errors == []


def test_stored_queue_is_bounded(tab: Tab, site: Site, proxy: FaultProxy, bot: str) -> None:
    """With ingest down, at most 500 events are kept, the newest ones."""
    proxy.fail(100_000)
    tab.expect_failed_requests(proxy.url)
    tab.page.goto(site.page_url(endpoint=proxy.url, bot=bot, options=HOLD))
    tab.page.evaluate(
        "() => { for (let i = 0; i < 600; i++) LoyJoy.fire('interaction', {label: String(i)}); }"
    )
    stored = queue_in_storage(tab, proxy.url)
    assert len(stored) == 500
    assert [e["label"] for e in stored] == [str(i) for i in range(100, 600)]


@pytest.mark.parametrize("status", [400, 403, 413])
def test_final_answers_are_not_retried(
    tab: Tab, site: Site, proxy: FaultProxy, published: Published, bot: str, status: int
) -> None:
    """A 4xx other than 429 drops the batch: it is not sent again."""
    proxy.fail(1, status=status)
    tab.expect_failed_requests(proxy.url)
    tab.page.goto(site.page_url(endpoint=proxy.url, bot=bot))
    wait_until(lambda: proxy.answered() == [status], what="the refused first batch")
    tab.fire("open")
    tab.page.evaluate("LoyJoyRelay.flush()")
    assert [e["evt"] for e in published.events(bot, 1)] == ["open"]
    refused, accepted = proxy.wait_posts(2)
    assert (refused.status, accepted.status) == (status, 202)
    assert [e["evt"] for e in accepted.events()] == ["open"]
    wait_until(lambda: queue_in_storage(tab, proxy.url) == [], what="the stored queue to empty")


def test_flush_sends_at_once(
    tab: Tab, site: Site, ingest: ServerProcess, published: Published, bot: str
) -> None:
    """LoyJoyRelay.flush() sends what is queued without waiting for the batch delay."""
    tab.page.goto(site.page_url(endpoint=ingest.url, bot=bot, options=HOLD))
    tab.fire("open")
    tab.page.evaluate("LoyJoyRelay.flush()")
    assert [e["evt"] for e in published.events(bot, 2, timeout=20)] == ["load", "open"]


def test_retries_stop_after_ten_attempts_until_the_next_page(
    context: Any, tab: Tab, site: Site, proxy: FaultProxy, published: Published, bot: str
) -> None:
    """After ten failed attempts a page stops retrying; the next page load sends the events."""
    proxy.fail(100_000)
    tab.expect_failed_requests(proxy.url)
    tab.page.clock.install()
    url = site.page_url(endpoint=proxy.url, bot=bot)
    tab.page.goto(url)
    for attempt in range(1, 11):
        proxy.wait_posts(attempt)
        tab.page.clock.fast_forward("01:30")  # past the longest wait so far (60 s + 20 %)
    tab.page.clock.fast_forward("30:00")
    tab.fire("interaction")  # queued, not sent: this page gave up
    tab.page.clock.fast_forward("30:00")
    assert len(proxy.posts_after(1.0)) == 10
    assert [e["evt"] for e in queue_in_storage(tab, proxy.url)] == ["load", "interaction"]
    tab.page.close()

    proxy.fail(0)
    again = watch(context.new_page())
    again.page.goto(url)
    assert [e["evt"] for e in published.events(bot, 3)] == ["load", "interaction", "load"]
    assert again.errors == []


def test_beacons_beyond_the_browser_quota_wait_for_the_next_page(
    context: Any, tab: Tab, site: Site, proxy: FaultProxy, published: Published, bot: str
) -> None:
    """On page hide, what sendBeacon refuses (64 KiB quota) stays stored and goes out later."""
    big = {"url": "https://shop.example.com/" + "p" * 3000, "label": "l" * 600}
    url = site.page_url(endpoint=proxy.url, bot=bot, options={**HOLD, "maxBatch": 200})
    tab.page.goto(url)
    fire_many(tab, ["link_clicked"] * 39, big)  # about 150 KB: more than the beacon quota
    tab.page.click("#away")
    beaconed = proxy.wait_posts(1)
    assert all(r.headers["Sec-Fetch-Mode"] == "no-cors" for r in beaconed)

    again = watch(context.new_page())
    again.page.goto(url)
    again.page.evaluate("LoyJoyRelay.flush()")
    events = published.events(bot, 41)
    assert len({e["event_id"] for e in events}) == len(events) == 41, "each event once"

    def kept_for_the_next_page() -> list[dict[str, Any]]:
        later = [r for r in proxy.posts() if r.headers["Sec-Fetch-Mode"] == "cors"]
        return [e for r in later for e in r.events() if e["evt"] == "link_clicked"]

    wait_until(lambda: bool(kept_for_the_next_page()), what="the rest sent by the next page")
    assert again.errors == []
