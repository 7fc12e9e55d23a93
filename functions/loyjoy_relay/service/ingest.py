"""The ingest function's HTTP handling: CORS, methods, content types, status codes.

The flow of a POST: origin check → content type → automated clients refused → the
source address's rate limit → parse and validate every event (``events``) → each
client's rate limit → publish one message per client → answer. Every refusal is a 4xx
with a reason (429 with ``Retry-After`` over a rate limit, see ``admission``); only a
publish that Pub/Sub did not acknowledge answers 503 (the client retries).
"""

from __future__ import annotations

import functools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import flask

from loyjoy_relay.adapters.logs import JsonLogger, LogMessage
from loyjoy_relay.adapters.ports import MessagePublisher, OutgoingMessage
from loyjoy_relay.config import IngestSettings
from loyjoy_relay.core.context.model import RequestContext
from loyjoy_relay.core.contract import MAX_BODY_BYTES, ParsedRequest, parse_request
from loyjoy_relay.errors import InvalidInput, PublishError, TooLarge
from loyjoy_relay.service.admission import Admission, Refusal, automated_marker, source_address
from loyjoy_relay.service.request_context import RequestContextReader

ACCEPTED_CONTENT_TYPES = ("application/json", "text/plain")
LISTENER_PATH = "/listener.js"
PREFLIGHT_MAX_AGE_SECONDS = 3600
LISTENER_MAX_AGE_SECONDS = 300


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


@dataclass
class IngestService:
    """Answers ingest requests; holds the settings, the publisher and the request-context
    reader (device and location, with its cache) of one instance."""

    settings: IngestSettings
    publisher: MessagePublisher
    logger: JsonLogger
    clock: Callable[[], int] = _now_ms
    admission: Admission | None = None
    context_reader: RequestContextReader = field(init=False)

    def __post_init__(self) -> None:
        self.context_reader = RequestContextReader(
            self.settings.geo_country_header, self.settings.geo_region_header
        )
        if self.admission is None:
            self.admission = Admission(self.settings.rate_limits)

    def handle(self, request: flask.Request) -> flask.Response:
        """Answer one HTTP request; never raises for anything a client sent."""
        started = time.perf_counter()
        origin = request.headers.get("Origin")
        if request.method == "GET" and request.path == LISTENER_PATH:
            return self._listener_script()
        if origin is not None and not self.settings.origin_allowed(origin):
            response = _json(403, {"error": "origin not allowed"})
            self._log(request, response, started, reason="origin not allowed")
            return response
        if request.method == "OPTIONS":
            response = flask.Response(status=204)
            response.headers["Access-Control-Allow-Methods"] = "POST, OPTIONS"
            response.headers["Access-Control-Allow-Headers"] = "Content-Type"
            response.headers["Access-Control-Max-Age"] = str(PREFLIGHT_MAX_AGE_SECONDS)
        elif request.method != "POST":
            response = _json(405, {"error": "use POST (or GET /listener.js)"})
            response.headers["Allow"] = "POST, OPTIONS"
        else:
            response, parsed, reason = self._ingest(request)
            self._log(request, response, started, parsed=parsed, reason=reason)
        return self._with_cors(response, origin)

    def _ingest(
        self, request: flask.Request
    ) -> tuple[flask.Response, ParsedRequest | None, str | None]:
        """Screen and rate-limit the request, then ingest it."""
        assert self.admission is not None  # set in __post_init__
        if request.mimetype not in ACCEPTED_CONTENT_TYPES:
            body = {"error": "send application/json or text/plain holding JSON"}
            return _json(415, body), None, None
        facts = self.context_reader.read(request.headers)
        if self.settings.screen_automated_clients and (
            facts.is_crawler
            or automated_marker(
                request.headers.get("User-Agent"), self.settings.automated_user_agents
            )
        ):
            body = {"error": "automated clients (crawlers, headless browsers) are not relayed"}
            return _json(403, body), None, "automated client"
        address = source_address(
            request.headers.get("X-Forwarded-For"),
            request.remote_addr,
            self.settings.rate_limits.trusted_proxy_hops,
        )
        refusal = self.admission.admit_address(address)
        if refusal is None:
            response, parsed = self._parsed_and_published(request, facts.context)
            return response, parsed, None
        return _too_many(refusal), None, f"rate limited ({refusal.limit})"

    def _parsed_and_published(
        self, request: flask.Request, context: RequestContext | None
    ) -> tuple[flask.Response, ParsedRequest | None]:
        assert self.admission is not None  # set in __post_init__
        if (request.content_length or 0) > MAX_BODY_BYTES:
            return _json(413, {"error": f"body is larger than {MAX_BODY_BYTES} bytes"}), None
        body = request.stream.read(MAX_BODY_BYTES + 1)
        try:
            parsed = parse_request(
                body,
                received_at=self.clock(),
                bot_allowed=self.settings.bot_allowed,
                custom_names=self.settings.custom_event_names,
                context=context,
            )
        except InvalidInput as error:
            status = 413 if isinstance(error, TooLarge) else 400
            return _json(status, {"error": error.reason}), None
        rejected = [rejection.as_json() for rejection in parsed.rejected]
        if not parsed.batches:
            refused_bots_only = parsed.any_from_refused_bot and not parsed.any_from_allowed_bot
            status = 403 if refused_bots_only else 400
            message = "no event from an allowed bot" if refused_bots_only else "no valid event"
            return _json(status, {"error": message, "accepted": 0, "rejected": rejected}), parsed
        refusal = self.admission.admit_clients(batch.client_id for batch in parsed.batches)
        if refusal is not None:
            return _too_many(refusal), parsed
        messages = [OutgoingMessage(*batch.to_message()) for batch in parsed.batches]
        try:
            self.publisher.publish_all(messages)
        except PublishError as error:
            response = _json(503, {"error": str(error)})
            response.headers["Retry-After"] = "1"
            return response, parsed
        return _json(202, {"accepted": parsed.accepted, "rejected": rejected}), parsed

    def _with_cors(self, response: flask.Response, origin: str | None) -> flask.Response:
        response.headers["Vary"] = "Origin"
        if origin is not None:
            response.headers["Access-Control-Allow-Origin"] = origin
            # The listener reads Retry-After of a 429 or 503 to know when to try again.
            response.headers["Access-Control-Expose-Headers"] = "Retry-After"
        return response

    def _listener_script(self) -> flask.Response:
        response = flask.Response(_listener_source(), mimetype="text/javascript")
        response.headers["Cache-Control"] = f"public, max-age={LISTENER_MAX_AGE_SECONDS}"
        response.headers["Access-Control-Allow-Origin"] = "*"
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response

    def _log(
        self,
        request: flask.Request,
        response: flask.Response,
        started: float,
        parsed: ParsedRequest | None = None,
        reason: str | None = None,
    ) -> None:
        fields: dict[str, Any] = {
            "status": response.status_code,
            "latency_ms": round((time.perf_counter() - started) * 1000, 2),
            "body_bytes": request.content_length or 0,
        }
        if parsed is not None:
            fields["accepted"] = parsed.accepted
            fields["rejected"] = len(parsed.rejected)
            fields["messages"] = len(parsed.batches)
            # One string, not a list: a log-based metric can extract a string field.
            fields["reject_reasons"] = ",".join(
                sorted({rejection.reason.split(":", 1)[0] for rejection in parsed.rejected})
            )
        if reason is not None:
            fields["reason"] = reason
        severity = "WARNING" if response.status_code >= 400 else "INFO"
        self.logger.log(severity, LogMessage.INGEST_REQUEST, **fields)


@functools.cache
def _listener_source() -> bytes:
    return resources.files("loyjoy_relay").joinpath("static/listener.js").read_bytes()


def _too_many(refusal: Refusal) -> flask.Response:
    response = _json(
        429,
        {
            "error": f"too many requests from this {refusal.limit}; nothing was published",
            "retry_after": refusal.retry_after,
        },
    )
    response.headers["Retry-After"] = str(refusal.retry_after)
    return response


def _json(status: int, body: dict[str, Any]) -> flask.Response:
    return flask.Response(json.dumps(body), status=status, mimetype="application/json")


def create_service(publisher: MessagePublisher | None = None) -> IngestService:
    """Build the service from the environment (raises ConfigError naming the variable)."""
    from loyjoy_relay.adapters.pubsub import PubSubPublisher

    settings = IngestSettings.from_env()
    if publisher is None:
        publisher = PubSubPublisher(settings.project, settings.topic)
    return IngestService(settings, publisher, JsonLogger("ingest"))
