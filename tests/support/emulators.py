"""Start and stop the Google Cloud emulators for the test suite.

Each emulator runs in its own process group: ``gcloud``'s wrapper leaves the Java
emulator behind when only the wrapper is killed, so the whole group is stopped. Outside CI
a missing emulator skips the tests that need it; with ``CI=true`` it fails them.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.support.net import free_port, wait_until

IN_CI = os.environ.get("CI", "").lower() == "true"

COMMANDS = {
    "pubsub": ["gcloud", "beta", "emulators", "pubsub", "start"],
    "firestore": ["gcloud", "emulators", "firestore", "start"],
}
COMPONENTS = {"pubsub": "pubsub-emulator", "firestore": "cloud-firestore-emulator"}


def unavailable(reason: str) -> None:
    """Skip a test for a missing component, or fail it in CI."""
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: a missing component fails, it never skips)")
    pytest.skip(reason)


def gcloud_has(kind: str) -> bool:
    """True when ``gcloud`` and the emulator component are installed."""
    gcloud = shutil.which("gcloud")
    if gcloud is None:
        return False
    sdk_root = Path(os.path.realpath(gcloud)).parent.parent
    return (sdk_root / "platform" / COMPONENTS[kind]).is_dir()


@dataclass
class Emulator:
    """One emulator process group on a fixed loopback port (restartable on that port)."""

    kind: str
    project: str = "test-project"
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    log_path: Path = field(default_factory=lambda: Path(tempfile.mkstemp(suffix=".log")[1]))

    @property
    def host(self) -> str:
        """``host:port`` for ``PUBSUB_EMULATOR_HOST`` / ``FIRESTORE_EMULATOR_HOST``."""
        return f"127.0.0.1:{self.port}"

    def start(self, timeout: float = 90.0) -> Emulator:
        """Start the emulator and wait until it answers HTTP."""
        args = [*COMMANDS[self.kind], f"--host-port={self.host}"]
        if self.kind == "pubsub":
            args.append(f"--project={self.project}")
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            args, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        wait_until(
            self._ready,
            timeout=timeout,
            what=f"{self.kind} emulator on {self.host}",
            alive=self.process,
        )
        return self

    def _ready(self) -> bool:
        try:
            with urllib.request.urlopen(f"http://{self.host}/", timeout=1) as response:
                return bool(response.status == 200)
        except OSError:
            return False

    def stop(self) -> None:
        """Stop the whole process group and wait until the port is closed."""
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=15)
        # The Java child may outlive the wrapper briefly; the group kill reaches it too.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        wait_until(lambda: not self._ready(), timeout=15, what=f"{self.kind} emulator to stop")
        self.process = None

    def log_tail(self, lines: int = 30) -> str:
        """The last lines the emulator printed (for failure messages)."""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


def start_emulator(kind: str) -> Emulator:
    """A started emulator, or a skip (a failure in CI) when it is not installed."""
    if not gcloud_has(kind):
        unavailable(
            f"the {kind} emulator is not installed (gcloud components install {COMPONENTS[kind]})"
        )
    return Emulator(kind).start()
