"""The demo page: its buttons fire LoyJoy events through the real listener.js to ingest."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest

from tests.support.processes import ServerProcess

from .conftest import Published, Tab
from .servers import Site

pytestmark = [pytest.mark.browser, pytest.mark.emulator]


def test_demo_buttons_reach_ingest_with_consent_stamps(
    tab: Tab, site: Site, ingest: ServerProcess, published: Published, bot: str
) -> None:
    """Clicking through an opt-in and an opt-out on the demo page publishes stamped events."""
    query = urlencode({"endpoint": ingest.url, "bot": bot, "measurement_id": "G-DEMO1"})
    tab.page.goto(f"{site.origin}/static/demo.html?{query}")
    tab.page.click("text=Set _ga + GS2 session")
    for label in ("Open the chat", "Opt in", "First interaction", "Opt out", "End"):
        tab.page.click(f"button:text-is('{label}')")
    tab.page.click("#flush")
    events = published.events(bot, 6)
    assert [e["evt"] for e in events] == [
        "load", "open", "profiling_single_opt_in", "interaction", "profiling_opt_out", "end",
    ]  # fmt: skip
    assert [e.get("consent", {}).get("profiling") for e in events] == [
        None, None, "granted", "granted", "denied", "denied",
    ]  # fmt: skip
    cookie_client = tab.page.evaluate("document.cookie.match(/_ga=GA1\\.1\\.(\\d+\\.\\d+)/)[1]")
    assert {e["client_id"] for e in events[1:]} == {cookie_client}
    assert all(e["session_id"].isdigit() for e in events[1:])
    tab.page.wait_for_selector("#log li.ok")
    assert "202" in tab.page.inner_text("#log")
    assert tab.page.is_hidden("#problem")


def test_demo_page_without_endpoint_says_what_to_add(tab: Tab, site: Site) -> None:
    """Opened without ?endpoint=, the demo page explains what to add instead of failing."""
    tab.page.goto(f"{site.origin}/static/demo.html")
    assert "?endpoint=" in tab.page.inner_text("#problem")
