"""``ingest`` as shipped, except that it publishes with ``bench.coalescing_publisher``.

The real service (``create_service(publisher=...)``) with the messages of concurrent
requests sent together in one Publish RPC, so the bench can show what that would buy.
Without ordering keys: Pub/Sub takes one ordering key per Publish request, so requests
of different clients can share an RPC only unordered (see the publisher's docstring).
"""

import flask
import functions_framework
from loyjoy_relay.config import IngestSettings
from loyjoy_relay.service.ingest import create_service

from bench.coalescing_publisher import CoalescingPublisher

_settings = IngestSettings.from_env()
_service = create_service(
    CoalescingPublisher(_settings.project, _settings.topic, keep_ordering_keys=False)
)


@functions_framework.http
def ingest(request: flask.Request) -> flask.Response:
    """Accept a batch of LoyJoy events; 202 once Pub/Sub holds them."""
    return _service.handle(request)
