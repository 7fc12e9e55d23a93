"""The whole pipeline on the emulators: what ``loyjoy-relay dev`` runs and e2e tests use.

Topology as in production: ingest (functions-framework) publishes to the topic; a push
subscription with a dead-letter policy and exponential backoff delivers to the relay
(functions-framework, CloudEvent signature); the relay reads Firestore and sends to the
GA4 stand-in; a pull subscription holds dead letters for ``loyjoy-relay replay``.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import Any

from loyjoy_relay.adapters.client_ids import random_pseudonym_key
from loyjoy_relay.devstack.emulators import Emulator
from loyjoy_relay.devstack.ga4_sink import Ga4Sink
from loyjoy_relay.devstack.processes import ServerProcess, function_process

# The local GA4 stand-in checks neither; any well-formed values do.
LOCAL_MEASUREMENT_ID = "G-LOCAL12345"
LOCAL_API_SECRET = "local"  # noqa: S105


@dataclass
class PipelineOptions:
    """Knobs of the local topology."""

    project: str = "local-project"
    topic: str = "loyjoy-events"
    allowed_origins: str = "*"
    allowed_bot_ids: str = ""
    max_delivery_attempts: int = 5
    min_backoff_seconds: int = 1
    max_backoff_seconds: int = 4
    ack_deadline_seconds: int = 60
    relay_env: dict[str, str] = field(default_factory=dict)
    ingest_env: dict[str, str] = field(default_factory=dict)
    tap_subscription: bool = False


@dataclass
class EmulatorPipeline:
    """Emulators, the two functions and the GA4 stand-in, wired like production."""

    pubsub: Emulator
    firestore: Emulator
    options: PipelineOptions = field(default_factory=PipelineOptions)
    sink: Ga4Sink | None = None
    ingest: ServerProcess | None = None
    relay: ServerProcess | None = None

    @property
    def dead_letter_topic(self) -> str:
        """Name of the dead-letter topic."""
        return f"{self.options.topic}-dead-letter"

    @property
    def replay_subscription(self) -> str:
        """Name of the subscription holding dead letters for replay."""
        return f"{self.options.topic}-dead-letter-replay"

    @property
    def env(self) -> dict[str, str]:
        """The environment both functions and the CLI see."""
        return {
            "GOOGLE_CLOUD_PROJECT": self.options.project,
            "RELAY_TOPIC": self.options.topic,
            **self.pubsub.env,
            **self.firestore.env,
        }

    def start(self) -> EmulatorPipeline:
        """Start the GA4 stand-in and both functions, and create topics and subscriptions."""
        self.sink = Ga4Sink().start()
        self.relay = function_process(
            "relay",
            {
                **self.env,
                "GA4_MEASUREMENT_ID": LOCAL_MEASUREMENT_ID,
                "GA4_API_SECRET": LOCAL_API_SECRET,
                "GA4_ENDPOINT": self.sink.url,
                "PSEUDONYM_KEY": random_pseudonym_key(),  # a new key per run
                **self.options.relay_env,
            },
            signature="cloudevent",
        ).start()
        self.create_topology()
        self.ingest = function_process(
            "ingest",
            {
                **self.env,
                "ALLOWED_ORIGINS": self.options.allowed_origins,
                "ALLOWED_BOT_IDS": self.options.allowed_bot_ids,
                **self.options.ingest_env,
            },
        ).start()
        return self

    def create_topology(self) -> None:
        """Create the topic, the dead-letter topic, the push and replay subscriptions."""
        from google.cloud import pubsub_v1  # type: ignore[attr-defined]

        assert self.relay is not None
        publisher = pubsub_v1.PublisherClient()
        subscriber = pubsub_v1.SubscriberClient()
        project = self.options.project
        topic = publisher.topic_path(project, self.options.topic)
        dead_letter_topic = publisher.topic_path(project, self.dead_letter_topic)
        for path in (topic, dead_letter_topic):
            _create(publisher.create_topic, {"name": path})
        _create(
            subscriber.create_subscription,
            {
                "name": subscriber.subscription_path(project, f"{self.options.topic}-relay"),
                "topic": topic,
                "push_config": {"push_endpoint": self.relay.url + "/"},
                "ack_deadline_seconds": self.options.ack_deadline_seconds,
                "dead_letter_policy": {
                    "dead_letter_topic": dead_letter_topic,
                    "max_delivery_attempts": self.options.max_delivery_attempts,
                },
                "retry_policy": {
                    "minimum_backoff": {"seconds": self.options.min_backoff_seconds},
                    "maximum_backoff": {"seconds": self.options.max_backoff_seconds},
                },
            },
        )
        _create(
            subscriber.create_subscription,
            {
                "name": subscriber.subscription_path(project, self.replay_subscription),
                "topic": dead_letter_topic,
                "ack_deadline_seconds": 60,
            },
        )
        if self.options.tap_subscription:
            _create(
                subscriber.create_subscription,
                {
                    "name": subscriber.subscription_path(project, f"{self.options.topic}-tap"),
                    "topic": topic,
                },
            )

    def stop(self) -> None:
        """Stop the functions and the stand-in (the emulators belong to the caller)."""
        for process in (self.ingest, self.relay):
            if process is not None:
                process.stop()
        if self.sink is not None:
            self.sink.stop()


def _create(call: Any, request: dict[str, Any]) -> None:
    from google.api_core.exceptions import AlreadyExists

    with contextlib.suppress(AlreadyExists):
        call(request=request)
