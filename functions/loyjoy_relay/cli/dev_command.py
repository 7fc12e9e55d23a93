"""``loyjoy-relay dev``: the whole pipeline on this machine, with a live view and a demo."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from typing import Any

DEMO_BOT = "demo-bot"


def register(subparsers: Any) -> None:
    """Add the ``dev`` command."""
    parser = subparsers.add_parser(
        "dev",
        help="run ingest, a queue, relay and a GA4 stand-in locally, with a live view",
        description=(
            "Uses the Pub/Sub and Firestore emulators when gcloud has them, an embedded "
            "in-process queue and store otherwise."
        ),
    )
    parser.add_argument("--port", type=int, default=8080, help="port of the live view (0: any)")
    parser.add_argument(
        "--embedded",
        action="store_true",
        help="use the embedded queue and store even if gcloud has emulators",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Start everything, print what to open, and run until interrupted."""
    from loyjoy_relay.devstack.emulators import gcloud_has
    from loyjoy_relay.devstack.flow import FlowBoard
    from loyjoy_relay.devstack.server import DevState, create_app, serve

    state = DevState(FlowBoard(), DEMO_BOT)
    try:
        server = serve(create_app(state), args.port)
    except OSError as error:
        print(
            f"loyjoy-relay dev: cannot listen on port {args.port}: {error.strerror}",
            file=sys.stderr,
        )
        return 2
    port = server.server_port
    origins = f"http://127.0.0.1:{port},http://localhost:{port}"
    stop = threading.Event()
    use_emulators = not args.embedded and gcloud_has("pubsub") and gcloud_has("firestore")
    if use_emulators:
        stack, lines = _start_emulators(state, origins, stop)
    else:
        stack, lines = _start_embedded(state, origins, stop)
    print(f"loyjoy-relay dev: the whole pipeline is running ({state.mode}).", flush=True)
    print(f"  live view     http://127.0.0.1:{port}/")
    print(f"  demo page     http://127.0.0.1:{port}/demo")
    for line in lines:
        print(f"  {line}")
    print("Press Ctrl-C to stop.", flush=True)
    _wait_for_signal()
    stop.set()
    stack.stop()
    server.shutdown()
    return 0


def _wait_for_signal() -> None:
    done = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: done.set())
    done.wait()


class _EmulatorStack:
    def __init__(self, pipeline: Any, emulators: list[Any]) -> None:
        self.pipeline = pipeline
        self.emulators = emulators

    def stop(self) -> None:
        self.pipeline.stop()
        for emulator in self.emulators:
            emulator.stop()


def _start_emulators(state: Any, origins: str, stop: threading.Event) -> tuple[Any, list[str]]:
    from loyjoy_relay.devstack.emulators import Emulator
    from loyjoy_relay.devstack.pipeline import EmulatorPipeline, PipelineOptions
    from loyjoy_relay.devstack.watch import follow_log, follow_sink, follow_tap

    print("loyjoy-relay dev: starting the Pub/Sub and Firestore emulators…", flush=True)
    pubsub, firestore = Emulator("pubsub"), Emulator("firestore")
    try:
        pubsub.start()
        firestore.start()
        os.environ.update({**pubsub.env, **firestore.env})
        options = PipelineOptions(allowed_origins=origins, tap_subscription=True)
        pipeline = EmulatorPipeline(pubsub, firestore, options).start()
    except BaseException:
        pubsub.stop()
        firestore.stop()
        raise
    assert pipeline.ingest is not None
    assert pipeline.relay is not None
    assert pipeline.sink is not None
    for process in (pipeline.ingest, pipeline.relay):
        follow_log(process.log_path, state.board.on_log, stop)
    follow_sink(pipeline.sink, state.board, stop)
    tap = f"projects/{options.project}/subscriptions/{options.topic}-tap"
    follow_tap(tap, state.board, stop)
    state.ingest_url, state.mode = pipeline.ingest.url, "Pub/Sub and Firestore emulators"
    env = " ".join(f"{k}={v}" for k, v in pipeline.env.items())
    return _EmulatorStack(pipeline, [pubsub, firestore]), [
        f"ingest        {pipeline.ingest.url}   (POST events; GET /listener.js)",
        f"relay         {pipeline.relay.url}   (fed by the emulator's push subscription)",
        f"GA4 stand-in  {pipeline.sink.url}   (what GA4 would have received)",
        f"logs          {pipeline.ingest.log_path}  {pipeline.relay.log_path}",
        f"for the CLI   {env}",
    ]


def _start_embedded(state: Any, origins: str, stop: threading.Event) -> tuple[Any, list[str]]:
    from loyjoy_relay.devstack.embedded import start_embedded
    from loyjoy_relay.devstack.watch import follow_sink

    stack = start_embedded(
        allowed_origins=origins, on_log=state.board.on_log, on_published=state.board.on_published
    )
    follow_sink(stack.sink, state.board, stop)
    state.ingest_url, state.mode = stack.ingest_url, "embedded in-process queue and store"
    return stack, [
        f"ingest        {stack.ingest_url}   (POST events; GET /listener.js)",
        f"GA4 stand-in  {stack.sink.url}   (what GA4 would have received)",
    ]
