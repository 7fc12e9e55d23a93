"""``loyjoy-relay ga4 validate FILE|-`` and ``loyjoy-relay ga4 sink [--port N]``."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from loyjoy_relay.core.ga4.validation.body import validate_body, validation_response


def register(subparsers: Any) -> None:
    """Add ``ga4`` with its ``validate`` and ``sink`` sub-commands."""
    ga4 = subparsers.add_parser("ga4", help="GA4 Measurement Protocol tools")
    commands = ga4.add_subparsers(dest="ga4_command", required=True)

    validate = commands.add_parser(
        "validate",
        help="validate an MP request body as GA4's debug endpoint would",
        description='Print {"validationMessages": [...]}; exit 0 if there is none, 1 '
        "otherwise (warnings included: the relay sends a body with warnings only).",
    )
    validate.add_argument("file", help="a JSON file with the MP body, or - for stdin")
    validate.add_argument(
        "--enforce",
        action="store_true",
        help="validate with ENFORCE_RECOMMENDATIONS whatever the body asks for",
    )
    validate.set_defaults(handler=run_validate)

    sink = commands.add_parser("sink", help="run the local GA4 stand-in")
    sink.add_argument("--port", type=int, default=8089, help="port to listen on (0: any free)")
    sink.add_argument("--host", default="127.0.0.1", help="address to listen on")
    sink.set_defaults(handler=run_sink)


def run_validate(args: argparse.Namespace) -> int:
    """Print the validation messages; exit 0 when there are none, 1 otherwise.

    A warning (a recommendation GA4 does not enforce; its description starts with
    "Warning: ") is a message like any other, so a warning-only body exits 1: the contract
    says 0 only when there is none, and GA4's debug endpoint and Google's Event Builder
    also call a body with any message not clean. The relay still sends such a body: only
    errors make the planner set an event aside.
    """
    try:
        raw = sys.stdin.buffer.read() if args.file == "-" else Path(args.file).read_bytes()
    except OSError as error:
        print(
            f"loyjoy-relay ga4 validate: cannot read {args.file}: {error.strerror}", file=sys.stderr
        )
        return 2
    messages = validate_body(
        raw,
        now_micros=time.time_ns() // 1000,
        behavior="ENFORCE_RECOMMENDATIONS" if args.enforce else None,
    )
    print(json.dumps(validation_response(messages), indent=2, ensure_ascii=False))
    return 1 if messages else 0


def run_sink(args: argparse.Namespace) -> int:
    """Serve the GA4 stand-in until interrupted."""
    from loyjoy_relay.devstack.ga4_sink import Ga4Sink

    sink = Ga4Sink(args.host, args.port)
    print(f"GA4 sink listening on {sink.url} (GA4_ENDPOINT={sink.url})", flush=True)
    try:
        sink.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        sink.server_close()
    return 0
