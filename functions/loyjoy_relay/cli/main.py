"""``loyjoy-relay``: one console script, a sub-command per task."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from loyjoy_relay.errors import ConfigError

# Each module has ``register(subparsers)`` that adds its commands and sets ``handler``.
# Imported lazily per module so one command does not pay for another's libraries.
COMMAND_MODULES = (
    "loyjoy_relay.cli.dev_command",
    "loyjoy_relay.cli.rules_command",
    "loyjoy_relay.cli.explain_command",
    "loyjoy_relay.cli.ga4_command",
    "loyjoy_relay.cli.replay_command",
)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every available sub-command."""
    parser = argparse.ArgumentParser(
        prog="loyjoy-relay", description="LoyJoy chat events to GA4, server side."
    )
    subparsers = parser.add_subparsers(dest="command", required=True)
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as error:
            if error.name != name:
                raise
            continue
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; return its exit code."""
    args = build_parser().parse_args(argv)
    try:
        code: int = args.handler(args)
    except ConfigError as error:
        print(f"loyjoy-relay: configuration error: {error}", file=sys.stderr)
        return 2
    return code


if __name__ == "__main__":
    sys.exit(main())
