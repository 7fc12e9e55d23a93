"""``loyjoy-relay ga4 validate FILE|-``: prints the debug endpoint's answer, exit 0 or 1."""

from __future__ import annotations

import io
import json
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from loyjoy_relay.cli.main import main
from loyjoy_relay.core.ga4.validation.report import WARNING_PREFIX

from tests.ga4.conftest import valid_body


def fresh_body(**top: Any) -> dict[str, Any]:
    """A valid body whose event time is now, since the command uses the real clock."""
    body = valid_body(**top)
    body["events"][0]["timestamp_micros"] = time.time_ns() // 1000 - 1_000_000
    return body


def run(
    argv: list[str],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    stdin: bytes = b"",
) -> tuple[int, Any]:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin)))
    code = main(["ga4", "validate", *argv])
    return code, json.loads(capsys.readouterr().out)


def test_clean_file_exits_zero(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A valid body prints no messages and exits 0."""
    path = tmp_path / "body.json"
    path.write_text(json.dumps(fresh_body()))
    assert run([str(path)], capsys, monkeypatch) == (0, {"validationMessages": []})


def test_invalid_stdin_exits_one(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A body from stdin with a reserved event name prints NAME_RESERVED and exits 1."""
    body = fresh_body()
    body["events"][0]["name"] = "session_start"
    code, answer = run(["-"], capsys, monkeypatch, json.dumps(body).encode())
    assert code == 1
    assert [m["validationCode"] for m in answer["validationMessages"]] == ["NAME_RESERVED"]


def test_enforce_flag_applies_recommendations(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """--enforce reports what RELAXED lets through (a too-long param value)."""
    body = fresh_body()
    body["events"][0]["params"]["long"] = "x" * 101
    path = tmp_path / "body.json"
    path.write_text(json.dumps(body))
    assert run([str(path)], capsys, monkeypatch)[0] == 0
    code, answer = run([str(path), "--enforce"], capsys, monkeypatch)
    assert code == 1
    assert answer["validationMessages"][0]["validationCode"] == "VALUE_OUT_OF_BOUNDS"


def test_missing_file_exits_two(capsys: pytest.CaptureFixture[str]) -> None:
    """An unreadable file is a usage error (exit 2), not a validation result."""
    assert main(["ga4", "validate", "/nonexistent/body.json"]) == 2
    assert "cannot read" in capsys.readouterr().err


def test_client_id_in_a_sites_own_format_is_clean(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A client_id without a dot is not refused, even with --enforce (no documented format)."""
    path = tmp_path / "body.json"
    path.write_text(json.dumps(fresh_body(client_id="visitor-18")))
    assert run([str(path), "--enforce"], capsys, monkeypatch) == (0, {"validationMessages": []})


def test_missing_required_param_exits_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """search without search_term is refused under --enforce: VALUE_REQUIRED, exit 1."""
    body = fresh_body()
    body["events"][0]["name"] = "search"
    path = tmp_path / "body.json"
    path.write_text(json.dumps(body))
    code, answer = run([str(path), "--enforce"], capsys, monkeypatch)
    assert code == 1
    [message] = answer["validationMessages"]
    assert (message["fieldPath"], message["validationCode"]) == (
        "events[0].params.search_term",
        "VALUE_REQUIRED",
    )
    assert not message["description"].startswith(WARNING_PREFIX)


def test_a_warning_only_result_is_printed_and_exits_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A body with only a recommendation unmet prints the warning and exits 1, as the
    contract says for any message; the relay would still send it."""
    body = fresh_body()
    body["events"][0].update(name="add_to_cart")
    body["events"][0]["params"].update(currency="EUR", items=[{"item_id": "SKU_1"}])
    path = tmp_path / "body.json"
    path.write_text(json.dumps(body))
    code, answer = run([str(path), "--enforce"], capsys, monkeypatch)
    assert code == 1
    [warning] = answer["validationMessages"]
    assert warning["fieldPath"] == "events[0].params.value"
    assert warning["description"].startswith(WARNING_PREFIX)
    assert run([str(path)], capsys, monkeypatch) == (0, {"validationMessages": []})
