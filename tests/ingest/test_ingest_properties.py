"""Property: nothing a client sends makes ingest answer 5xx (with Pub/Sub up)."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.ingest.conftest import ORIGIN, make_event

json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text()
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)
field_names = st.sampled_from(
    ["evt", "bot_id", "client_id", "event_id", "ts", "consent", "session_id", "url", "label"]
)
mutated_events = st.builds(
    lambda overrides: {**make_event(), **overrides},
    st.dictionaries(field_names, json_values, max_size=3),
)
bodies = st.one_of(
    st.binary(max_size=300),
    json_values.map(lambda value: json.dumps(value).encode()),
    st.lists(mutated_events, max_size=5).map(
        lambda events: json.dumps({"sent_at": make_event()["ts"], "events": events}).encode()
    ),
    mutated_events.map(lambda event: json.dumps(event).encode()),
)
content_types = st.sampled_from(
    [
        "application/json",
        "text/plain",
        "text/plain;charset=UTF-8",
        "application/x-www-form-urlencoded",
        "",
    ]
)
methods = st.sampled_from(["POST", "POST", "POST", "GET", "PUT", "DELETE", "OPTIONS"])


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(body=bodies, content_type=content_types, method=methods)
def test_arbitrary_requests_never_get_a_5xx(
    client: Any, body: bytes, content_type: str, method: str
) -> None:
    """Any body, content type and method gets a 2xx or 4xx answer, never a 5xx."""
    response = client.open(
        "/", method=method, data=body, content_type=content_type, headers={"Origin": ORIGIN}
    )
    assert response.status_code < 500, response.get_data(as_text=True)
    if response.status_code >= 400 and method == "POST":
        assert response.get_json()["error"]
