"""What listener.js puts in each event: ids from GA4 cookies or its own, page fields,
consent stamps, the dataLayer push it keeps, and nothing private (read back from Pub/Sub)."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from tests.support.processes import ServerProcess

from .conftest import Published, Tab
from .servers import FaultProxy, Site

pytestmark = [pytest.mark.browser, pytest.mark.emulator]

UUID4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
OWN_CLIENT_ID = re.compile(r"^\d{9,10}\.\d{10}$")
CONTRACT_FIELDS = {
    "evt", "bot_id", "process_id", "process_name", "sub_process_id", "sub_process_name",
    "label", "url", "client_id", "session_id", "user_id", "event_id", "ts", "page_location",
    "page_title", "page_referrer", "language", "consent", "time_zone", "screen_resolution",
    "site_consent",
}  # fmt: skip
ADDED_BY_INGEST = {"client_ts", "received_at"}
GA = "GA1.1.1111111111.1690000000"
GS1 = "GS1.1.1673933110.12.0.1673933110.60.0.0"
GS2 = "GS2.1.s1747132561$o1$g0$t1747132655$j0$l0$h0"
GS2_SHUFFLED = "GS2.1.o4$d1$t1747139999$g1$s1747130000"
OLDER_GS1 = "GS1.1.1600000001.3.1.1600000100.0.0.0"
NEWER_GS2 = "GS2.1.s1700000002$o1$g0$t1700000200"


def set_cookies(context: Any, site: Site, cookies: dict[str, str]) -> None:
    """Put cookies on the test site, as gtag would have."""
    context.add_cookies(
        [{"name": name, "value": value, "url": site.origin} for name, value in cookies.items()]
    )


@pytest.mark.parametrize(
    ("cookies", "options", "client_id", "session_id"),
    [
        pytest.param(
            {"_ga": "GA1.1.1197596843.1673515099", "_ga_ABC123": GS1},
            {},
            "1197596843.1673515099",
            "1673933110",
            id="GS1-positional",
        ),
        pytest.param(
            {"_ga": "GA1.2.987654321.1700000000", "_ga_ABC123": GS2},
            {},
            "987654321.1700000000",
            "1747132561",
            id="GS2-keyed",
        ),
        pytest.param(
            {"_ga": GA, "_ga_ABC123": GS2_SHUFFLED},
            {},
            "1111111111.1690000000",
            "1747130000",
            id="GS2-keys-in-any-order",
        ),
        pytest.param(
            {"_ga": GA, "_ga_ABC123": OLDER_GS1, "_ga_XYZ789": NEWER_GS2},
            {"measurementId": "G-ABC123"},
            "1111111111.1690000000",
            "1600000001",
            id="measurementId-picks-its-stream",
        ),
        pytest.param(
            {"_ga": GA, "_ga_ABC123": OLDER_GS1, "_ga_XYZ789": NEWER_GS2},
            {},
            "1111111111.1690000000",
            "1700000002",
            id="most-recent-stream-without-measurementId",
        ),
    ],
)  # fmt: skip
def test_ids_come_from_ga4_cookies(
    tab: Tab,
    context: Any,
    site: Site,
    ingest: ServerProcess,
    published: Published,
    bot: str,
    cookies: dict[str, str],
    options: dict[str, Any],
    client_id: str,
    session_id: str,
) -> None:
    """client_id comes from _ga and session_id from _ga_<ID> in both GS1 and GS2 formats."""
    set_cookies(context, site, cookies)
    tab.page.goto(site.page_url(endpoint=ingest.url, bot=bot, options=options))
    tab.fire("interaction")
    events = published.events(bot, 2)
    assert [event["evt"] for event in events] == ["load", "interaction"]
    assert {event["client_id"] for event in events} == {client_id}
    assert {event["session_id"] for event in events} == {session_id}
    assert "cid" not in tab.storage(), "no own id is made when GA4's cookie exists"


def test_event_fields_follow_the_contract(
    tab: Tab, site: Site, ingest: ServerProcess, published: Published, bot: str
) -> None:
    """Each event has a UUID v4 event_id, a client ts, page fields and LoyJoy's obj fields."""
    url = site.page_url(endpoint=ingest.url, bot=bot, title="Running shoes")
    tab.page.goto(url)
    fields = {
        "sub_process_id": "sp-9",
        "sub_process_name": "Shoe size",
        "label": "42",
        "url": "https://shop.example.com/s",
    }
    before = tab.page.evaluate("Date.now()")
    tab.fire("link_clicked", fields)
    after = tab.page.evaluate("Date.now()")
    load, clicked = published.events(bot, 2)
    assert set(clicked) <= CONTRACT_FIELDS | ADDED_BY_INGEST
    assert clicked["evt"] == "link_clicked"
    assert {k: clicked[k] for k in fields} == fields
    assert clicked["process_id"] == "demo-process"
    assert clicked["process_name"] == "Demo experience"
    assert UUID4.match(clicked["event_id"])
    assert UUID4.match(load["event_id"])
    assert clicked["event_id"] != load["event_id"]
    assert before <= clicked["client_ts"] <= after
    assert clicked["page_location"] == url
    assert clicked["page_title"] == "Running shoes"
    assert clicked["language"] == "en-US"
    assert "page_referrer" not in clicked, "an empty referrer is left out"


def test_own_ids_without_ga4_cookies(
    tab: Tab, site: Site, ingest: ServerProcess, published: Published, bot: str
) -> None:
    """Without GA4 cookies the listener keeps its own client id and a 30-minute session."""
    tab.page.clock.install()
    tab.page.goto(site.page_url(endpoint=ingest.url, bot=bot))
    tab.page.reload()  # same visitor, same session
    tab.page.clock.fast_forward("29:00")
    tab.fire("interaction")  # 29 minutes idle: still the same session
    tab.page.evaluate("LoyJoyRelay.flush()")
    published.events(bot, 3)
    # answered before the clock jumps: a jump past the 30 s request timeout would abort a
    # fetch still in flight and send its events a second time
    tab.wait_until_sent(ingest.url)
    tab.page.clock.fast_forward("31:00")
    tab.fire("end")  # 31 minutes idle: a new session
    first, second, third, fourth = published.events(bot, 4)
    assert OWN_CLIENT_ID.match(first["client_id"])
    assert {e["client_id"] for e in (first, second, third, fourth)} == {first["client_id"]}
    assert tab.storage()["cid"] == first["client_id"]
    assert first["session_id"] == second["session_id"] == third["session_id"]
    assert re.match(r"^\d{10}$", fourth["session_id"])
    assert int(fourth["session_id"]) >= int(third["session_id"]) + 60 * 60 - 1


def test_consent_stamps_follow_opt_in_and_opt_out(
    tab: Tab, site: Site, ingest: ServerProcess, published: Published, bot: str
) -> None:
    """Events carry the last profiling decision seen for their bot, kept across reloads."""
    tab.page.goto(site.page_url(endpoint=ingest.url, bot=bot))
    tab.page.evaluate(
        """() => { for (const evt of ['open', 'profiling_single_opt_in', 'interaction',
                   'profiling_opt_out', 'data_collection_question_answered']) LoyJoy.fire(evt); }"""
    )
    tab.page.evaluate("LoyJoyRelay.flush()")
    events = published.events(bot, 6)
    by_name = {event["evt"]: event for event in events}
    assert "consent" not in by_name["load"]
    assert "consent" not in by_name["open"]
    grant, revoke = by_name["profiling_single_opt_in"], by_name["profiling_opt_out"]
    assert grant["consent"]["profiling"] == "granted"
    assert by_name["interaction"]["consent"] == grant["consent"]
    assert revoke["consent"]["profiling"] == "denied"
    assert revoke["consent"]["at"] >= grant["consent"]["at"]
    assert by_name["data_collection_question_answered"]["consent"] == revoke["consent"]

    tab.wait_until_sent(ingest.url)
    tab.page.reload()
    tab.fire("profiling_double_opt_in", {"bot_id": "another-bot-" + bot})
    after_reload = published.events(bot, 7)[-1]
    assert after_reload["evt"] == "load"
    assert after_reload["consent"]["profiling"] == "denied", "the stamp outlives the page"
    [other_load] = published.events("another-bot-" + bot, 1)
    assert other_load["consent"]["profiling"] == "granted", "stamps are kept per bot"
    assert tab.storage()[f"consent.{bot}"]["profiling"] == "denied"


@pytest.mark.parametrize(
    ("datalayer", "options", "pushed"),
    [
        pytest.param("1", {}, True, id="dataLayer-exists"),
        pytest.param("1", {"dataLayer": False}, False, id="dataLayer-option-off"),
        pytest.param("0", {}, None, id="no-dataLayer"),
    ],
)
def test_datalayer_push_of_the_source_document_is_kept(
    tab: Tab,
    site: Site,
    ingest: ServerProcess,
    published: Published,
    bot: str,
    datalayer: str,
    options: dict[str, Any],
    pushed: bool | None,
) -> None:
    """Events still reach an existing GTM dataLayer as the source snippet pushed them."""
    tab.page.goto(site.page_url(endpoint=ingest.url, bot=bot, datalayer=datalayer, options=options))
    tab.fire("open")
    published.events(bot, 2)
    layer = tab.page.evaluate("window.dataLayer === undefined ? null : window.dataLayer")
    if pushed is None:
        assert layer is None, "no dataLayer is created when the page has none"
        return
    expected = [
        {"evt": evt, "bot_id": bot, "process_id": "demo-process", "process_name": "Demo experience"}
        for evt in ("load", "open")
    ]
    assert layer == (expected if pushed else [])


def test_email_and_token_are_never_sent(
    tab: Tab, site: Site, proxy: FaultProxy, published: Published, bot: str
) -> None:
    """LoyJoy's email and token (and other obj fields) leave the page in no request."""
    user = {"email": "jane.doe@example.com", "token": "eyJhbGciOiJIUzI1NiJ9.secret.sig"}
    tab.page.goto(site.page_url(endpoint=proxy.url, bot=bot, user=user))
    tab.fire("sign_up", {"firstname": "Jane", "phone": "+41 79 000 00 00"})
    events = published.events(bot, 2)
    for event in events:
        assert set(event) <= CONTRACT_FIELDS | ADDED_BY_INGEST
        assert "#" not in event["page_location"], "the URL fragment is never sent"
    sent = b"".join(request.body for request in proxy.posts())
    stored = json.dumps(tab.storage())
    for secret in (user["email"], user["token"], "Jane", "+41 79"):
        assert secret.encode() not in sent
        assert secret not in stored


def test_user_id_option(
    tab: Tab, site: Site, ingest: ServerProcess, published: Published, bot: str
) -> None:
    """userId may be a string or a function; a function that throws just leaves it out."""
    tab.page.goto(site.page_url(endpoint=ingest.url, bot=bot, options={"userId": "site-user-42"}))
    [load] = published.events(bot, 1)
    assert load["user_id"] == "site-user-42"
    tab.page.evaluate(
        """([endpoint, bot]) => {
            const ok = LoyJoyRelay.listener({endpoint, userId: () => 'from-function'});
            const broken = LoyJoyRelay.listener({endpoint, userId: () => { throw Error('x'); }});
            ok('open', {bot_id: bot});
            broken('show', {bot_id: bot});
            LoyJoyRelay.flush();
        }""",
        [ingest.url, bot],
    )
    by_name = {event["evt"]: event for event in published.events(bot, 3)}
    assert by_name["open"]["user_id"] == "from-function"
    assert "user_id" not in by_name["show"]


def test_bot_id_option_covers_events_without_one(
    tab: Tab, site: Site, ingest: ServerProcess, published: Published, bot: str
) -> None:
    """The botId option names the bot of events whose obj has no bot_id."""
    tab.page.goto(site.page_url(endpoint=ingest.url, bot=bot, boot="0"))
    tab.page.evaluate(
        """([endpoint, bot]) => {
            const listen = LoyJoyRelay.listener({endpoint, botId: bot});
            listen('open', {process_id: 'p-1'});
            listen('end', undefined);
            LoyJoyRelay.flush();
        }""",
        [ingest.url, bot],
    )
    opened, ended = published.events(bot, 2)
    assert (opened["evt"], opened["process_id"]) == ("open", "p-1")
    assert ended["evt"] == "end"
