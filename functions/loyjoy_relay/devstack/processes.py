"""Run a function under ``functions-framework`` as a real process on loopback."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from loyjoy_relay.devstack.emulators import free_port, wait_until

FUNCTIONS_DIR = Path(__file__).resolve().parents[2]
FUNCTIONS_FRAMEWORK = Path(sys.executable).parent / "functions-framework"


@dataclass
class ServerProcess:
    """A server command in its own process group; ``url`` once it answers HTTP."""

    args: list[str]
    env: dict[str, str]
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    log_path: Path = field(default_factory=lambda: Path(tempfile.mkstemp(suffix=".log")[1]))

    @property
    def url(self) -> str:
        """Base URL of the server."""
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60.0) -> ServerProcess:
        """Start the process and wait until any HTTP answer comes back."""
        args = [arg.replace("{port}", str(self.port)) for arg in self.args]
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                args,
                env={**os.environ, **self.env},
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        wait_until(
            self._answers, timeout=timeout, what=f"{args[0]} on {self.url}", alive=self.process
        )
        return self

    def _answers(self) -> bool:
        try:
            # The URL is always http://127.0.0.1:<port>, built above.
            urllib.request.urlopen(self.url + "/__ready", timeout=1).close()  # noqa: S310
        except urllib.error.HTTPError:
            return True
        except OSError:
            return False
        return True

    def stop(self) -> None:
        """Stop the process group."""
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
        self.process = None

    def kill(self) -> None:
        """SIGKILL the process group at once, as a crashed or evicted instance dies: no
        cleanup, no answer to requests in progress. :meth:`start` brings it back on the
        same port."""
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)
        self.process = None

    def log_text(self) -> str:
        """Everything the process printed so far."""
        return self.log_path.read_text(errors="replace")


def function_process(
    target: str,
    env: dict[str, str],
    signature: str = "http",
    source: Path | None = None,
) -> ServerProcess:
    """A ``functions-framework`` process serving ``target`` (from functions/<target>/main.py).

    Not in debug mode, so it runs under gunicorn as in production.
    """
    source = source or FUNCTIONS_DIR / target / "main.py"
    return ServerProcess(
        [
            str(FUNCTIONS_FRAMEWORK),
            f"--source={source}",
            f"--target={target}",
            f"--signature-type={signature}",
            "--host=127.0.0.1",
            "--port={port}",
        ],
        env,
    )
