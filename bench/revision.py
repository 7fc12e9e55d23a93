"""Another revision's ingest, to load beside this one in the same run (``--compare REV``).

The machine is shared and its speed drifts, so a before/after figure from two runs says
little; the same run, interleaved, says more. ``checkout`` exports ``functions/`` and
``infra/`` of a git revision (``git archive``, the repository untouched) into a
temporary directory; ``ingest_source`` and ``environment`` serve its ingest with its own
package first on the path (and no bytecode written into the export).
"""

from __future__ import annotations

import io
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

from bench.servers import ROOT


@dataclass(frozen=True)
class Revision:
    """An exported revision: its name and where its files are."""

    name: str
    directory: Path

    @property
    def ingest_source(self) -> Path:
        """Its ingest entry point."""
        return self.directory / "functions" / "ingest" / "main.py"

    def environment(self) -> dict[str, str]:
        """Variables that make a function process import this revision's package."""
        # A directory holding only the package: functions/ itself would also hold
        # ``ingest/``, which Flask would take for the app's package.
        return {"PYTHONPATH": str(self.directory / "path"), "PYTHONDONTWRITEBYTECODE": "1"}


def checkout(revision: str, into: Path | None = None) -> Revision:
    """Export ``revision``'s functions/ and infra/ (``git archive``) and return it."""
    directory = into or Path(tempfile.mkdtemp(prefix="bench-revision-"))
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", "--format=tar", revision, "functions", "infra"],
        capture_output=True,
        check=True,
        timeout=60,
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(directory, filter="data")
    (directory / "path").mkdir()
    (directory / "path" / "loyjoy_relay").symlink_to(directory / "functions" / "loyjoy_relay")
    return Revision(f"ingest@{revision}", directory)
