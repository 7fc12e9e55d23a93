"""Cold-start probes: a CloudEvent target can be started and served like the relay will be."""

from __future__ import annotations

import json
from pathlib import Path

from functions_framework import create_app

from bench import cold_start
from bench.servers import BASELINE_SOURCE, ServerSettings

RELAY_STAND_IN = """
import base64, json
import functions_framework


@functions_framework.cloud_event
def relay(event):
    batch = json.loads(base64.b64decode(event.data["message"]["data"]))
    assert batch["events"], "a client batch holds events"
"""


def test_pubsub_cloudevent_reaches_a_cloudevent_function_as_a_push_would(tmp_path: Path) -> None:
    """The structured CloudEvent carries the message body, base64-encoded, under data.message."""
    source = tmp_path / "main.py"
    source.write_text(RELAY_STAND_IN)
    client = create_app("relay", str(source), "cloudevent").test_client()
    body = cold_start.pubsub_cloudevent(json.dumps({"events": [{"evt": "open"}]}).encode())
    response = client.post("/", data=body, headers={"Content-Type": "application/cloudevents+json"})
    assert response.status_code == 200


def test_measure_reports_every_figure_for_each_target(tmp_path: Path) -> None:
    """One repetition of an HTTP and a CloudEvent target yields all five figures each."""
    source = tmp_path / "main.py"
    source.write_text(RELAY_STAND_IN)
    message = cold_start.pubsub_cloudevent(json.dumps({"events": [{"evt": "open"}]}).encode())
    targets = [
        cold_start.Target("baseline", BASELINE_SOURCE, "baseline", {}),
        cold_start.Target(
            "relay-stand-in",
            source,
            "relay",
            {},
            signature="cloudevent",
            body=message,
            headers={"Content-Type": "application/cloudevents+json"},
        ),
    ]
    results = cold_start.measure(targets, b'{"events": []}', ServerSettings(1, 2), repetitions=1)
    for figures in results.values():
        assert set(figures) == {
            "framework_ms",
            "module_ms",
            "first_request_ms",
            "process_ms",
            "server_to_first_answer_ms",
            "server_to_first_answer_range_ms",
        }
        low, high = figures.pop("server_to_first_answer_range_ms")  # type: ignore[misc]
        assert 0 < low <= figures["server_to_first_answer_ms"] <= high
        assert all(value > 0 for value in figures.values())
