"""The emulators for the test suite: started per session, skipped (failed in CI) if absent."""

from __future__ import annotations

import os

import pytest
from loyjoy_relay.devstack.emulators import COMPONENTS, Emulator, gcloud_has

IN_CI = os.environ.get("CI", "").lower() == "true"

__all__ = ["IN_CI", "Emulator", "start_emulator", "unavailable"]


def unavailable(reason: str) -> None:
    """Skip a test for a missing component, or fail it in CI."""
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: a missing component fails, it never skips)")
    pytest.skip(f"{reason} (skipped outside CI only)")


def start_emulator(kind: str) -> Emulator:
    """A started emulator, or a skip (a failure in CI) when it is not installed."""
    if not gcloud_has(kind):
        unavailable(
            f"the {kind} emulator is not installed (gcloud components install {COMPONENTS[kind]})"
        )
    return Emulator(kind, project="test-project").start()
