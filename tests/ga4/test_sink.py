"""The GA4 sink's HTTP API, in process and as the ``loyjoy-relay ga4 sink`` process."""

from __future__ import annotations

import json
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from loyjoy_relay.core.ga4.validation.report import WARNING_PREFIX
from loyjoy_relay.devstack.ga4_sink import Ga4Sink

from tests.ga4.conftest import MEASUREMENT_ID, NOW_MICROS, SECRET, valid_body
from tests.support.net import wait_until
from tests.support.processes import ServerProcess

QUERY = f"?measurement_id={MEASUREMENT_ID}&api_secret={SECRET}"


@pytest.fixture
def sink() -> Iterator[Ga4Sink]:
    with Ga4Sink(clock_micros=lambda: NOW_MICROS) as running:
        yield running


def call(
    base: str, method: str, path: str, body: Any = None, raw: bytes | None = None
) -> tuple[int, bytes, str]:
    data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
    request = urllib.request.Request(base + path, data=data, method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read(), response.headers.get("Content-Type", "")
    except urllib.error.HTTPError as error:
        return error.code, error.read(), error.headers.get("Content-Type", "")


def test_collect_answers_204_and_records(sink: Ga4Sink) -> None:
    """POST /mp/collect answers 204 with no body and GET /events shows it, oldest first."""
    first, second = valid_body(), valid_body(client_id="2.2")
    assert call(sink.url, "POST", "/mp/collect" + QUERY, first)[:2] == (204, b"")
    assert call(sink.url, "POST", "/mp/collect" + QUERY, second)[0] == 204
    status, body, content_type = call(sink.url, "GET", "/events")
    assert (status, content_type) == (200, "application/json")
    assert json.loads(body) == {
        "requests": [
            {
                "received_at": NOW_MICROS // 1000,
                "path": "/mp/collect",
                "measurement_id": MEASUREMENT_ID,
                "body": first,
            },
            {
                "received_at": NOW_MICROS // 1000,
                "path": "/mp/collect",
                "measurement_id": MEASUREMENT_ID,
                "body": second,
            },
        ]
    }
    assert SECRET.encode() not in body


def test_invalid_bodies_are_recorded_and_answered_204(sink: Ga4Sink) -> None:
    """Like GA4, collect accepts garbage with 204; the sink records it as received."""
    assert call(sink.url, "POST", "/mp/collect" + QUERY, raw=b"not json")[0] == 204
    assert call(sink.url, "POST", "/mp/collect", {"events": [{"name": "_x"}]})[0] == 204
    bodies = [record.body for record in sink.records()]
    assert bodies == ["not json", {"events": [{"name": "_x"}]}]
    assert sink.records()[1].measurement_id is None


def test_debug_endpoint_answers_validation_messages(sink: Ga4Sink) -> None:
    """POST /debug/mp/collect answers 200 with the debug endpoint's messages."""
    bad = valid_body()
    bad["events"][0]["name"] = "_badEventName"
    status, body, _ = call(sink.url, "POST", "/debug/mp/collect", bad)
    assert status == 200
    codes = [
        (m.get("fieldPath"), m["validationCode"]) for m in json.loads(body)["validationMessages"]
    ]
    assert codes == [
        ("api_secret", "VALUE_REQUIRED"),
        ("measurement_id", "VALUE_REQUIRED"),
        ("events", "NAME_INVALID"),
    ]
    status, body, _ = call(sink.url, "POST", "/debug/mp/collect" + QUERY, valid_body())
    assert (status, json.loads(body)) == (200, {"validationMessages": []})


def test_delete_clears_and_page_is_readable(sink: Ga4Sink) -> None:
    """GET / lists what arrived as HTML (escaped); DELETE /events clears the record."""
    body = valid_body()
    body["events"][0]["name"] = "<script>x</script>"
    call(sink.url, "POST", "/mp/collect" + QUERY, body)
    status, page, content_type = call(sink.url, "GET", "/")
    assert (status, content_type) == (200, "text/html; charset=utf-8")
    assert b"1 request(s) received" in page
    assert b"&lt;script&gt;" in page
    assert b"<script>x" not in page
    assert SECRET.encode() not in page
    assert call(sink.url, "DELETE", "/events")[0] == 204
    assert json.loads(call(sink.url, "GET", "/events")[1]) == {"requests": []}
    assert b"Nothing has arrived yet" in call(sink.url, "GET", "/")[1]


def test_control_injects_failures_then_recovers(sink: Ga4Sink) -> None:
    """POST /control fail_next=2 status=503 fails two collects unrecorded, then 204 again."""
    status, state, _ = call(sink.url, "POST", "/control", {"fail_next": 2, "status": 503})
    assert status == 200
    assert json.loads(state) == {
        "fail_next": 2,
        "status": 503,
        "delay_ms": 0,
        "lose_next": 0,
        "hold_next": 0,
        "holding": 0,
    }
    answers = [call(sink.url, "POST", "/mp/collect" + QUERY, valid_body())[0] for _ in range(3)]
    assert answers == [503, 503, 204]
    assert len(sink.records()) == 1
    assert call(sink.url, "POST", "/control", raw=b"[1]")[0] == 400
    assert call(sink.url, "POST", "/control", {"fail_next": 1, "status": 42})[0] == 400
    assert call(sink.url, "GET", "/nowhere")[0] == 404


def test_a_lost_answer_is_recorded_but_never_comes(sink: Ga4Sink) -> None:
    """lose_next: GA4 took the request (it is recorded) and the client waits in vain."""
    call(sink.url, "POST", "/control", {"lose_next": 1})
    request = urllib.request.Request(
        sink.url + "/mp/collect" + QUERY, data=json.dumps(valid_body()).encode(), method="POST"
    )
    with pytest.raises(TimeoutError):
        urllib.request.urlopen(request, timeout=0.5)
    assert len(sink.records()) == 1
    assert call(sink.url, "POST", "/mp/collect" + QUERY, valid_body())[0] == 204


def test_a_held_answer_comes_when_released(sink: Ga4Sink) -> None:
    """hold_next: the request is recorded at once and answered 204 only after release."""
    call(sink.url, "POST", "/control", {"hold_next": 1})
    answers: list[int] = []
    thread = threading.Thread(
        target=lambda: answers.append(
            call(sink.url, "POST", "/mp/collect" + QUERY, valid_body())[0]
        )
    )
    thread.start()
    wait_until(lambda: sink.control()["holding"] == 1, what="the request to be held")
    assert len(sink.records()) == 1
    assert answers == []
    sink.control(release=True)
    thread.join(timeout=10)
    assert answers == [204]


def test_sink_runs_as_a_cli_process() -> None:
    """``loyjoy-relay ga4 sink --port N`` serves the same API as a separate process."""
    script = Path(sys.executable).parent / "loyjoy-relay"
    process = ServerProcess([str(script), "ga4", "sink", "--port", "{port}"], {}).start()
    try:
        assert call(process.url, "POST", "/mp/collect" + QUERY, valid_body())[0] == 204
        requests = json.loads(call(process.url, "GET", "/events")[1])["requests"]
        assert [r["body"] for r in requests] == [valid_body()]
        assert "GA4 sink listening on" in process.log_text()
        assert SECRET not in process.log_text()
    finally:
        process.stop()


def test_debug_endpoint_answers_errors_and_warnings_under_enforce(sink: Ga4Sink) -> None:
    """A body asking for ENFORCE_RECOMMENDATIONS gets GA4's refusals and the warnings."""
    body = valid_body(validation_behavior="ENFORCE_RECOMMENDATIONS")
    del body["events"][0]["timestamp_micros"]
    body["events"][0]["name"] = "add_to_cart"
    body["events"][0]["params"].update(currency="usd", items=[{"item_id": "SKU_1"}])
    status, answer, _ = call(sink.url, "POST", "/debug/mp/collect" + QUERY, body)
    assert status == 200
    messages = json.loads(answer)["validationMessages"]
    assert [(m["fieldPath"], m["validationCode"]) for m in messages] == [
        ("events[0].params.currency", "VALUE_INVALID"),
        ("events[0].params.value", "VALUE_REQUIRED"),
    ]
    assert [m["description"].startswith(WARNING_PREFIX) for m in messages] == [False, True]
