"""The schema-only google provider, started once for every Terraform test of tests/deploy."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest

from infra.schema_provider import runner
from tests.support.emulators import unavailable


@pytest.fixture(scope="session")
def schema_provider() -> Iterator[runner.RunningProvider]:
    """The provider, stopped (its whole process group) at the end; terraform must exist."""
    if shutil.which("terraform") is None:
        unavailable("terraform is not installed")
    with runner.running_provider() as started:
        yield started
