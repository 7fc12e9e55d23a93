"""listener.js is safe on any page: served cacheable, one global, never throws, and it
keeps working when localStorage is unusable."""

from __future__ import annotations

import gzip
import urllib.request
from typing import Any

import pytest

from tests.support.processes import ServerProcess

from .conftest import Published, Tab
from .servers import Site, read_static

pytestmark = [pytest.mark.browser, pytest.mark.emulator]


def test_listener_script_is_served_with_type_and_caching(ingest: ServerProcess) -> None:
    """GET /listener.js from the real ingest process is JavaScript, cacheable for 5 minutes."""
    with urllib.request.urlopen(f"{ingest.url}/listener.js", timeout=10) as response:
        body = response.read().decode()
        headers = response.headers
    assert response.status == 200
    assert headers["Content-Type"].startswith("text/javascript")
    assert "max-age=300" in headers["Cache-Control"]
    assert headers["Access-Control-Allow-Origin"] == "*"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert body == read_static("listener.js")
    # small enough to load on every page: the page's context and banner reading took it
    # past 20 KiB unminified; compressed it is about a third of that
    assert len(body.encode()) < 24 * 1024
    assert len(gzip.compress(body.encode())) < 8 * 1024


def test_loading_defines_only_loyjoyrelay(tab: Tab, site: Site, ingest: ServerProcess) -> None:
    """Loading the script (twice) adds one global, LoyJoyRelay, with listener and flush."""
    tab.page.goto(f"{site.origin}/next.html")
    added = tab.page.evaluate(
        """async (src) => {
            const before = new Set(Object.getOwnPropertyNames(window));
            const load = () => new Promise((resolve, reject) => {
                const s = document.createElement('script');
                s.src = src; s.onload = resolve; s.onerror = reject;
                document.head.appendChild(s);
            });
            await load();
            const first = window.LoyJoyRelay;
            await load();
            return {
                added: Object.getOwnPropertyNames(window).filter(n => !before.has(n)),
                same: first === window.LoyJoyRelay,
                api: Object.keys(window.LoyJoyRelay).sort(),
                listener: typeof LoyJoyRelay.listener({endpoint: 'http://127.0.0.1:9/'}),
            };
        }""",
        f"{ingest.url}/listener.js",
    )
    assert added == {
        "added": ["LoyJoyRelay"],
        "same": True,
        "api": ["flush", "listener", "version"],
        "listener": "function",
    }


def test_odd_input_never_throws(
    tab: Tab, site: Site, ingest: ServerProcess, published: Published, bot: str
) -> None:
    """Odd arguments, throwing getters and a full localStorage never throw into the page."""
    tab.page.goto(site.page_url(endpoint=ingest.url, bot=bot))
    outcome: list[Any] = tab.page.evaluate(
        """(bot) => {
            const results = [];
            const call = (f) => { try { results.push(f() === undefined); }
                                  catch (e) { results.push('threw: ' + e); } };
            const listen = window.listenerUnderTest;
            const hostile = new Proxy({}, {get() { throw Error('no'); },
                                           ownKeys() { throw Error('no'); }});
            const getter = {get bot_id() { throw Error('no'); }};
            call(() => listen());
            call(() => listen(null, null));
            call(() => listen(42, {bot_id: bot}));
            call(() => listen('open', 'not an object'));
            call(() => listen('open', hostile));
            call(() => listen('open', getter));
            call(() => listen('open', {bot_id: {nested: true}}));
            call(() => LoyJoyRelay.listener()('open', {bot_id: bot}));
            call(() => LoyJoyRelay.listener(null)('open', {bot_id: bot}));
            call(() => LoyJoyRelay.listener({endpoint: 42})('open', {bot_id: bot}));
            call(() => LoyJoyRelay.flush());
            Storage.prototype.setItem = () => {
                throw new DOMException('full', 'QuotaExceededError');
            };
            document.cookie = '_ga=garbage';
            document.cookie = '_ga_ABC=GS2.1.$$$';
            call(() => listen('interaction', {bot_id: bot, process_id: 7}));
            call(() => LoyJoyRelay.flush());
            return results;
        }""",
        bot,
    )
    assert outcome == [True] * 13
    events = published.events(bot, 5)
    names = [event["evt"] for event in events]
    # load, then the three listeners without an endpoint of their own use the script's origin
    assert sorted(names) == ["interaction", "load", "open", "open", "open"]
    interaction = next(event for event in events if event["evt"] == "interaction")
    assert interaction["process_id"] == "7", "numbers are sent as text"
    assert interaction["client_id"] == events[0]["client_id"], "an unusable _ga is ignored"


def test_works_without_localstorage(
    context: Any, tab: Tab, site: Site, ingest: ServerProcess, published: Published, bot: str
) -> None:
    """With localStorage blocked, events still go out with an id kept for the page's life."""
    tab.page.add_init_script(
        """Object.defineProperty(window, 'localStorage',
               {get() { throw new DOMException('blocked', 'SecurityError'); }});"""
    )
    tab.page.goto(site.page_url(endpoint=ingest.url, bot=bot))
    tab.fire("open")
    tab.page.evaluate("LoyJoyRelay.flush()")
    load, opened = published.events(bot, 2)
    assert load["client_id"] == opened["client_id"]
    assert load["session_id"] == opened["session_id"]


def test_full_localstorage_keeps_the_latest_decision(
    tab: Tab, site: Site, ingest: ServerProcess, published: Published, bot: str
) -> None:
    """When localStorage fills up, the decision kept in memory wins over the stored one."""
    tab.page.goto(site.page_url(endpoint=ingest.url, bot=bot))
    tab.fire("profiling_single_opt_in")
    tab.page.evaluate(
        """() => { Storage.prototype.setItem = () => {
                       throw new DOMException('full', 'QuotaExceededError'); }; }"""
    )
    tab.fire("profiling_opt_out")
    tab.fire("interaction")
    tab.page.evaluate("LoyJoyRelay.flush()")
    events = published.events(bot, 4)
    assert [e.get("consent", {}).get("profiling") for e in events] == [
        None, "granted", "denied", "denied",
    ]  # fmt: skip
