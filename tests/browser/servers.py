"""Loopback HTTP servers for the browser tests: the test site and a fault-injecting proxy."""

from __future__ import annotations

import html
import json
import socket
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlencode, urlsplit

from tests.support.net import free_port, wait_until
from tests.support.processes import ROOT

STATIC = ROOT / "functions" / "loyjoy_relay" / "static"
FORWARDED_HEADERS = ("Content-Type", "Origin", "Sec-Fetch-Mode", "User-Agent")
RETURNED_HEADERS = (
    "Content-Type",
    "Access-Control-Allow-Origin",
    "Access-Control-Expose-Headers",
    "Vary",
    "Retry-After",
)


class _Quiet(BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """Keep the test output clean."""

    def _answer(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def _script_json(value: Any) -> str:
    return json.dumps(value).replace("</", "<\\/")


def test_page(query: dict[str, list[str]], listener_url: str) -> str:
    """The page a test opens: listener.js from ingest, the LoyJoy stand-in, one boot."""
    one = {name: values[0] for name, values in query.items()}
    options = json.loads(one.get("options", "{}"))
    endpoint = one.get("endpoint", "")
    data_layer = "window.dataLayer = [];" if one.get("datalayer") == "1" else ""
    boot = (
        "window.listenerUnderTest = LoyJoyRelay.listener("
        f"Object.assign({{endpoint: {_script_json(endpoint)}}}, {_script_json(options)}));\n"
        f"LoyJoy('boot', {{bot: {_script_json(one.get('bot', ''))}, "
        # The signed-in user travels in the fragment, which the listener never sends.
        "user: location.hash.startsWith('#user=') ? "
        "JSON.parse(decodeURIComponent(location.hash.slice(6))) : null, "
        "eventListeners: [window.listenerUnderTest]});"
        if one.get("boot", "1") == "1"
        else ""
    )
    return f"""<!doctype html>
<html><head><meta charset="utf-8"><title>{html.escape(one.get("title", "Shop page"))}</title>
<script>{data_layer}</script>
<script src="{html.escape(listener_url)}"></script>
<script src="/static/loyjoy-standin.js"></script>
<script>{boot}</script>
</head><body><a id="away" href="/next.html">next page</a></body></html>"""


@dataclass
class Site:
    """The website under test on 127.0.0.1: /page.html, /next.html and /static/*."""

    port: int = field(default_factory=free_port)
    listener_url: str = ""
    server: ThreadingHTTPServer | None = None

    @property
    def origin(self) -> str:
        """The site's origin (what ingest must allow)."""
        return f"http://127.0.0.1:{self.port}"

    def page_url(
        self, *, endpoint: str, bot: str, user: dict[str, str] | None = None, **params: Any
    ) -> str:
        """The test page's URL: dict values (``options``) are passed as JSON; a signed-in
        ``user`` for the LoyJoy stand-in ({email, token}) goes in the fragment."""
        query = {"endpoint": endpoint, "bot": bot}
        for name, value in params.items():
            query[name] = value if isinstance(value, str) else json.dumps(value)
        fragment = "#user=" + quote(json.dumps(user)) if user else ""
        return f"{self.origin}/page.html?{urlencode(query)}{fragment}"

    def start(self) -> Site:
        """Serve in a daemon thread."""
        site = self

        class Handler(_Quiet):
            def do_GET(self) -> None:
                url = urlsplit(self.path)
                if url.path == "/page.html":
                    page = test_page(parse_qs(url.query), site.listener_url)
                    self._answer(200, page.encode(), {"Content-Type": "text/html; charset=utf-8"})
                elif url.path == "/next.html":
                    body = b"<!doctype html><title>next</title><p>another page</p>"
                    self._answer(200, body, {"Content-Type": "text/html; charset=utf-8"})
                elif url.path.startswith("/static/") and "/" not in url.path[len("/static/") :]:
                    path = STATIC / url.path[len("/static/") :]
                    if path.is_file():
                        kind = "text/html" if path.suffix == ".html" else "text/javascript"
                        self._answer(200, path.read_bytes(), {"Content-Type": kind})
                    else:
                        self._answer(404, b"", {})
                elif url.path == "/favicon.ico":
                    self._answer(204, b"", {})
                else:
                    self._answer(404, b"", {})

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        """Stop serving."""
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()


@dataclass(frozen=True)
class SeenRequest:
    """A request the proxy saw, and the status it answered."""

    method: str
    headers: dict[str, str]
    body: bytes
    status: int  # 0: the connection was closed without an answer
    at: float = field(default_factory=time.monotonic)
    returned: dict[str, str] = field(default_factory=dict)  # the answer's headers

    def events(self) -> list[dict[str, Any]]:
        """The events of a batch body."""
        payload = json.loads(self.body)
        return list(payload["events"]) if "events" in payload else [payload]


@dataclass
class FaultProxy:
    """Forwards to ingest; answers ``status`` instead for the next ``fail(n)`` requests.

    Status 0 closes the connection without an answer (a network error for the browser).
    """

    upstream: str
    port: int = field(default_factory=free_port)
    server: ThreadingHTTPServer | None = None
    seen: list[SeenRequest] = field(default_factory=list)
    _failures_left: int = 0
    _failure_status: int = 503
    _holds_left: int = 0
    _holding: int = 0
    _release: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        """What the listener posts to."""
        return f"http://127.0.0.1:{self.port}"

    def fail(self, times: int, status: int = 503) -> None:
        """Answer the next ``times`` requests with ``status`` (0 heals)."""
        with self._lock:
            self._failures_left, self._failure_status = times, status

    def hold(self, times: int) -> None:
        """Keep the next ``times`` POSTs waiting, unforwarded, until :meth:`release` (a
        request in flight that has not reached ingest yet)."""
        with self._lock:
            self._holds_left = times
            self._release.clear()

    def holding(self) -> int:
        """How many POSTs are being held now."""
        with self._lock:
            return self._holding

    def release(self) -> None:
        """Let held requests go on to ingest."""
        self._release.set()

    def _wait_if_held(self, method: str) -> None:
        with self._lock:
            if method != "POST" or self._holds_left <= 0:
                return
            self._holds_left -= 1
            self._holding += 1
        self._release.wait(timeout=60)
        with self._lock:
            self._holding -= 1

    def answered(self) -> list[int]:
        """The statuses of the POSTs so far, oldest first."""
        return [request.status for request in self.posts()]

    def wait_posts(self, count: int) -> list[SeenRequest]:
        """The POSTs, once ``count`` were answered (the proxy records after answering)."""
        wait_until(lambda: len(self.posts()) >= count, timeout=30, what=f"{count} POSTs")
        return self.posts()

    def posts_after(self, patience: float) -> list[SeenRequest]:
        """The POSTs after ``patience`` seconds (for asserting that none more arrive)."""
        time.sleep(patience)
        return self.posts()

    def posts(self) -> list[SeenRequest]:
        """The POSTs seen so far, oldest first."""
        with self._lock:
            return [request for request in self.seen if request.method == "POST"]

    def reset(self) -> None:
        """Forget what was seen and heal."""
        with self._lock:
            self.seen.clear()
            self._failures_left = 0
            self._holds_left = 0
        self._release.set()

    def _next_failure(self) -> int | None:
        with self._lock:
            if self._failures_left <= 0:
                return None
            self._failures_left -= 1
            return self._failure_status

    def _record(self, request: SeenRequest) -> None:
        with self._lock:
            self.seen.append(request)

    def start(self) -> FaultProxy:
        """Serve in a daemon thread."""
        proxy = self

        class Handler(_Quiet):
            def _relay(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                headers = {k: v for k, v in self.headers.items() if k in FORWARDED_HEADERS}
                proxy._wait_if_held(self.command)
                status = proxy._next_failure()
                if status == 0:
                    proxy._record(SeenRequest(self.command, headers, body, 0))
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                if status is not None:
                    answer = json.dumps({"error": "injected fault"}).encode()
                    returned = {"Content-Type": "application/json"}
                    if "Origin" in headers:
                        returned["Access-Control-Allow-Origin"] = headers["Origin"]
                else:
                    status, answer, returned = proxy._forward(self.command, body, headers)
                proxy._record(SeenRequest(self.command, headers, body, status, returned=returned))
                self._answer(status, answer, returned)

            do_POST = _relay  # noqa: N815 (the name http.server dispatches to)
            do_OPTIONS = _relay  # noqa: N815 (the name http.server dispatches to)

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def _forward(
        self, method: str, body: bytes, headers: dict[str, str]
    ) -> tuple[int, bytes, dict[str, str]]:
        request = urllib.request.Request(
            self.upstream + "/", data=body or None, headers=headers, method=method
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                status, answer, got = response.status, response.read(), response.headers
        except urllib.error.HTTPError as error:
            status, answer, got = error.code, error.read(), error.headers
        return status, answer, {k: got[k] for k in RETURNED_HEADERS if got.get(k)}

    def stop(self) -> None:
        """Stop serving."""
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()


def read_static(name: str) -> str:
    """A file of the static folder (listener.js, the stand-in, the demo page)."""
    return Path(STATIC / name).read_text()
