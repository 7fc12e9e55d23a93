"""checkov on terraform/: every failed check is fixed, or skipped in the code with a reason."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.support.processes import ROOT

CHECKOV = Path(sys.executable).parent / "checkov"


def _run_checkov() -> dict[str, Any]:
    if not CHECKOV.is_file() and shutil.which("checkov") is None:
        pytest.fail("checkov is not installed (it is in the dev extras: make install)")
    command = [str(CHECKOV) if CHECKOV.is_file() else "checkov"]
    result = subprocess.run(
        [
            *command,
            "--directory",
            str(ROOT / "terraform"),
            "--framework",
            "terraform",
            "--output",
            "json",
            "--skip-download",  # no network: use the checks bundled with checkov
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    try:
        report = json.loads(result.stdout)
    except json.JSONDecodeError:
        pytest.fail(f"checkov did not produce a report:\n{result.stdout}\n{result.stderr}")
    assert isinstance(report, dict), result.stdout
    return report


@pytest.fixture(scope="module")
def checkov_report() -> dict[str, Any]:
    """checkov's JSON report for terraform/."""
    return _run_checkov()


def test_checkov_finds_no_unexplained_failure(checkov_report: dict[str, Any]) -> None:
    """No check fails; checkov reads every resource file."""
    results = checkov_report.get("results", {})
    failed = results.get("failed_checks", [])
    described = [
        f"{check['check_id']} {check['resource']} ({check['file_path']}): {check['check_name']}"
        for check in failed
    ]
    assert not failed, "checkov failures (fix, or #checkov:skip=ID:reason):\n" + "\n".join(
        described
    )
    assert checkov_report["summary"]["resource_count"] >= 25


def test_every_skip_carries_a_reason(checkov_report: dict[str, Any]) -> None:
    """Each skipped check was skipped in code with a reason of a full sentence."""
    skipped = checkov_report["results"]["skipped_checks"]
    assert skipped, "expected the documented skips (public ingest, Google-managed keys, ...)"
    for check in skipped:
        reason = check["check_result"].get("suppress_comment", "")
        assert len(reason) > 30, f"{check['check_id']} on {check['resource']}: {reason!r}"
