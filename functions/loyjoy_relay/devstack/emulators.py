"""Start and stop the Google Cloud emulators (Pub/Sub, Firestore) on loopback.

Each emulator runs in its own process group: ``gcloud``'s wrapper leaves the Java
emulator behind when only the wrapper is killed, so the whole group is stopped.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

COMMANDS = {
    "pubsub": ["gcloud", "beta", "emulators", "pubsub", "start"],
    "firestore": ["gcloud", "emulators", "firestore", "start"],
}
COMPONENTS = {"pubsub": "pubsub-emulator", "firestore": "cloud-firestore-emulator"}
ENV_VARS = {"pubsub": "PUBSUB_EMULATOR_HOST", "firestore": "FIRESTORE_EMULATOR_HOST"}


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(
    condition: Callable[[], bool],
    *,
    timeout: float = 30.0,
    interval: float = 0.05,
    what: str = "condition",
    alive: subprocess.Popen[bytes] | None = None,
) -> None:
    """Poll ``condition`` until it holds; raise TimeoutError naming ``what``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        if alive is not None and alive.poll() is not None:
            raise RuntimeError(f"process ended (code {alive.returncode}) waiting for {what}")
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout}s waiting for {what}")


def gcloud_has(kind: str) -> bool:
    """True when ``gcloud`` and the emulator component are installed."""
    gcloud = shutil.which("gcloud")
    if gcloud is None or shutil.which("java") is None:
        return False
    sdk_root = Path(os.path.realpath(gcloud)).parent.parent
    return (sdk_root / "platform" / COMPONENTS[kind]).is_dir()


@dataclass
class Emulator:
    """One emulator process group on a fixed loopback port (restartable on that port)."""

    kind: str
    project: str = "local-project"
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    log_path: Path = field(default_factory=lambda: Path(tempfile.mkstemp(suffix=".log")[1]))

    @property
    def host(self) -> str:
        """``host:port`` for the emulator's environment variable."""
        return f"127.0.0.1:{self.port}"

    @property
    def env(self) -> dict[str, str]:
        """The environment variable that points client libraries at this emulator."""
        return {ENV_VARS[self.kind]: self.host}

    def start(self, timeout: float = 90.0) -> Emulator:
        """Start the emulator and wait until it answers HTTP."""
        args = [*COMMANDS[self.kind], f"--host-port={self.host}"]
        if self.kind == "pubsub":
            args.append(f"--project={self.project}")
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                args, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        wait_until(
            self.ready,
            timeout=timeout,
            what=f"{self.kind} emulator on {self.host}",
            alive=self.process,
        )
        return self

    def ready(self) -> bool:
        """True when the emulator answers on its port."""
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
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=15)
        # The Java child may outlive the wrapper; the group kill reaches it too.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=15)
        wait_until(lambda: not self.ready(), timeout=15, what=f"{self.kind} emulator to stop")
        self.process = None
