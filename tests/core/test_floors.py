"""The pure floor stays pure: ``core/`` imports no adapter, service, CLI or I/O library.

The check reads every import statement of ``functions/loyjoy_relay/core`` (lazy ones too)
and allows only the core itself, the shared error tree, pydantic, and standard-library
modules that do no I/O, read no clock and draw no randomness.
"""

from __future__ import annotations

import ast
from pathlib import Path

from tests.support.processes import ROOT

CORE = ROOT / "functions" / "loyjoy_relay" / "core"
# Standard-library and third-party modules that compute only. A module that reads files,
# the network, the clock or the OS random source (os, pathlib, io, time, random, secrets,
# socket, urllib.request, google.*, requests, flask, yaml, ...) is an adapter's business.
PURE_MODULES = frozenset(
    {
        "__future__",
        "base64",
        "bisect",
        "collections",
        "collections.abc",
        "dataclasses",
        "enum",
        "functools",
        "hashlib",
        "hmac",
        "html",
        "ipaddress",
        "itertools",
        "json",
        "math",
        "operator",
        "pydantic",
        "pydantic_core",
        "re",
        "string",
        "typing",
        "unicodedata",
        "urllib.parse",
    }
)
OWN_ALLOWED = ("loyjoy_relay.core", "loyjoy_relay.errors")


def forbidden_imports(folder: Path) -> list[str]:
    """``file:line module`` for every import under ``folder`` that the pure floor may not make."""
    found = []
    for path in sorted(folder.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                own = name == "loyjoy_relay" or name.startswith("loyjoy_relay.")
                allowed = (
                    name.startswith(OWN_ALLOWED) if own else name in PURE_MODULES
                ) or name.split(".")[0] in ("pydantic", "pydantic_core")
                if not allowed:
                    found.append(f"{path.relative_to(folder.parent)}:{node.lineno} {name}")
    return found


def test_core_imports_no_adapter_and_no_io_library() -> None:
    """Every import in core/ is the core, the error tree, pydantic or a pure stdlib module."""
    assert CORE.is_dir()
    assert forbidden_imports(CORE) == []


def test_the_check_finds_an_outer_floor_or_io_import(tmp_path: Path) -> None:
    """An adapter import, an I/O library and a clock each make the check fail."""
    core = tmp_path / "core"
    core.mkdir()
    (core / "bad.py").write_text(
        "import time\n"
        "from loyjoy_relay.adapters.logs import JsonLogger\n"
        "def f():\n"
        "    from google.cloud import firestore\n"
        "    import yaml\n"
    )
    assert forbidden_imports(core) == [
        "core/bad.py:1 time",
        "core/bad.py:2 loyjoy_relay.adapters.logs",
        "core/bad.py:4 google.cloud",
        "core/bad.py:5 yaml",
    ]
