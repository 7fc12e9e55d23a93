"""The checks the google provider makes when Terraform validates a block's configuration.

Terraform core checks names, required arguments, nesting and types against the schema;
the provider's own Validate* answer adds two checks that need only the schema, and this
module makes them the same way (the google provider is built on the plugin SDK, whose
wording the summaries keep):

- a value set for a computed-only attribute ("Value for unconfigurable attribute");
- a known string outside the values the documentation lists as ``Possible values: [...]``
  (the provider's enum validation; the empty string counts as unset and passes).

Values Terraform cannot know yet arrive marked unknown and are not checked.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from infra.schema_provider.model import Block

Path = list[str | int]


@dataclass(frozen=True)
class Problem:
    """One error the provider would report, and the attribute it is about."""

    path: Path
    summary: str
    detail: str


def problems(block: Block, config: Any, path: Path | None = None) -> Iterator[Problem]:
    """Every provider-side error in one block's configuration (a decoded object)."""
    if not isinstance(config, dict):
        return
    path = path or []
    for attribute in block.attributes:
        value = config.get(attribute.name)
        if value is None:
            continue
        if attribute.computed and not (attribute.optional or attribute.required):
            yield Problem(
                [*path, attribute.name],
                "Value for unconfigurable attribute",
                f'Can\'t configure a value for "{attribute.name}": its value will be decided '
                "automatically based on the result of applying this configuration.",
            )
            continue
        allowed = (*attribute.enum, "")
        for index, item in _strings(value) if attribute.enum else ():
            if item not in allowed:
                step: Path = [attribute.name] if index is None else [attribute.name, index]
                listed = " ".join(f'"{v}"' for v in allowed)
                yield Problem(
                    path + step,
                    f"expected {attribute.name} to be one of [{listed}], got {item}",
                    "The provider accepts only the values its documentation lists "
                    "(checked offline by infra/schema_provider).",
                )
    for nested in block.blocks:
        value = config.get(nested.name)
        if nested.nesting == "single":
            yield from problems(nested.block, value, [*path, nested.name])
        elif isinstance(value, list):
            for index, element in enumerate(value):
                # A set element has no index Terraform can point at: the block is the place.
                step = [nested.name, index] if nested.nesting == "list" else [nested.name]
                yield from problems(nested.block, element, path + step)


def _strings(value: Any) -> Iterator[tuple[int | None, str]]:
    if isinstance(value, str):
        yield None, value
    elif isinstance(value, list):
        for index, item in enumerate(value):
            if isinstance(item, str):
                yield index, item
