"""Command line: ``serve`` the schema-only provider, or ``validate`` Terraform directories.

python -m infra.schema_provider validate terraform     # what `make terraform-check` runs
python -m infra.schema_provider serve --socket PATH    # what the runner starts
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from infra.schema_provider import runner, server


def _validate(directories: list[Path]) -> int:
    failed = False
    with runner.running_provider() as provider:
        for directory in directories:
            result = runner.validate(provider, directory)
            if result.init.returncode != 0:
                print(f"{directory}: terraform init failed", file=sys.stderr)
                print(result.init.stdout + result.init.stderr, file=sys.stderr)
                failed = True
                continue
            checked = Counter(call["rpc"] for call in result.calls)
            for diagnostic in sorted(result.report.get("diagnostics", []), key=_position):
                print(_describe(directory, diagnostic), file=sys.stderr)
            verdict = "valid" if result.ok else "INVALID"
            print(
                f"{directory}: {verdict} against the google provider schema; the provider "
                f"checked {checked['resource']} resource, {checked['data']} data source and "
                f"{checked['provider']} provider blocks (computed-only values, enums)"
            )
            failed = failed or not result.ok
    return 1 if failed else 0


def _position(diagnostic: dict[str, Any]) -> tuple[str, int]:
    place = diagnostic.get("range") or {}
    return str(place.get("filename", "")), int(place.get("start", {}).get("line", 0))


def _describe(directory: Path, diagnostic: dict[str, object]) -> str:
    where = ""
    place = diagnostic.get("range")
    if isinstance(place, dict):
        start = place.get("start", {})
        line = start.get("line") if isinstance(start, dict) else None
        where = f"{directory / str(place.get('filename'))}:{line}: "
    detail = diagnostic.get("detail") or ""
    return f"{where}{diagnostic.get('severity')}: {diagnostic.get('summary')}\n  {detail}".rstrip()


def main(argv: list[str]) -> int:
    """Parse the command line and run one command."""
    parser = argparse.ArgumentParser(prog="python -m infra.schema_provider")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve the provider on a Unix socket")
    serve.add_argument("--socket", type=Path, required=True)
    serve.add_argument("--record", type=Path)
    check = commands.add_parser("validate", help="terraform init + validate, offline")
    check.add_argument("directories", type=Path, nargs="+")
    args = parser.parse_args(argv)
    if args.command == "serve":
        return server.serve(args.socket, args.record)
    return _validate(args.directories)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
