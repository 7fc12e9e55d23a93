"""The page context listener.js stamps on each event: the browser's time zone and screen,
and the site's own consent banner (Consent Mode commands in the dataLayer, IAB TCF's
``__tcfapi``, or neither), read back from what ingest published."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.processes import ServerProcess

from .conftest import Published, Tab, watch
from .servers import Site

pytestmark = [pytest.mark.browser, pytest.mark.emulator]

ALL_DENIED = {
    "analytics_storage": "denied",
    "ad_storage": "denied",
    "ad_user_data": "denied",
    "ad_personalization": "denied",
}
CONSENT_MODE = """
window.dataLayer = window.dataLayer || [];
window.gtag = function () { dataLayer.push(arguments); };
gtag('consent', 'default', {analytics_storage: 'denied', ad_storage: 'denied',
  ad_user_data: 'denied', ad_personalization: 'denied', wait_for_update: 500});
gtag('consent', 'default', {analytics_storage: 'granted', region: ['US-CA']});
gtag('consent', 'default', {ad_personalization: 'denied', region: ['DE']});
dataLayer.push({event: 'gtm.js'}, ['consent', 'update', 'not an object']);
"""
# A CMP that answers only when the test says so: __tcfAnswer(tcData).
TCF_STUB = """
(function () {
  var listeners = [];
  window.__tcfapi = function (command, version, callback) {
    if (command === 'addEventListener' && version === 2) listeners.push(callback);
  };
  window.__tcfAnswer = function (data) {
    listeners.forEach(function (cb) { cb(data, true); });
  };
})();
"""


@pytest.fixture
def berlin_tab(browser: Any, ingest: ServerProcess) -> Iterator[Tab]:
    """A fresh page in a browser set to Berlin's time zone with a 1280x800 screen."""
    context = browser.new_context(
        timezone_id="Europe/Berlin", screen={"width": 1280, "height": 800}
    )
    opened = watch(context.new_page())
    yield opened
    context.close()
    assert opened.errors == [], "the page logged errors"


def fire_and_read(tab: Tab, published: Published, bot: str, count: int) -> dict[str, Any]:
    """Fire one interaction, flush, and return the newest published event of ``bot``."""
    tab.fire("interaction")
    tab.page.evaluate("LoyJoyRelay.flush()")
    return published.events(bot, count)[-1]


def test_a_page_without_a_banner_sends_time_zone_and_screen_only(
    berlin_tab: Tab, site: Site, ingest: ServerProcess, published: Published, bot: str
) -> None:
    """Without Consent Mode or TCF on the page no ``site_consent`` is stamped; the time zone
    and screen always are."""
    berlin_tab.page.goto(site.page_url(endpoint=ingest.url, bot=bot, datalayer="1"))
    event = fire_and_read(berlin_tab, published, bot, 2)
    assert event["time_zone"] == "Europe/Berlin"
    assert event["screen_resolution"] == "1280x800"
    assert "site_consent" not in event


def test_consent_mode_defaults_then_the_last_update_wins(
    berlin_tab: Tab, site: Site, ingest: ServerProcess, published: Published, bot: str
) -> None:
    """The dataLayer's ``consent`` commands: defaults (a region-scoped grant never lifts a
    denial), then each update over them, the last one winning."""
    berlin_tab.page.add_init_script(CONSENT_MODE)
    berlin_tab.page.goto(site.page_url(endpoint=ingest.url, bot=bot))
    first = fire_and_read(berlin_tab, published, bot, 2)
    assert first["site_consent"] == {**ALL_DENIED, "source": "consent_mode"}
    berlin_tab.page.evaluate(
        "gtag('consent', 'update', {analytics_storage: 'granted', ad_user_data: 'granted'})"
    )
    second = fire_and_read(berlin_tab, published, bot, 3)
    assert second["site_consent"] == {
        **ALL_DENIED,
        "analytics_storage": "granted",
        "ad_user_data": "granted",
        "source": "consent_mode",
    }
    berlin_tab.page.evaluate("gtag('consent', 'update', {analytics_storage: 'denied'})")
    third = fire_and_read(berlin_tab, published, bot, 4)
    assert third["site_consent"]["analytics_storage"] == "denied"
    assert third["site_consent"]["ad_user_data"] == "granted"


def test_tcf_purposes_become_the_signals_and_an_unanswered_cmp_denies(
    berlin_tab: Tab, site: Site, ingest: ServerProcess, published: Published, bot: str
) -> None:
    """With ``__tcfapi`` on the page: before the CMP answers every signal is denied; then
    Purpose 1 grants analytics storage, Google's vendor consent with Purposes 1 and 7 ad
    user data, and 3 and 4 ad personalisation; a later choice replaces it."""
    berlin_tab.page.add_init_script(TCF_STUB)
    berlin_tab.page.goto(site.page_url(endpoint=ingest.url, bot=bot))
    waiting = fire_and_read(berlin_tab, published, bot, 2)
    assert waiting["site_consent"] == {**ALL_DENIED, "source": "tcf"}
    berlin_tab.page.evaluate(
        """__tcfAnswer({gdprApplies: true, eventStatus: 'tcloaded',
            purpose: {consents: {1: true, 3: true, 4: false, 7: true}},
            vendor: {consents: {755: true}}})"""
    )
    loaded = fire_and_read(berlin_tab, published, bot, 3)
    assert loaded["site_consent"] == {
        "analytics_storage": "granted",
        "ad_storage": "granted",
        "ad_user_data": "granted",
        "ad_personalization": "denied",
        "source": "tcf",
    }
    berlin_tab.page.evaluate(
        """__tcfAnswer({gdprApplies: true, eventStatus: 'useractioncomplete',
            purpose: {consents: {}}, vendor: {consents: {}}})"""
    )
    withdrawn = fire_and_read(berlin_tab, published, bot, 4)
    assert withdrawn["site_consent"] == {**ALL_DENIED, "source": "tcf"}
    berlin_tab.page.evaluate("__tcfAnswer({gdprApplies: false, eventStatus: 'tcloaded'})")
    outside_gdpr = fire_and_read(berlin_tab, published, bot, 5)
    assert "site_consent" not in outside_gdpr
