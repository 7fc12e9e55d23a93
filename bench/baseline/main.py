"""The bare baseline: an HTTP function that parses the JSON body and answers 204.

Served by the same functions-framework server as ``ingest``, so the difference between
the two is what ingest itself costs (validation, publishing, logging).
"""

import json

import flask
import functions_framework


@functions_framework.http
def baseline(request: flask.Request) -> flask.Response:
    """Parse the body as JSON and answer 204."""
    json.loads(request.get_data())
    return flask.Response(status=204)
