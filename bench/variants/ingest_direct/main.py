"""``ingest`` as shipped, except that it publishes with ``bench.direct_publisher``.

The real service (``create_service(publisher=...)``) with one synchronous Publish RPC
per request, so the bench can show what the publisher change would buy.
"""

import flask
import functions_framework
from loyjoy_relay.config import IngestSettings
from loyjoy_relay.ingest_http import create_service

from bench.direct_publisher import DirectPublisher

_settings = IngestSettings.from_env()
_service = create_service(DirectPublisher(_settings.project, _settings.topic))


@functions_framework.http
def ingest(request: flask.Request) -> flask.Response:
    """Accept a batch of LoyJoy events; 202 once Pub/Sub holds them."""
    return _service.handle(request)
