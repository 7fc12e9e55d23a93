"""The HTTP seam of the GA4 sender: a request value, a response value, and a transport.

A transport is any callable ``(OutboundRequest) -> TransportResponse`` that raises
:class:`TransportError` when no answer came (connection refused, reset, timed out).
:class:`RequestsTransport` is the real one: a pooled ``requests.Session``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import NewConnectionError

_SECRET_IN_URL = re.compile(r"(api_secret=)[^&#\s\"']*")


@dataclass(frozen=True, slots=True, repr=False)
class OutboundRequest:
    """One POST of an MP body. ``url`` holds the API secret: its repr masks it."""

    url: str
    body: bytes
    timeout: tuple[float, float]

    def __repr__(self) -> str:
        url = _SECRET_IN_URL.sub(r"\1***", self.url)
        return f"OutboundRequest(url={url!r}, bytes={len(self.body)})"


@dataclass(frozen=True, slots=True)
class TransportResponse:
    """GA4's answer: the status and body."""

    status: int
    body: bytes = b""


class TransportError(Exception):
    """No answer from GA4: could not connect, the connection broke, or it timed out.

    ``maybe_received``: the request had left when the answer failed to come (a read
    timeout, a connection dropped after sending), so GA4 may have taken it.
    """

    def __init__(self, message: str, *, maybe_received: bool = False) -> None:
        super().__init__(message)
        self.maybe_received = maybe_received


Transport = Callable[[OutboundRequest], TransportResponse]


class _MaskSecrets(logging.Filter):
    """urllib3 logs request lines with the query string at DEBUG: mask the secret there."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "api_secret=" in message:
            record.msg, record.args = _SECRET_IN_URL.sub(r"\1***", message), ()
        return True


_MASK = _MaskSecrets()
for _name in ("urllib3.connectionpool", "urllib3.util.retry", "requests"):
    if _MASK not in logging.getLogger(_name).filters:
        logging.getLogger(_name).addFilter(_MASK)


class RequestsTransport:
    """POSTs with one ``requests.Session`` whose connection pool is kept between calls."""

    def __init__(self, session: requests.Session | None = None, pool_size: int = 10) -> None:
        self.session = session or requests.Session()
        adapter = HTTPAdapter(pool_connections=pool_size, pool_maxsize=pool_size, max_retries=0)
        self.session.mount("https://", adapter)
        self.session.mount("http://", adapter)

    def __repr__(self) -> str:
        return "RequestsTransport()"

    def __call__(self, request: OutboundRequest) -> TransportResponse:
        """Send ``request``; no answer raises TransportError without the URL."""
        try:
            response = self.session.post(
                request.url,
                data=request.body,
                headers={"Content-Type": "application/json"},
                timeout=request.timeout,
            )
        except requests.ConnectTimeout:
            raise TransportError("could not reach GA4 (connect timeout)") from None
        except requests.Timeout:
            raise TransportError("GA4 did not answer in time", maybe_received=True) from None
        except requests.RequestException as error:
            raise TransportError(
                f"could not reach GA4 ({type(error).__name__})",
                maybe_received=_after_sending(error),
            ) from None
        return TransportResponse(response.status_code, response.content)

    def close(self) -> None:
        """Close the pooled connections."""
        self.session.close()


def _after_sending(error: requests.RequestException) -> bool:
    """False only when the connection was never made (the request cannot have arrived)."""
    cause = error.args[0] if error.args else None
    reason = getattr(cause, "reason", cause)
    return not isinstance(reason, NewConnectionError)
