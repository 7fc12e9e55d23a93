"""Start the schema-only provider, point Terraform at it, run init and validate, stop it.

The provider runs as its own process in its own process group, in a temporary directory
that holds its socket, its call record, an empty Terraform CLI configuration and
Terraform's data directories (so nothing is written into the configuration validated).
:func:`running_provider` waits for the provider's handshake line, never for a fixed time,
and always kills the whole group on the way out.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
PROVIDER_ADDRESS = "registry.terraform.io/hashicorp/google"
START_TIMEOUT_S = 60.0
TERRAFORM_TIMEOUT_S = 120.0


@dataclass(frozen=True)
class RunningProvider:
    """A started provider: its process and where it listens and records."""

    process: subprocess.Popen[str]
    directory: Path

    @property
    def socket(self) -> Path:
        """The Unix socket the provider serves on."""
        return self.directory / "provider.sock"

    @property
    def record(self) -> Path:
        """One JSON line per Validate* call the provider answered."""
        return self.directory / "calls.jsonl"

    def environment(self, config_dir: Path) -> dict[str, str]:
        """Terraform's environment: this provider for google, no network, own data dir."""
        reattach = {
            PROVIDER_ADDRESS: {
                "Protocol": "grpc",
                "ProtocolVersion": 6,
                "Pid": self.process.pid,
                "Test": True,  # Terraform neither starts nor stops this process
                "Addr": {"Network": "unix", "String": str(self.socket)},
            }
        }
        key = hashlib.sha256(str(config_dir.resolve()).encode()).hexdigest()[:12]
        cli_config = self.directory / "terraformrc"
        cli_config.touch()
        return {
            "TF_REATTACH_PROVIDERS": json.dumps(reattach),
            "TF_CLI_CONFIG_FILE": str(cli_config),  # no mirrors or caches of the user's
            "TF_DATA_DIR": str(self.directory / f"data-{key}"),
            "TF_IN_AUTOMATION": "1",
            "CHECKPOINT_DISABLE": "1",  # no version check against HashiCorp's servers
        }

    def calls(self) -> list[dict[str, Any]]:
        """The Validate* calls answered so far, oldest first."""
        if not self.record.is_file():
            return []
        return [json.loads(line) for line in self.record.read_text().splitlines()]


@contextlib.contextmanager
def running_provider() -> Iterator[RunningProvider]:
    """A started schema-only provider, stopped (its whole process group) on exit."""
    directory = Path(tempfile.mkdtemp(prefix="schema-provider-"))
    log = (directory / "provider.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "infra.schema_provider", "serve",
         "--socket", str(directory / "provider.sock"), "--record", str(directory / "calls.jsonl")],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
        start_new_session=True,  # its own process group, killed as one
    )  # fmt: skip
    provider = RunningProvider(process, directory)
    try:
        _wait_for_handshake(provider)
        yield provider
    finally:
        _stop(process)
        log.close()
        shutil.rmtree(directory, ignore_errors=True)


def _wait_for_handshake(provider: RunningProvider) -> None:
    assert provider.process.stdout is not None
    deadline = time.monotonic() + START_TIMEOUT_S
    with selectors.DefaultSelector() as selector:
        selector.register(provider.process.stdout, selectors.EVENT_READ)
        while time.monotonic() < deadline:
            if selector.select(timeout=deadline - time.monotonic()):
                line = provider.process.stdout.readline()
                if line.startswith("1|6|unix|"):
                    return
                if line == "":  # the process ended before it was ready
                    break
    log = (provider.directory / "provider.log").read_text()
    raise RuntimeError(f"the schema-only provider did not start:\n{log}")


def _stop(process: subprocess.Popen[str]) -> None:
    for sig, wait_s in ((signal.SIGTERM, 10.0), (signal.SIGKILL, 10.0)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        try:
            process.wait(timeout=wait_s)
            return
        except subprocess.TimeoutExpired:
            continue


@dataclass(frozen=True)
class Validation:
    """What ``terraform init -backend=false`` and ``terraform validate -json`` said."""

    init: subprocess.CompletedProcess[str]
    validate: subprocess.CompletedProcess[str] | None
    report: dict[str, Any]  # validate's JSON, or {} when init failed
    calls: list[dict[str, Any]]  # the provider's Validate* calls during this run

    @property
    def ok(self) -> bool:
        """Init and validate both succeeded and the configuration is valid."""
        return self.init.returncode == 0 and self.report.get("valid") is True


def terraform(
    provider: RunningProvider, config_dir: Path, *args: str, stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    """Run one terraform command on ``config_dir`` against the schema-only provider."""
    terraform_binary = shutil.which("terraform")
    if terraform_binary is None:
        raise FileNotFoundError("terraform is not on PATH")
    return subprocess.run(
        [terraform_binary, f"-chdir={config_dir}", *args],
        env={**os.environ, **provider.environment(config_dir)},
        input=stdin,
        capture_output=True,
        text=True,
        timeout=TERRAFORM_TIMEOUT_S,
        check=False,
    )


def validate(provider: RunningProvider, config_dir: Path) -> Validation:
    """``terraform init -backend=false``, then ``terraform validate -json``, of one directory."""
    before = len(provider.calls())
    init = terraform(provider, config_dir, "init", "-backend=false", "-input=false", "-no-color")
    if init.returncode != 0:
        return Validation(init, None, {}, provider.calls()[before:])
    result = terraform(provider, config_dir, "validate", "-json", "-no-color")
    report = json.loads(result.stdout) if result.stdout.strip() else {}
    return Validation(init, result, report, provider.calls()[before:])
