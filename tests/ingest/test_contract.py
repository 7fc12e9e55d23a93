"""Ingest's pydantic-free contract check agrees with the pydantic models, on any input.

Ingest validates with ``core/contract.py`` (no pydantic models: cold start and CPU); the relay
reads messages with ``core/events.py``'s models. These tests hold the two to the same
contract: the same fields and limits, the same verdict and reason for any event, and a
message the models read back unchanged.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from loyjoy_relay.core import contract
from loyjoy_relay.core.events import (
    ClientBatch,
    LoyJoyEvent,
    RelayedEvent,
    _first_errors,
)
from loyjoy_relay.devstack.event_factory import contract_event, granted
from pydantic import ValidationError

from tests.support.processes import ROOT

NOW = 1_732_450_000_000
BASE = contract_event(ts=NOW - 1000, consent=granted(NOW - 5000), user_id="u-1", session_id="17")


def _limits(model: type[Any], name: str) -> tuple[bool, int | None, str | None]:
    """(required, max_length, pattern) of a pydantic field."""
    info = model.model_fields[name]
    max_length = pattern = None
    annotations = [info, *getattr(info.annotation, "__args__", ())]  # Optional[Annotated]
    for source in annotations:
        for constraint in [*getattr(source, "metadata", ()), *getattr(source, "__metadata__", ())]:
            max_length = getattr(constraint, "max_length", None) or max_length
            pattern = getattr(constraint, "pattern", None) or pattern
    return info.is_required(), max_length, pattern


def _agrees(model: type[Any], fields: dict[str, contract.Spec]) -> None:
    """The table's ``fields`` are the model's, in order, with the same limits."""
    assert list(fields) == list(model.model_fields), model.__name__
    for name, spec in fields.items():
        required, max_length, pattern = _limits(model, name)
        assert spec.required == required, name
        if isinstance(spec, contract.Text):
            assert (spec.max_length or None, spec.pattern) == (max_length, pattern), name
        if isinstance(spec, contract.Nested):
            nested = next(
                arg for arg in model.model_fields[name].annotation.__args__ if arg is not type(None)
            )
            assert nested.__name__ == spec.model
            _agrees(nested, spec.fields)


def test_the_table_names_the_models_fields_with_their_limits() -> None:
    """Same fields in the same order, the same required ones and the same string limits."""
    _agrees(LoyJoyEvent, contract.EVENT_FIELDS)
    assert list(RelayedEvent.model_fields)[-2:] == ["client_ts", "received_at"]


def _reference(raw: dict[str, Any]) -> tuple[dict[str, Any] | None, str]:
    """What the pydantic model makes of ``raw``: its fields, or the reason."""
    try:
        event = LoyJoyEvent.model_validate(raw)
    except ValidationError as error:
        return None, _first_errors(error)
    return event.model_dump(exclude_none=True), ""


def _checked(raw: dict[str, Any]) -> tuple[dict[str, Any] | None, str]:
    """What ingest's check makes of ``raw``, in the same shape."""
    event, errors = contract.check_event(raw)
    if errors:
        return None, "; ".join(errors[: contract.MAX_ERRORS])
    return event, ""


# Every boundary of the table (lengths, times, types, the pattern), often; random beside.
EDGES = [
    None, True, False, 1.0, 2.5, -1, 0, 1, 10**14, 10**14 + 1, [], {}, "", "\ud800", "é",
    *("x" * n for n in (1, 35, 36, 64, 65, 128, 129, 256, 257, 512, 513, 2048, 2049)),
    "12345678-1234-1234-1234-123456789abc", "12345678-1234-1234-1234-123456789ABC",
    "12345678-1234-1234-1234-123456789abc\n", "granted", "denied", "tcf",
    "Europe/Berlin", "America/Argentina/Salta", "Etc/GMT+5", "a/b/c/d", "Europe/" + "x" * 60,
    "1920x1080", "0x1", "123456x1", "1920x1080\n",
    {"profiling": "granted", "at": 5}, {"profiling": "denied", "at": -1}, {"profiling": "x"},
    {"at": True}, {"profiling": None, "at": None}, {"profiling": "granted", "at": 10**14 + 1},
    {"profiling": "granted", "at": 5, "evt": "profiling_single_opt_in"},
    {"profiling": "granted", "at": 5, "evt": ""}, {"profiling": "denied", "at": 5, "evt": 3},
    {"source": "tcf"}, {"source": "consent_mode", "analytics_storage": "denied"},
    {"source": "x", "ad_storage": "maybe"}, {"ad_user_data": "granted"},
    {"source": "tcf", "ad_personalization": None, "extra": 1},
]  # fmt: skip
values = st.one_of(
    st.sampled_from(EDGES),
    st.sampled_from(EDGES),
    st.text(max_size=70),
    st.integers(),
    st.fixed_dictionaries(
        {},
        optional={
            "profiling": st.sampled_from(["granted", "denied", "maybe", None, 1]),
            "at": st.one_of(st.integers(min_value=-2, max_value=10**15), st.none(), st.text()),
        },
    ),
)
mutated = st.builds(
    lambda base, overrides, drop: {
        **{k: v for k, v in base.items() if k not in drop},
        **overrides,
    },
    st.just(BASE),
    st.dictionaries(st.sampled_from([*contract.EVENT_FIELDS, "email", "extra"]), values),
    st.sets(st.sampled_from(list(contract.EVENT_FIELDS)), max_size=3),
)


@settings(max_examples=1500, deadline=None)
@given(raw=mutated)
def test_any_event_gets_the_same_verdict_and_reason_from_both(raw: dict[str, Any]) -> None:
    """Accepted by both with the same fields, or refused by both with the same reason."""
    assert _checked(raw) == _reference(raw)


@settings(max_examples=150, deadline=None)
@given(
    events=st.lists(mutated, min_size=1, max_size=6),
    sent_at=st.one_of(st.none(), st.integers(min_value=NOW - 10**5, max_value=NOW + 10**5)),
)
def test_the_message_is_what_the_relay_reads_back(
    events: list[dict[str, Any]], sent_at: int | None
) -> None:
    """Every message decodes with the relay's model and encodes back to the same bytes."""
    events = [*events, BASE]  # at least one event is accepted
    body = json.dumps({"sent_at": sent_at, "events": events} if sent_at else {"events": events})
    parsed = contract.parse_request(body.encode(), received_at=NOW, bot_allowed=lambda _: True)
    assert parsed.batches
    for batch in parsed.batches:
        data, attributes = batch.to_message()
        decoded = ClientBatch.from_message(data)
        assert decoded.to_message() == (data, attributes)
        assert [e.event_id for e in decoded.events] == [e["event_id"] for e in batch.events]


def test_the_ingest_function_loads_without_the_event_models_or_the_relays_libraries() -> None:
    """Ingest's cold start builds no event model and imports no Firestore, YAML or secrets."""
    heavy = (
        "loyjoy_relay.core.events",
        "google.cloud.firestore",
        "yaml",
        "google.cloud.secretmanager",
    )
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); import main; "
        "print(','.join(name for name in sys.argv[2:] if name in sys.modules))"
    )
    env = {
        **os.environ,
        "GOOGLE_CLOUD_PROJECT": "p-1",
        "ALLOWED_ORIGINS": "*",
        "PUBSUB_EMULATOR_HOST": "127.0.0.1:9",  # never dialled: the client connects lazily
    }
    loaded = subprocess.run(
        [sys.executable, "-c", code, str(ROOT / "functions" / "ingest"), *heavy],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout.strip()
    assert loaded == ""
