"""Generate each function's requirements.txt from pyproject.toml (``--check`` to verify).

Cloud Functions installs ``requirements.txt`` from the function's source directory. The
ranges live once, in pyproject.toml's optional dependency groups ``ingest`` and ``relay``;
this script writes them out so the two can never drift (a test runs ``--check``).
"""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FUNCTIONS = ("ingest", "relay")
HEADER = "# Generated from pyproject.toml by infra/requirements.py; do not edit.\n"


def rendered(group: str) -> str:
    """The requirements.txt text for one function."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    lines = sorted(project["optional-dependencies"][group], key=str.lower)
    return HEADER + "".join(f"{line}\n" for line in lines)


def main(argv: list[str]) -> int:
    """Write (or with ``--check``, compare) every function's requirements.txt."""
    check = "--check" in argv
    stale = []
    for function in FUNCTIONS:
        target = ROOT / "functions" / function / "requirements.txt"
        text = rendered(function)
        if check:
            if not target.is_file() or target.read_text() != text:
                stale.append(str(target.relative_to(ROOT)))
        else:
            target.write_text(text)
    if stale:
        print("out of date (run: make requirements): " + ", ".join(stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
