"""The functions' requirements.txt files are generated from pyproject.toml and agree."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_requirements_match_pyproject() -> None:
    """``infra/requirements.py --check`` passes: no function's requirements.txt drifted."""
    result = subprocess.run(
        [sys.executable, str(ROOT / "infra" / "requirements.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def test_ingest_requirements_exclude_relay_libraries() -> None:
    """The ingest function does not install Firestore, Secret Manager or YAML."""
    text = (ROOT / "functions" / "ingest" / "requirements.txt").read_text().lower()
    assert "google-cloud-pubsub" in text
    for library in ("firestore", "secret-manager", "pyyaml", "requests"):
        assert library not in text
