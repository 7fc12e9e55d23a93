"""The schema-only provider process: Terraform's plugin protocol 6 over a Unix socket.

Terraform reaches it through ``TF_REATTACH_PROVIDERS`` (see :mod:`.runner`), as it reaches
a provider started under a debugger: with ``"Test": true`` Terraform neither starts nor
stops the process. Of go-plugin's side services Terraform's client only opens the stdio
and broker streams, and carries on when they answer UNIMPLEMENTED; it never calls the
health service. So this server answers the provider methods in ``tfplugin6.proto`` and
nothing else.

When it is ready it prints go-plugin's handshake line (``1|6|unix|<socket>|grpc|``) on
stdout: the runner waits for that line, never for a fixed time. Each Validate* call is
appended to the record file as one JSON line (type, errors), so a test can see which
blocks Terraform had checked.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
from collections.abc import Callable
from concurrent import futures
from importlib import metadata
from pathlib import Path
from types import FrameType
from typing import Any

import grpc

from infra.schema_provider import checks, protocol
from infra.schema_provider.cache import cached_schema
from infra.schema_provider.model import Block, ProviderSchema

SERVICE = "tfplugin6.Provider"
PROVIDER_PACKAGE = "cdktn-provider-google"
PARENT_CHECK_S = 1.0  # how often an orphaned provider looks for the process that started it


class SchemaProvider(grpc.GenericRpcHandler):  # type: ignore[misc]
    """Answers GetProviderSchema and the Validate* methods from one provider schema."""

    def __init__(self, schema: ProviderSchema, record: Path | None = None) -> None:
        self.schema = schema
        self._schema_response = protocol.schema_response(schema)
        self._record = record
        self._lock = threading.Lock()
        pb = protocol.messages()
        self._methods: dict[str, tuple[Any, Callable[[Any], Any]]] = {
            "GetProviderSchema": (pb.GetProviderSchema.Request, self._get_schema),
            "ValidateProviderConfig": (
                pb.ValidateProviderConfig.Request,
                lambda r: self._validate(pb.ValidateProviderConfig, "provider", r),
            ),
            "ValidateResourceConfig": (
                pb.ValidateResourceConfig.Request,
                lambda r: self._validate(pb.ValidateResourceConfig, "resource", r),
            ),
            "ValidateDataResourceConfig": (
                pb.ValidateDataResourceConfig.Request,
                lambda r: self._validate(pb.ValidateDataResourceConfig, "data", r),
            ),
            "ValidateEphemeralResourceConfig": (
                pb.ValidateEphemeralResourceConfig.Request,
                lambda r: self._validate(pb.ValidateEphemeralResourceConfig, "ephemeral", r),
            ),
        }

    def service(self, handler_call_details: Any) -> Any:
        """The handler for one method of the provider service; None (UNIMPLEMENTED) else."""
        service, _, method = handler_call_details.method.strip("/").partition("/")
        if service != SERVICE or method not in self._methods:
            return None
        request_type, answer = self._methods[method]
        return grpc.unary_unary_rpc_method_handler(
            lambda request, _context: answer(request),
            request_deserializer=request_type.FromString,
            response_serializer=_serialize,
        )

    def _get_schema(self, _request: Any) -> bytes:
        return self._schema_response

    def _validate(self, rpc: Any, kind: str, request: Any) -> Any:
        type_name = getattr(request, "type_name", "google")
        block = self._block(kind, type_name)
        response = rpc.Response()
        errors: list[str] = []
        if block is None:
            errors.append(f"the provider has no {kind} type {type_name}")
            response.diagnostics.append(protocol.error(errors[-1], "", []))
        else:
            config = protocol.decode_config(request.config)
            for problem in checks.problems(block, config):
                errors.append(problem.summary)
                response.diagnostics.append(
                    protocol.error(problem.summary, problem.detail, problem.path)
                )
        self._write_record({"rpc": kind, "type_name": type_name, "errors": errors})
        return response

    def _block(self, kind: str, type_name: str) -> Block | None:
        if kind == "provider":
            return self.schema.provider
        tables = {
            "resource": self.schema.resources,
            "data": self.schema.data_sources,
            "ephemeral": self.schema.ephemeral_resources,
        }
        return tables[kind].get(type_name)

    def _write_record(self, entry: dict[str, Any]) -> None:
        if self._record is None:
            return
        with self._lock, self._record.open("a") as out:
            out.write(json.dumps(entry) + "\n")


def _serialize(message: Any) -> bytes:
    if isinstance(message, bytes):
        return message
    serialized: bytes = message.SerializeToString()
    return serialized


def _stop_when_orphaned(server: grpc.Server, stopping: threading.Event) -> None:
    """Stop when the process that started this one is gone (it was killed, not closed)."""
    parent = os.getppid()
    while not stopping.wait(PARENT_CHECK_S):
        if os.getppid() != parent:
            server.stop(grace=None)
            return


def serve(socket: Path, record: Path | None) -> int:
    """Serve until SIGTERM or SIGINT; print the handshake line once ready."""
    provider = SchemaProvider(cached_schema(), record)
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    server.add_generic_rpc_handlers((provider,))
    server.add_insecure_port(f"unix:{socket}")
    server.start()

    stopping = threading.Event()

    def stop(_signal: int, _frame: FrameType | None) -> None:
        stopping.set()
        server.stop(grace=None)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    threading.Thread(target=_stop_when_orphaned, args=(server, stopping), daemon=True).start()
    print(f"1|6|unix|{socket}|grpc|", flush=True)
    print(
        f"schema-only google provider {provider.schema.provider_version} "
        f"({PROVIDER_PACKAGE} {metadata.version(PROVIDER_PACKAGE)}): "
        f"{len(provider.schema.resources)} resources, "
        f"{len(provider.schema.data_sources)} data sources",
        file=sys.stderr,
        flush=True,
    )
    server.wait_for_termination()
    return 0
