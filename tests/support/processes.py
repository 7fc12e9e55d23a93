"""Run a function under ``functions-framework`` as a real process on loopback."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.net import free_port, wait_until

ROOT = Path(__file__).resolve().parents[2]
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
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            args,
            env={**os.environ, **self.env},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            cwd=ROOT,
        )
        wait_until(
            self._answers, timeout=timeout, what=f"{args[0]} on {self.url}", alive=self.process
        )
        return self

    def _answers(self) -> bool:
        try:
            urllib.request.urlopen(self.url + "/__ready", timeout=1).close()
        except urllib.error.HTTPError:
            return True
        except OSError:
            return False
        return True

    def stop(self) -> None:
        """Stop the process group."""
        if self.process is None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=10)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
        self.process = None

    def log_text(self) -> str:
        """Everything the process printed so far."""
        return self.log_path.read_text(errors="replace")


def function_process(target: str, env: dict[str, str], signature: str = "http") -> ServerProcess:
    """A ``functions-framework`` process serving ``functions/<target>/main.py``."""
    source = ROOT / "functions" / target / "main.py"
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
