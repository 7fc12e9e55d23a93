"""Ingest repairs what a browser can send slightly wrong, instead of losing the event.

Bodies are written with ``json.dumps`` (ASCII escapes), as a browser's ``JSON.stringify``
writes a lone surrogate: the two-byte escape of half an emoji, e.g. ``"\\ud83d"``.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.ingest.conftest import make_batch, make_event
from tests.ingest.test_ingest_http import post
from tests.support.pubsub import pull_messages

HALF_EMOJI = "\ud83d"  # the first half of U+1F600, cut off from its second half


def published_event(subscription: str) -> dict[str, Any]:
    [message] = pull_messages(subscription, 1)
    [event] = json.loads(message.data)["events"]
    return event  # type: ignore[no-any-return]


def test_half_an_emoji_in_free_text_is_replaced_not_refused(
    client: Any, topic_and_subscription: tuple[str, str]
) -> None:
    """A title and a label ending in half an emoji: 202, each kept with U+FFFD in its place."""
    _, subscription = topic_and_subscription
    title = "Spring sale " + "x" * 480 + " " + HALF_EMOJI
    event = make_event(evt="start", page_title=title, label=f"Yes {HALF_EMOJI}!")
    response = post(client, make_batch(event))
    assert response.status_code == 202, response.get_json()
    assert response.get_json() == {"accepted": 1, "rejected": []}
    published = published_event(subscription)
    assert published["page_title"] == title[:-1] + "\ufffd"
    assert published["label"] == "Yes \ufffd!"
    assert published["event_id"] == event["event_id"]


def test_invalid_names_are_left_out_not_the_event(
    client: Any, topic_and_subscription: tuple[str, str]
) -> None:
    """A user id or session id holding half an emoji cannot be repaired into the same id:
    the field is left out, the event delivered."""
    _, subscription = topic_and_subscription
    event = make_event(user_id=f"member{HALF_EMOJI}", session_id=HALF_EMOJI, language="")
    assert post(client, make_batch(event)).status_code == 202
    published = published_event(subscription)
    assert not {"user_id", "session_id", "language"} & set(published)
    assert published["client_id"] == event["client_id"]


def test_over_long_text_is_cut_and_over_long_names_left_out(
    client: Any, topic_and_subscription: tuple[str, str]
) -> None:
    """A label over the contract's 512 characters is cut at 512 (code points, so an emoji is
    never halved); a user id over 256 is left out."""
    _, subscription = topic_and_subscription
    label = "\U0001f600" * 600
    assert post(client, make_batch(make_event(label=label, user_id="u" * 300))).status_code == 202
    published = published_event(subscription)
    assert published["label"] == "\U0001f600" * 512
    assert "user_id" not in published


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("evt", f"start{HALF_EMOJI}"),
        ("bot_id", f"bot{HALF_EMOJI}"),
        ("client_id", f"1.2{HALF_EMOJI}"),
        ("event_id", HALF_EMOJI),
        ("ts", "yesterday"),
    ],
)
def test_a_bad_required_field_still_refuses_the_event(
    make_client: Any, field: str, value: str
) -> None:
    """Required fields are never repaired: invalid text or a bad time is a 400 naming it."""
    client = make_client(ALLOWED_BOT_IDS="")  # any bot: the bot id is judged as text only
    response = post(client, make_batch(make_event(**{field: value})))
    assert response.status_code == 400
    [rejection] = response.get_json()["rejected"]
    assert rejection["reason"].startswith(field)
