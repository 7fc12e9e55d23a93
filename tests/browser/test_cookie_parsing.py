"""Property: for any well-formed GA4 cookies, listener.js reads the ids they hold.

Runs many cookie pairs through one page: the listener holds its events (long batch delay)
and the test reads the event it queued in localStorage, so no request is needed per case.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .conftest import Tab
from .servers import FaultProxy, Site

pytestmark = [pytest.mark.browser, pytest.mark.emulator]

digits = st.integers(min_value=1, max_value=4_294_967_295).map(str)
seconds = st.integers(min_value=1_000_000_000, max_value=2_000_000_000).map(str)


@st.composite
def session_cookie(draw: st.DrawFn) -> tuple[str, str]:
    """A _ga_<ID> value in GS1 or GS2 form (GS2 keys in any order), and its session id."""
    session_id, number, last_hit = draw(seconds), draw(digits), draw(seconds)
    engaged = draw(st.sampled_from(["0", "1"]))
    if draw(st.booleans()):
        return f"GS1.1.{session_id}.{number}.{engaged}.{last_hit}.0.0.0", session_id
    fields = {"s": session_id, "o": number, "g": engaged, "t": last_hit, "j": "0", "l": "0"}
    fields.update(draw(st.dictionaries(st.sampled_from(["h", "d"]), digits, max_size=2)))
    order = draw(st.permutations(list(fields)))
    return "GS2.1." + "$".join(key + fields[key] for key in order), session_id


@pytest.fixture
def holding_page(tab: Tab, site: Site, proxy: FaultProxy, bot: str) -> Tab:
    """The test page with a listener that holds events; ingest is made to refuse them."""
    proxy.fail(1_000_000, status=400)  # whatever leaves at teardown is dropped, not published
    tab.expect_failed_requests(proxy.url)
    options = {"batchDelay": 3_600_000, "maxBatch": 200, "measurementId": "G-TEST1"}
    tab.page.goto(site.page_url(endpoint=proxy.url, bot=bot, options=options))
    return tab


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    domain_level=st.integers(min_value=1, max_value=4),
    random_part=digits,
    first_seen=seconds,
    session=session_cookie(),
)
def test_ids_are_read_from_any_well_formed_cookie(
    holding_page: Tab,
    proxy: FaultProxy,
    domain_level: int,
    random_part: str,
    first_seen: str,
    session: tuple[str, str],
) -> None:
    """_ga GA1.<n>.<a>.<b> gives client_id <a>.<b>; GS1 or GS2 _ga_<ID> gives session_id."""
    value, session_id = session
    event: dict[str, Any] = holding_page.page.evaluate(
        """([ga, session, endpoint]) => {
            document.cookie = '_ga=' + ga + '; path=/';
            document.cookie = '_ga_TEST1=' + session + '; path=/';
            window.listenerUnderTest('interaction', {bot_id: 'any-bot'});
            const queue = JSON.parse(localStorage.getItem('loyjoy_relay.queue:' + endpoint));
            return queue[queue.length - 1];
        }""",
        [f"GA1.{domain_level}.{random_part}.{first_seen}", value, proxy.url],
    )
    assert event["client_id"] == f"{random_part}.{first_seen}"
    assert event["session_id"] == session_id
