"""Real function processes for tests (the dev stack's own launcher)."""

from pathlib import Path

from loyjoy_relay.devstack.processes import ServerProcess, function_process

ROOT = Path(__file__).resolve().parents[2]

__all__ = ["ROOT", "ServerProcess", "function_process"]
