"""`make plan`: the deploy path's plan, with the operator's credentials, tfvars and state."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support.processes import ROOT

MAKEFILE = ROOT / "Makefile"


def _make(directory: Path, *args: str) -> subprocess.CompletedProcess[str]:
    if shutil.which("make") is None:
        pytest.fail("make is not installed (the README's commands need it)")
    environment = {k: v for k, v in os.environ.items() if not k.startswith("STATE_")}
    return subprocess.run(
        ["make", "--no-print-directory", "-f", str(MAKEFILE), "-C", str(directory), *args],
        capture_output=True,
        text=True,
        env=environment,
        check=False,
        timeout=60,
    )


def test_plan_stages_then_inits_the_remote_state_and_saves_the_plan() -> None:
    """The plan runs on fresh uploads, against the given state bucket, into terraform/tfplan."""
    result = _make(ROOT, "-n", "plan", "STATE_BUCKET=my-state", "STATE_PREFIX=relay-prod")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    stage = lines.index(".venv/bin/python infra/stage_functions.py")
    init = lines.index(
        "terraform -chdir=terraform init -input=false "
        '-backend-config="bucket=my-state" -backend-config="prefix=relay-prod"'
    )
    plan = lines.index("terraform -chdir=terraform plan -input=false -out=tfplan")
    assert stage < init < plan
    default = _make(ROOT, "-n", "plan", "STATE_BUCKET=b")
    assert '-backend-config="prefix=loyjoy-ga4-relay"' in default.stdout


def test_plan_stops_first_without_tfvars_or_state_bucket(tmp_path: Path) -> None:
    """Without terraform.tfvars, or without STATE_BUCKET, it says what to do and stops."""
    (tmp_path / "terraform").mkdir()
    missing_tfvars = _make(tmp_path, "plan-inputs", "STATE_BUCKET=my-state")
    assert missing_tfvars.returncode != 0
    assert "terraform/terraform.tfvars is missing" in missing_tfvars.stderr
    (tmp_path / "terraform" / "terraform.tfvars").write_text('project_id = "p"\n')
    missing_bucket = _make(tmp_path, "plan-inputs")
    assert missing_bucket.returncode != 0
    assert "STATE_BUCKET is not set" in missing_bucket.stderr
