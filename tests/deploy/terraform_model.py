"""The Terraform configuration in ``terraform/``, parsed with python-hcl2 into plain lookups.

python-hcl2 gives every attribute as a one-element list and every block as a list of
dicts; :func:`value` and :func:`block` undo that so tests read like the HCL.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hcl2.api import loads as parse_hcl

from tests.support.processes import ROOT

TERRAFORM_DIR = ROOT / "terraform"
_REFERENCE = re.compile(r"\$\{([a-z0-9_]+\.[a-z0-9_]+)(?:\.[a-z_]+)?\}")


def value(body: dict[str, Any], key: str) -> Any:
    """An attribute's value (None when absent); strings with HCL's escaped quotes undone."""
    found = body.get(key)
    if isinstance(found, list) and len(found) == 1:
        found = found[0]
    if isinstance(found, str):
        return found.replace('\\"', '"')
    return found


def block(body: dict[str, Any], key: str) -> dict[str, Any]:
    """The single nested block ``key`` (KeyError when absent)."""
    blocks = body[key]
    assert isinstance(blocks, list)
    assert len(blocks) == 1, f"expected one {key} block"
    result = blocks[0]
    assert isinstance(result, dict)
    return result


def referenced(expression: str) -> str:
    """The resource an expression like ``${google_pubsub_topic.events.name}`` points at."""
    match = _REFERENCE.search(expression)
    return match.group(1) if match else expression


@dataclass
class TerraformConfig:
    """Resources, data sources, locals, variables, outputs and terraform blocks of a directory."""

    resources: dict[str, dict[str, Any]]
    locals: dict[str, Any]
    variables: dict[str, dict[str, Any]]
    outputs: dict[str, dict[str, Any]]
    sources: dict[str, str]
    data_sources: dict[str, dict[str, Any]] = field(default_factory=dict)
    terraform_blocks: list[dict[str, Any]] = field(default_factory=list)

    def of_type(self, resource_type: str) -> dict[str, dict[str, Any]]:
        """Every resource of one type, by its address."""
        prefix = resource_type + "."
        return {k: v for k, v in self.resources.items() if k.startswith(prefix)}

    def resource(self, address: str) -> dict[str, Any]:
        """One resource's body by address (``type.name``)."""
        return self.resources[address]


def load(directory: Path = TERRAFORM_DIR) -> TerraformConfig:
    """Parse every ``*.tf`` file of ``directory``."""
    config = TerraformConfig({}, {}, {}, {}, {})
    for path in sorted(directory.glob("*.tf")):
        text = path.read_text()
        config.sources[path.name] = text
        parsed = parse_hcl(text)
        for entry in parsed.get("resource", []):
            for resource_type, named in entry.items():
                for name, body in named.items():
                    config.resources[f"{resource_type}.{name}"] = body
        for entry in parsed.get("data", []):
            for data_type, named in entry.items():
                for name, body in named.items():
                    config.data_sources[f"data.{data_type}.{name}"] = body
        config.terraform_blocks.extend(parsed.get("terraform", []))
        for entry in parsed.get("locals", []):
            config.locals.update({k: value(entry, k) for k in entry if not k.startswith("__")})
        for entry in parsed.get("variable", []):
            config.variables.update(entry)
        for entry in parsed.get("output", []):
            config.outputs.update(entry)
    return config
