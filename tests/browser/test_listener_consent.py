"""The consent stamps listener.js puts on events when a visitor chats with several bots,
read back from what ingest published (one message per client, all bots together)."""

from __future__ import annotations

import json

import pytest

from tests.support.processes import ServerProcess

from .conftest import Published, Tab
from .servers import Site

pytestmark = [pytest.mark.browser, pytest.mark.emulator]


def test_a_revocation_in_one_bots_chat_stamps_the_next_event_of_another_bot_denied(
    tab: Tab, site: Site, ingest: ServerProcess, published: Published, bot: str
) -> None:
    """After an opt-out in bot A's chat, bot B's next event (B had opted in before) carries
    A's revocation as its stamp, with the event that made it; B's own later opt-in grants
    again for B only."""
    other = "other-" + bot
    tab.page.goto(site.page_url(endpoint=ingest.url, bot=bot))
    for evt, on in (
        ("profiling_single_opt_in", bot),
        ("profiling_double_opt_in", other),
        ("interaction", other),
        ("profiling_opt_out", bot),
        ("interaction", other),
    ):
        tab.fire(evt, {"bot_id": on})
    tab.page.evaluate("LoyJoyRelay.flush()")
    mine = {event["evt"]: event for event in published.events(bot, 3)}
    before, after = [e for e in published.events(other, 3) if e["evt"] == "interaction"]
    opt_out = mine["profiling_opt_out"]
    assert before["consent"]["profiling"] == "granted"
    assert before["consent"]["evt"] == "profiling_double_opt_in"
    assert after["consent"] == {
        "profiling": "denied",
        "at": opt_out["consent"]["at"],
        "evt": "profiling_opt_out",
    }
    assert after["client_ts"] >= opt_out["client_ts"]

    tab.wait_until_sent(ingest.url)
    tab.page.reload()  # the revocation outlives the page, for every bot
    tab.fire("start", {"bot_id": other})
    tab.fire("profiling_double_opt_in", {"bot_id": other})
    tab.fire("end", {"bot_id": other})
    tab.fire("end", {"bot_id": bot})
    tab.page.evaluate("LoyJoyRelay.flush()")
    later = published.events(other, 6)[-3:]
    assert [e["evt"] for e in later] == ["start", "profiling_double_opt_in", "end"]
    assert [e["consent"]["profiling"] for e in later] == ["denied", "granted", "granted"]
    [*_, mine_end] = published.events(bot, 5)
    assert mine_end["evt"] == "end"
    assert mine_end["consent"]["profiling"] == "denied", "B's opt-in does not grant for A"
    assert tab.storage()["revoked"]["evt"] == "profiling_opt_out"


def test_a_grant_stored_by_an_older_listener_does_not_hide_a_revocation(
    tab: Tab, site: Site, ingest: ServerProcess, published: Published, bot: str
) -> None:
    """A bot's grant stored without ``evt`` (it grants nothing at the relay) is not put on
    that bot's events in place of an earlier revocation in another bot's chat."""
    tab.page.goto(site.page_url(endpoint=ingest.url, bot=bot, boot="0"))
    revoked = {"profiling": "denied", "at": 1_700_000_000_000, "evt": "profiling_opt_out"}
    legacy_grant = {"profiling": "granted", "at": 1_700_000_500_000}
    tab.page.evaluate(
        """([bot, revoked, grant]) => {
            localStorage.setItem('loyjoy_relay.revoked', revoked);
            localStorage.setItem('loyjoy_relay.consent.' + bot, grant);
        }""",
        [bot, json.dumps(revoked), json.dumps(legacy_grant)],
    )
    tab.page.reload()
    tab.page.evaluate(
        """([endpoint, bot]) => {
            LoyJoy('boot', {bot, eventListeners: [LoyJoyRelay.listener({endpoint})]});
            LoyJoyRelay.flush();
        }""",
        [ingest.url, bot],
    )
    [load] = published.events(bot, 1)
    assert load["consent"]["profiling"] == "denied"
    assert load["consent"]["evt"] == "profiling_opt_out"


def test_a_denial_stored_by_an_older_listener_covers_every_bot(
    tab: Tab, site: Site, ingest: ServerProcess, published: Published, bot: str
) -> None:
    """A per-bot denial stored without ``evt`` (as older listeners kept it) becomes the
    client's revocation on the next page load, so another bot's events are stamped denied."""
    tab.page.goto(site.page_url(endpoint=ingest.url, bot=bot, boot="0"))
    stored = {"profiling": "denied", "at": 1_700_000_000_000}
    tab.page.evaluate(
        "([key, value]) => localStorage.setItem(key, value)",
        [f"loyjoy_relay.consent.old-{bot}", json.dumps(stored)],
    )
    tab.page.reload()
    tab.page.evaluate(
        """([endpoint, bot]) => {
            LoyJoy('boot', {bot, eventListeners: [LoyJoyRelay.listener({endpoint})]});
            LoyJoyRelay.flush();
        }""",
        [ingest.url, bot],
    )
    [load] = published.events(bot, 1)
    assert load["consent"]["profiling"] == "denied"
    assert "evt" not in load["consent"], "a stamp names no event it does not know"
    skew = load["ts"] - load["client_ts"]  # ingest moves both times by the same skew
    assert load["consent"]["at"] == stored["at"] + skew
