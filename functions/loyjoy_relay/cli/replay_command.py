"""``loyjoy-relay replay``: move dead-lettered messages back onto the main topic."""

from __future__ import annotations

import argparse
import json
from typing import Any

from loyjoy_relay.config import ReplaySettings


def register(subparsers: Any) -> None:
    """Add the ``replay`` command."""
    parser = subparsers.add_parser(
        "replay",
        help="move dead-lettered messages back onto the main topic",
        description=(
            "Pulls dead letters from the dead-letter subscription (DEAD_LETTER_SUBSCRIPTION, "
            "default <RELAY_TOPIC>-dead-letter-replay), shows how many and why, republishes "
            "them to RELAY_TOPIC and acknowledges each only after its republish succeeded."
        ),
    )
    parser.add_argument("--dry-run", action="store_true", help="only show what would be done")
    parser.add_argument("--limit", type=int, default=1000, help="at most this many messages")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Replay dead letters; print a JSON summary; exit 1 if any could not be replayed."""
    from google.cloud import pubsub_v1  # type: ignore[attr-defined]

    from loyjoy_relay.adapters.pubsub import PubSubPublisher
    from loyjoy_relay.service.replay import Replayer

    settings = ReplaySettings.from_env()
    subscriber = pubsub_v1.SubscriberClient()
    subscription = subscriber.subscription_path(settings.project, settings.dead_letter_subscription)
    replayer = Replayer(subscriber, subscription, PubSubPublisher(settings.project, settings.topic))
    report = replayer.run(max(0, args.limit), dry_run=args.dry_run)
    summary = {"dry_run": args.dry_run, **report.as_json()}
    print(json.dumps(summary, indent=2))
    return 1 if report.kept and not args.dry_run else 0
