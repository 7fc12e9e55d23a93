"""A JSON copy of the schema read from the assembly, so later starts skip the 2-second read.

The copy lives in ``build/schema-provider/`` (ignored by git, removed by ``make clean``)
and is named by a hash of the tarball (path, size, modification time) and of this
package's reading code, so a new pin or a change to the reader reads the assembly again.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from pathlib import Path
from typing import Any

from infra.schema_provider.assembly import assembly_path, load_schema
from infra.schema_provider.model import Attribute, Block, NestedBlock, ProviderSchema

CACHE_DIR = Path(__file__).resolve().parents[2] / "build" / "schema-provider"
_READER_SOURCES = ("assembly.py", "bindings.py", "cache.py", "model.py")


def cached_schema(tarball: Path | None = None, cache_dir: Path = CACHE_DIR) -> ProviderSchema:
    """The schema from the cached copy when it matches the tarball, else from the tarball."""
    tarball = tarball or assembly_path()
    path = cache_dir / f"google-{_key(tarball)}.json"
    with contextlib.suppress(FileNotFoundError, ValueError, KeyError, TypeError):
        return _schema_from(json.loads(path.read_text()))
    schema = load_schema(tarball)
    cache_dir.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f"{path.name}.{os.getpid()}.partial")
    partial.write_text(json.dumps(_schema_to(schema)))
    partial.replace(path)  # atomic: a concurrent reader sees the old state or the whole copy
    return schema


def _key(tarball: Path) -> str:
    digest = hashlib.sha256()
    stat = tarball.stat()
    digest.update(f"{tarball.resolve()}|{stat.st_size}|{stat.st_mtime_ns}".encode())
    for name in _READER_SOURCES:
        digest.update(Path(__file__).with_name(name).read_bytes())
    return digest.hexdigest()[:16]


def _block_to(block: Block) -> dict[str, Any]:
    return {
        "attributes": [
            [a.name, a.type, a.required, a.optional, a.computed, list(a.enum)]
            for a in block.attributes
        ],
        "blocks": [
            [b.name, b.nesting, _block_to(b.block), b.min_items, b.max_items] for b in block.blocks
        ],
    }


def _block_from(data: dict[str, Any]) -> Block:
    return Block(
        tuple(
            Attribute(name, type_, required, optional, computed, tuple(enum))
            for name, type_, required, optional, computed, enum in data["attributes"]
        ),
        tuple(
            NestedBlock(name, nesting, _block_from(block), min_items, max_items)
            for name, nesting, block, min_items, max_items in data["blocks"]
        ),
    )


def _schema_to(schema: ProviderSchema) -> dict[str, Any]:
    return {
        "provider_version": schema.provider_version,
        "provider": _block_to(schema.provider),
        "resources": {k: _block_to(v) for k, v in schema.resources.items()},
        "data_sources": {k: _block_to(v) for k, v in schema.data_sources.items()},
        "ephemeral_resources": {k: _block_to(v) for k, v in schema.ephemeral_resources.items()},
    }


def _schema_from(data: dict[str, Any]) -> ProviderSchema:
    return ProviderSchema(
        data["provider_version"],
        _block_from(data["provider"]),
        {k: _block_from(v) for k, v in data["resources"].items()},
        {k: _block_from(v) for k, v in data["data_sources"].items()},
        {k: _block_from(v) for k, v in data["ephemeral_resources"].items()},
    )
