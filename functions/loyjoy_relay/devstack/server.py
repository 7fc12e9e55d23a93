"""The dev web server: the live view, the demo page, and the flow as JSON."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from importlib import resources
from urllib.parse import urlencode

import flask
from werkzeug.serving import BaseWSGIServer, make_server

from loyjoy_relay.devstack.flow import FlowBoard

STATIC_FILES = {"demo.html": "text/html", "loyjoy-standin.js": "text/javascript"}


@dataclass
class DevState:
    """What the dev server shows; ``ingest_url`` and ``mode`` are set once the stack runs."""

    board: FlowBoard
    bot_id: str
    ingest_url: str = ""
    mode: str = "starting"


def create_app(state: DevState) -> flask.Flask:
    """The Flask app of the dev server."""
    app = flask.Flask("loyjoy-relay-dev")

    @app.get("/")
    def live_view() -> flask.Response:
        page = resources.files("loyjoy_relay.devstack").joinpath("live.html").read_bytes()
        return flask.Response(page, mimetype="text/html")

    @app.get("/demo")
    def demo() -> flask.typing.ResponseReturnValue:
        query = urlencode({"endpoint": state.ingest_url, "bot": state.bot_id, "live": "/"})
        return flask.redirect(f"/static/demo.html?{query}")

    @app.get("/static/<name>")
    def static_file(name: str) -> flask.Response:
        if name not in STATIC_FILES:
            flask.abort(404)
        body = resources.files("loyjoy_relay").joinpath(f"static/{name}").read_bytes()
        return flask.Response(body, mimetype=STATIC_FILES[name])

    @app.get("/favicon.ico")
    def favicon() -> flask.Response:
        return flask.Response(status=204)

    @app.get("/api/flow")
    def flow() -> flask.Response:
        snapshot = state.board.snapshot()
        return flask.jsonify({**snapshot, "mode": state.mode, "ingest_url": state.ingest_url})

    return app


def serve(app: flask.Flask, port: int) -> BaseWSGIServer:
    """Serve ``app`` on 127.0.0.1:``port`` in a background thread."""
    server = make_server("127.0.0.1", port, app, threaded=True)
    threading.Thread(target=server.serve_forever, name="dev-server", daemon=True).start()
    return server
