"""Messages of the plugin protocol: generated from ``tfplugin6.proto`` at start, and filled.

The Python code for ``tfplugin6.proto`` is generated with grpcio-tools into a temporary
directory when first needed (about 50 ms), so it always matches the installed protobuf
runtime and nothing generated is committed. The generated module has no static types;
this module is the only one that touches it.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import tempfile
from pathlib import Path
from types import ModuleType
from typing import Any

import msgpack
from grpc_tools import protoc

from infra.schema_provider.model import Block, ProviderSchema

PROTO = Path(__file__).with_name("tfplugin6.proto")
_NESTING = {"single": 1, "list": 2, "set": 3}


@functools.cache
def messages() -> ModuleType:
    """The generated ``tfplugin6_pb2`` module (generated once per process)."""
    output = Path(tempfile.mkdtemp(prefix="tfplugin6-"))
    status = protoc.main(["protoc", f"-I{PROTO.parent}", f"--python_out={output}", PROTO.name])
    if status != 0:
        raise RuntimeError(f"protoc failed on {PROTO} (exit {status})")
    spec = importlib.util.spec_from_file_location("tfplugin6_pb2", output / "tfplugin6_pb2.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def schema_response(schema: ProviderSchema) -> bytes:
    """The serialized ``GetProviderSchema.Response`` for the whole provider."""
    response = messages().GetProviderSchema.Response()
    _fill(response.provider.block, schema.provider)
    for target, blocks in (
        (response.resource_schemas, schema.resources),
        (response.data_source_schemas, schema.data_sources),
        (response.ephemeral_resource_schemas, schema.ephemeral_resources),
    ):
        for name, block in blocks.items():
            _fill(target[name].block, block)
    serialized: bytes = response.SerializeToString()
    return serialized


def _fill(message: Any, block: Block) -> None:
    message.SetInParent()  # an empty block (``ttl_config {}``) is still a block
    for attribute in block.attributes:
        message.attributes.add(
            name=attribute.name,
            type=json.dumps(attribute.type, separators=(",", ":")).encode(),
            required=attribute.required,
            optional=attribute.optional,
            computed=attribute.computed,
        )
    for nested in block.blocks:
        added = message.block_types.add(
            type_name=nested.name,
            nesting=_NESTING[nested.nesting],
            min_items=nested.min_items,
            max_items=nested.max_items,
        )
        _fill(added.block, nested.block)


class Unknown:
    """A value Terraform does not know yet (MessagePack extension 0)."""

    def __repr__(self) -> str:
        return "<unknown>"


UNKNOWN = Unknown()


def decode_config(dynamic_value: Any) -> Any:
    """A ``DynamicValue`` as plain Python: dicts, lists, str, numbers, None, ``UNKNOWN``."""

    def extension(code: int, data: bytes) -> Any:
        if code == 0:
            return UNKNOWN
        return msgpack.ExtType(code, data)

    return msgpack.unpackb(dynamic_value.msgpack, ext_hook=extension, raw=False)


def error(summary: str, detail: str, path: list[str | int]) -> Any:
    """An error diagnostic on one attribute (Terraform points at its line)."""
    diagnostic = messages().Diagnostic(severity=1, summary=summary, detail=detail)
    for step in path:
        if isinstance(step, int):
            diagnostic.attribute.steps.add(element_key_int=step)
        else:
            diagnostic.attribute.steps.add(attribute_name=step)
    return diagnostic
