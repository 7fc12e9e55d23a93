"""The provider schema as Terraform sees it: blocks, attributes, nested blocks.

The shapes and names follow ``terraform providers schema -json`` (and the plugin
protocol's ``Schema`` message): an attribute's ``type`` is a cty type in its JSON form
(``"string"``, ``["list", "string"]``, ``["object", {"name": "string"}]``), a nested block
has a nesting mode and item bounds. ``enum`` is ours: the values the provider's
documentation lists as the only ones it accepts (``Possible values: [...]``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

# A cty type in JSON form; recursive, so spelled as object here.
CtyType = object
Nesting = Literal["single", "list", "set"]


@dataclass(frozen=True)
class Attribute:
    """One argument or exported attribute of a block."""

    name: str
    type: CtyType
    required: bool = False
    optional: bool = False
    computed: bool = False
    enum: tuple[str, ...] = ()


@dataclass(frozen=True)
class NestedBlock:
    """A block type nested in another block (``push_config { ... }``)."""

    name: str
    nesting: Nesting
    block: Block
    min_items: int = 0
    max_items: int = 0


@dataclass(frozen=True)
class Block:
    """The body of a resource, data source, provider or nested block."""

    attributes: tuple[Attribute, ...] = ()
    blocks: tuple[NestedBlock, ...] = ()

    def attribute(self, name: str) -> Attribute:
        """One attribute by name (KeyError when absent)."""
        for attribute in self.attributes:
            if attribute.name == name:
                return attribute
        raise KeyError(name)

    def block(self, name: str) -> NestedBlock:
        """One nested block type by name (KeyError when absent)."""
        for nested in self.blocks:
            if nested.name == name:
                return nested
        raise KeyError(name)


@dataclass(frozen=True)
class ProviderSchema:
    """Every schema one provider serves."""

    provider_version: str
    provider: Block
    resources: dict[str, Block] = field(default_factory=dict)
    data_sources: dict[str, Block] = field(default_factory=dict)
    ephemeral_resources: dict[str, Block] = field(default_factory=dict)
