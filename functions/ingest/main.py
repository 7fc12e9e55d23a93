"""Cloud Function ``ingest``: LoyJoy events over HTTP into Pub/Sub (see DESIGN.md)."""

import flask
import functions_framework
from loyjoy_relay.service.ingest import create_service

_service = create_service()  # once per instance: settings checked, Pub/Sub client made


@functions_framework.http
def ingest(request: flask.Request) -> flask.Response:
    """Accept a batch of LoyJoy events; 202 once Pub/Sub holds them."""
    return _service.handle(request)
