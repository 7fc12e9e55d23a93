"""The local GA4 stand-in: records what arrives, answers like GA4, fails on request.

``POST /mp/collect`` answers 204 and records the body (even an invalid one, as GA4 does);
``POST /debug/mp/collect`` answers the validation messages; ``GET /`` is a readable page,
``GET /events`` the JSON record, ``DELETE /events`` clears it; ``POST /control`` with
``{"fail_next": N, "status": 503}`` or ``{"delay_ms": M}`` injects faults, and two more
that GA4 itself can show: ``{"lose_next": N}`` records the next N collect requests (GA4
got them) but never answers (the sender times out), ``{"hold_next": N}`` records them and
keeps the answer back until ``{"release": true}``. Start it in process with
:meth:`Ga4Sink.start` or as ``loyjoy-relay ga4 sink``. Nothing it records or logs holds
the API secret.
"""

from __future__ import annotations

import json
import select
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from loyjoy_relay.core.ga4.validation.body import validate_body, validation_response
from loyjoy_relay.devstack.ga4_sink_page import render_page

MAX_REQUEST_BYTES = 2 * 1024 * 1024
COLLECT_PATHS = ("/mp/collect", "/debug/mp/collect")


@dataclass(frozen=True, slots=True)
class SinkRecord:
    """One request that arrived: when (ms), where, for which measurement id, and its body."""

    received_at: int
    path: str
    measurement_id: str | None
    body: Any

    def as_json(self) -> dict[str, Any]:
        """The ``GET /events`` shape of this record."""
        return {
            "received_at": self.received_at,
            "path": self.path,
            "measurement_id": self.measurement_id,
            "body": self.body,
        }


class Ga4Sink(ThreadingHTTPServer):
    """An HTTP server standing in for GA4; its state is safe to read from other threads."""

    daemon_threads = True

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        clock_micros: Callable[[], int] = lambda: time.time_ns() // 1000,
    ) -> None:
        super().__init__((host, port), _Handler)
        self.clock_micros = clock_micros
        self._lock = threading.Lock()
        self._records: list[SinkRecord] = []
        self._fail_next = 0
        self._fail_status = 503
        self._delay_ms = 0
        self._lose_next = 0
        self._hold_next = 0
        self._holding = 0
        self._released = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """Base URL to use as ``GA4_ENDPOINT``."""
        host, port = self.server_address[:2]
        return f"http://{'127.0.0.1' if host in ('0.0.0.0', '') else host!s}:{port}"

    def start(self) -> Ga4Sink:
        """Serve in a background thread; returns self once listening."""
        self._thread = threading.Thread(target=self.serve_forever, name="ga4-sink", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self._released.set()
        if self._thread is not None:
            self.shutdown()
            self._thread.join(timeout=10)
            self._thread = None
        self.server_close()

    def __enter__(self) -> Ga4Sink:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def records(self) -> list[SinkRecord]:
        """What arrived so far, oldest first."""
        with self._lock:
            return list(self._records)

    def clear(self) -> None:
        """Forget what arrived."""
        with self._lock:
            self._records.clear()

    def control(
        self,
        *,
        fail_next: int | None = None,
        status: int | None = None,
        delay_ms: int | None = None,
        lose_next: int | None = None,
        hold_next: int | None = None,
        release: bool = False,
    ) -> dict[str, int]:
        """Set faults: fail the next N collect requests with ``status``; delay answers;
        record the next N but lose their answers; record the next N and hold their answers
        until ``release``."""
        if status is not None and not 100 <= int(status) <= 599:
            raise ValueError(f"status {status} is not an HTTP status")
        with self._lock:
            if fail_next is not None:
                self._fail_next = max(0, fail_next)
            if status is not None:
                self._fail_status = status
            if delay_ms is not None:
                self._delay_ms = max(0, delay_ms)
            if lose_next is not None:
                self._lose_next = max(0, lose_next)
            if hold_next is not None:
                self._hold_next = max(0, hold_next)
                self._released.clear()
            if release:
                self._hold_next = 0
                self._released.set()
            return {
                "fail_next": self._fail_next,
                "status": self._fail_status,
                "delay_ms": self._delay_ms,
                "lose_next": self._lose_next,
                "hold_next": self._hold_next,
                "holding": self._holding,
            }

    def _take_fault(self) -> tuple[int | None, int]:
        with self._lock:
            if self._fail_next > 0:
                self._fail_next -= 1
                return self._fail_status, self._delay_ms
            return None, self._delay_ms

    def _take_answer_fault(self) -> str | None:
        """``"lose"`` or ``"hold"`` for a request GA4 takes but does not answer (yet)."""
        with self._lock:
            if self._lose_next > 0:
                self._lose_next -= 1
                return "lose"
            if self._hold_next > 0:
                self._hold_next -= 1
                self._holding += 1
                return "hold"
            return None

    def _wait_for_release(self) -> None:
        self._released.wait(timeout=120)
        with self._lock:
            self._holding -= 1

    def _record(self, record: SinkRecord) -> None:
        with self._lock:
            self._records.append(record)


class _Handler(BaseHTTPRequestHandler):
    server: Ga4Sink
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: request lines carry the API secret in the query string."""

    def _send(self, status: int, body: bytes = b"", content_type: str = "application/json") -> None:
        self.send_response(status)
        if body:
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body:
            self.wfile.write(body)

    def _json(self, status: int, payload: Any) -> None:
        self._send(status, json.dumps(payload, ensure_ascii=False).encode())

    def _read_body(self) -> bytes | None:
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if length < 0:
            self._send(400)
            self.close_connection = True
            return None
        if length > MAX_REQUEST_BYTES:
            self._send(413)
            self.close_connection = True
            return None
        return self.rfile.read(length) if length else b""

    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        records = [record.as_json() for record in self.server.records()]
        if path == "/events":
            self._json(200, {"requests": records})
        elif path == "/":
            self._send(200, render_page(records).encode(), "text/html; charset=utf-8")
        else:
            self._send(404)

    def do_DELETE(self) -> None:
        if urlsplit(self.path).path == "/events":
            self.server.clear()
            self._send(204)
        else:
            self._send(404)

    def do_POST(self) -> None:
        parts = urlsplit(self.path)
        raw = self._read_body()
        if raw is None:
            return
        if parts.path == "/control":
            self._control(raw)
        elif parts.path in COLLECT_PATHS:
            self._collect(parts.path, parts.query, raw)
        else:
            self._send(404)

    def _control(self, raw: bytes) -> None:
        try:
            settings = json.loads(raw or b"{}")
            state = self.server.control(
                fail_next=settings.get("fail_next"),
                status=settings.get("status"),
                delay_ms=settings.get("delay_ms"),
                lose_next=settings.get("lose_next"),
                hold_next=settings.get("hold_next"),
                release=settings.get("release") is True,
            )
        except (ValueError, TypeError, AttributeError):
            self._json(
                400,
                {
                    "error": 'expected {"fail_next": N, "status": S, "delay_ms": M, '
                    '"lose_next": N, "hold_next": N, "release": true}'
                },
            )
            return
        self._json(200, state)

    def _collect(self, path: str, query_string: str, raw: bytes) -> None:
        fault, delay_ms = self.server._take_fault()
        if delay_ms:
            time.sleep(delay_ms / 1000)  # the injected slowness itself, not synchronisation
        if fault is not None:
            self._send(fault)
            return
        query = {key: values[0] for key, values in parse_qs(query_string).items()}
        now = self.server.clock_micros()
        self.server._record(
            SinkRecord(now // 1000, path, query.get("measurement_id"), _decoded(raw))
        )
        if path == "/mp/collect":
            answer_fault = self.server._take_answer_fault()
            if answer_fault == "lose":
                self._lose_answer()
                return
            if answer_fault == "hold":
                self.server._wait_for_release()
            self._send(204)
            return
        messages = validate_body(raw, now_micros=now, query=query)
        self._json(200, validation_response(messages))

    def _lose_answer(self) -> None:
        """Never answer: wait until the client gives up and closes (or a minute passes)."""
        self.close_connection = True
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            readable, _, _ = select.select([self.connection], [], [], 0.2)
            if readable and not self.connection.recv(1, socket.MSG_PEEK):
                return


def _decoded(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode("utf-8", errors="replace")
