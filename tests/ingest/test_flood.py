"""The public ingest URL under abuse, against the real ingest app and the Pub/Sub emulator.

One sender floods far over its limit while twenty ordinary visitors send one request a
second each, from their own addresses (X-Forwarded-For as Google's front end sets it).
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import flask
import pytest
from loyjoy_relay.adapters.logs import LogMessage
from loyjoy_relay.devstack.event_factory import new_client_id

from tests.ingest.conftest import ORIGIN, make_batch, make_event
from tests.support.pubsub import pull_messages, pull_nothing

FLOOD_REQUESTS = 300
VISITORS = 20
VISITOR_REQUESTS = 4  # one a second


def post(client: Any, client_id: str, address: str, user_agent: str | None = None) -> Any:
    """POST a batch of 5 events of ``client_id`` from ``address``."""
    body = make_batch(*[make_event(client_id=client_id) for _ in range(5)])
    headers = {"Origin": ORIGIN, "X-Forwarded-For": address}
    if user_agent is not None:
        headers["User-Agent"] = user_agent
    return client.post("/", data=json.dumps(body), headers=headers, content_type="text/plain")


def published_per_client(subscription: str, expected: int) -> Counter[str]:
    """Messages on the topic by client id (waits for ``expected``, then for stragglers)."""
    messages = pull_messages(subscription, expected)
    messages += pull_nothing(subscription)
    return Counter(json.loads(m.data)["client_id"] for m in messages)


def test_a_flood_is_limited_while_paced_visitors_publish_everything(
    make_client: Callable[..., flask.testing.FlaskClient], topic_and_subscription: tuple[str, str]
) -> None:
    """300 requests from one client in a burst get 429s and publish at most what the limit
    allows (burst 10 + 2/s); twenty visitors at 1 request/s publish every request."""
    _, subscription = topic_and_subscription
    make_client()  # sets the environment; each thread builds the same app below
    flooder, visitors = new_client_id(), [new_client_id() for _ in range(VISITORS)]
    statuses: dict[str, list[int]] = {}
    started = time.monotonic()

    def flood() -> None:
        client = make_client()
        statuses["flood"] = [
            post(client, flooder, "203.0.113.66").status_code for _ in range(FLOOD_REQUESTS)
        ]

    def visit(index: int) -> None:
        client = make_client()
        stop = threading.Event()
        codes = []
        for number in range(VISITOR_REQUESTS):
            stop.wait(max(0.0, started + number - time.monotonic()))  # pacing, 1/s
            codes.append(post(client, visitors[index], f"198.51.100.{index + 1}").status_code)
        statuses[visitors[index]] = codes

    threads = [threading.Thread(target=flood)]
    threads += [threading.Thread(target=visit, args=(i,)) for i in range(VISITORS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    elapsed = time.monotonic() - started
    assert not any(thread.is_alive() for thread in threads)
    flood_codes = Counter(statuses["flood"])
    assert set(flood_codes) <= {202, 429}
    assert flood_codes[429] >= FLOOD_REQUESTS - (10 + 2 * elapsed) - 1
    for visitor in visitors:
        assert statuses[visitor] == [202] * VISITOR_REQUESTS
    published = published_per_client(subscription, VISITORS * VISITOR_REQUESTS + 10)
    assert published[flooder] == flood_codes[202]
    assert published[flooder] <= 10 + 2 * elapsed
    assert all(published[visitor] == VISITOR_REQUESTS for visitor in visitors)


def test_a_refused_request_says_when_to_retry(
    make_client: Callable[..., flask.testing.FlaskClient], topic_and_subscription: tuple[str, str]
) -> None:
    """A 429 carries Retry-After (readable cross-origin) and the reason, and publishes nothing."""
    _, subscription = topic_and_subscription
    client = make_client(CLIENT_RATE_BURST="1", CLIENT_RATE_PER_SECOND="0.25")
    visitor = new_client_id()
    assert post(client, visitor, "198.51.100.9").status_code == 202
    pull_messages(subscription, 1)
    refused = post(client, visitor, "198.51.100.9")
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "4"
    assert "Retry-After" in refused.headers["Access-Control-Expose-Headers"]
    assert refused.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert refused.get_json()["retry_after"] == 4
    assert pull_nothing(subscription) == []


def test_an_address_over_its_limit_is_refused_for_every_client_behind_it(
    make_client: Callable[..., flask.testing.FlaskClient], topic_and_subscription: tuple[str, str]
) -> None:
    """Many client ids from one address (a script rotating ids) hit the address limit."""
    _, subscription = topic_and_subscription
    client = make_client(ADDRESS_RATE_BURST="5", ADDRESS_RATE_PER_SECOND="0.1")
    codes = [post(client, new_client_id(), "203.0.113.5").status_code for _ in range(8)]
    assert codes == [202] * 5 + [429] * 3
    assert len(pull_messages(subscription, 5) + pull_nothing(subscription)) == 5


def test_crawlers_and_headless_browsers_publish_nothing(
    make_client: Callable[..., flask.testing.FlaskClient],
    topic_and_subscription: tuple[str, str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Googlebot and HeadlessChrome get 403 with the reason, logged for the metric (without
    the user agent); nothing reaches the topic."""
    _, subscription = topic_and_subscription
    client = make_client()
    for user_agent in (
        "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "HeadlessChrome/131.0.0.0 Safari/537.36",
        # no default marker: recognised by the user-agent parser's crawler patterns
        "Mozilla/5.0 (compatible; Yahoo! Slurp; http://help.yahoo.com/help/us/ysearch/slurp)",
    ):
        response = post(client, new_client_id(), "198.51.100.77", user_agent)
        assert response.status_code == 403
        assert "automated" in response.get_json()["error"]
    assert pull_nothing(subscription) == []
    output = capsys.readouterr().out
    lines = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    refused = [line for line in lines if line.get("message") == LogMessage.INGEST_REQUEST]
    assert [(line["status"], line["reason"]) for line in refused] == [(403, "automated client")] * 3
    assert "Googlebot" not in output
    assert "198.51.100.77" not in output


def test_http_libraries_are_rate_limited_but_not_refused(
    make_client: Callable[..., flask.testing.FlaskClient], topic_and_subscription: tuple[str, str]
) -> None:
    """A script's request (curl, python-requests) runs no page, so it is no crawler: it is
    published like any other, within the limits (operators test ingest with curl)."""
    _, subscription = topic_and_subscription
    client = make_client()
    response = post(client, new_client_id(), "198.51.100.78", "curl/8.5.0")
    assert response.status_code == 202
    assert len(pull_messages(subscription, 1)) == 1
