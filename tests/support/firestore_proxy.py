"""A gRPC proxy in front of the Firestore emulator that can make chosen calls fail.

The relay reaches Firestore through the official client; pointed at this proxy
(``FIRESTORE_EMULATOR_HOST``), every call is passed through to the emulator unchanged
(bytes in, bytes out, metadata included) unless a fault is set for its method: then it is
answered ``UNAVAILABLE`` at once, as a Firestore outage answers. Faults name the RPC
(``Commit`` fails writes while reads still work), so a test can break Firestore between
the relay's read and its write.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent import futures
from typing import Any

import grpc

from tests.support.net import free_port

# Server-streaming and bidirectional methods of google.firestore.v1.Firestore; the rest
# are unary.
_UNARY_STREAM = {"BatchGetDocuments", "RunQuery", "RunAggregationQuery", "ExecutePipeline"}
_STREAM_STREAM = {"Write", "Listen"}


def _identity(data: bytes) -> bytes:
    return data


class FirestoreFaultProxy:
    """Forwards gRPC calls to ``upstream`` (``host:port``); fails the methods in ``failing``."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.port = free_port()
        self.calls: Counter[str] = Counter()
        self.refused: Counter[str] = Counter()
        self._failing: set[str] = set()
        self._lock = threading.Lock()
        self._channel = grpc.insecure_channel(upstream)
        self._server = grpc.server(futures.ThreadPoolExecutor(max_workers=16))
        self._server.add_generic_rpc_handlers([_Handler(self)])
        self._server.add_insecure_port(f"127.0.0.1:{self.port}")

    @property
    def host(self) -> str:
        """``host:port`` to use as ``FIRESTORE_EMULATOR_HOST``."""
        return f"127.0.0.1:{self.port}"

    def start(self) -> FirestoreFaultProxy:
        """Serve on loopback."""
        self._server.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the upstream channel."""
        self._server.stop(grace=None).wait(10)
        self._channel.close()

    def fail(self, *methods: str) -> None:
        """Answer every call of ``methods`` (e.g. ``"Commit"``) with UNAVAILABLE."""
        with self._lock:
            self._failing.update(methods)

    def heal(self) -> None:
        """Pass every call through again."""
        with self._lock:
            self._failing.clear()

    def _check(self, method: str, context: grpc.ServicerContext) -> None:
        with self._lock:
            self.calls[method] += 1
            failing = method in self._failing
            if failing:
                self.refused[method] += 1
        if failing:
            context.abort(grpc.StatusCode.UNAVAILABLE, "injected Firestore outage")

    def unary_unary(self, path: str) -> Callable[[bytes, grpc.ServicerContext], bytes]:
        call = self._channel.unary_unary(path, _identity, _identity)

        def handle(request: bytes, context: grpc.ServicerContext) -> bytes:
            self._check(path.rsplit("/", 1)[1], context)
            try:
                return call(request, metadata=context.invocation_metadata(), timeout=30)  # type: ignore[no-any-return]
            except grpc.RpcError as error:
                context.abort(error.code(), error.details() or "")
                raise

        return handle

    def unary_stream(self, path: str) -> Callable[[bytes, grpc.ServicerContext], Iterator[bytes]]:
        call = self._channel.unary_stream(path, _identity, _identity)

        def handle(request: bytes, context: grpc.ServicerContext) -> Iterator[bytes]:
            self._check(path.rsplit("/", 1)[1], context)
            try:
                yield from call(request, metadata=context.invocation_metadata(), timeout=30)
            except grpc.RpcError as error:
                context.abort(error.code(), error.details() or "")

        return handle

    def stream_stream(
        self, path: str
    ) -> Callable[[Iterator[bytes], grpc.ServicerContext], Iterator[bytes]]:
        call = self._channel.stream_stream(path, _identity, _identity)

        def handle(requests: Iterator[bytes], context: grpc.ServicerContext) -> Iterator[bytes]:
            self._check(path.rsplit("/", 1)[1], context)
            try:
                yield from call(requests, metadata=context.invocation_metadata())
            except grpc.RpcError as error:
                context.abort(error.code(), error.details() or "")

        return handle


class _Handler(grpc.GenericRpcHandler):
    def __init__(self, proxy: FirestoreFaultProxy) -> None:
        self._proxy = proxy

    def service(self, handler_call_details: Any) -> grpc.RpcMethodHandler | None:
        path: str = handler_call_details.method
        name = path.rsplit("/", 1)[-1]
        if name in _STREAM_STREAM:
            return grpc.stream_stream_rpc_method_handler(
                self._proxy.stream_stream(path), _identity, _identity
            )
        if name in _UNARY_STREAM:
            return grpc.unary_stream_rpc_method_handler(
                self._proxy.unary_stream(path), _identity, _identity
            )
        return grpc.unary_unary_rpc_method_handler(
            self._proxy.unary_unary(path), _identity, _identity
        )
