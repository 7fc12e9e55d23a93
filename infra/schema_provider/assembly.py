"""The google provider's schema, read from the installed cdktn-provider-google package.

The package (a dev dependency, pinned in pyproject.toml to the provider version
``terraform/versions.tf`` allows) ships its jsii assembly as one tarball: ``package/.jsii``
plus the generated code of each resource under ``package/lib/<module>/``. Reading the
tarball as a stream and skipping the 127 MB ``.jsii`` takes about a second; the code of
each module is then turned into its schema by :mod:`infra.schema_provider.bindings`.
"""

from __future__ import annotations

import importlib.util
import re
import tarfile
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

from infra.schema_provider.bindings import BindingsError, ModuleBindings
from infra.schema_provider.model import Block, ProviderSchema

PACKAGE = "cdktn_provider_google"
_SOURCE_MAP = "\n//# sourceMappingURL="
# Provider-defined functions (``provider::google::name_from_id``) are not served: using
# one would need its implementation, not only its signature.
_NOT_SCHEMAS = {"provider-functions"}
_PROVIDER_VERSION = re.compile(
    r"registry\.terraform\.io/providers/hashicorp/google/(\d+\.\d+\.\d+)/"
)


def assembly_path() -> Path:
    """The jsii tarball of the installed cdktn-provider-google (FileNotFoundError if none)."""
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(f"{PACKAGE} is not installed (it is in the dev extras)")
    folder = Path(next(iter(spec.submodule_search_locations))) / "_jsii"
    tarballs = sorted(folder.glob("provider-google@*.jsii.tgz"))
    if len(tarballs) != 1:
        raise FileNotFoundError(f"expected one provider-google jsii tarball in {folder}")
    return tarballs[0]


def _module_sources(tarball: Path) -> Iterator[tuple[str, str, str]]:
    """(module, JavaScript, TypeScript declarations) of every generated module."""
    javascript: dict[str, list[str]] = defaultdict(list)
    declarations: dict[str, list[str]] = defaultdict(list)
    with tarfile.open(tarball, "r|gz") as archive:
        for member in archive:
            parts = member.name.split("/")
            if not member.isfile() or len(parts) < 4 or parts[:2] != ["package", "lib"]:
                continue
            if member.name.endswith(".d.ts"):
                target = declarations
            elif member.name.endswith(".js"):
                target = javascript
            else:
                continue
            opened = archive.extractfile(member)
            assert opened is not None
            text = opened.read().decode()
            target[parts[2]].append(text.split(_SOURCE_MAP, 1)[0])
    for module in sorted(set(javascript) - _NOT_SCHEMAS):
        yield module, "\n".join(javascript[module]), "\n".join(declarations[module])


def load_schema(tarball: Path | None = None) -> ProviderSchema:
    """Every resource, data source and the provider block, as Terraform would get them."""
    tarball = tarball or assembly_path()
    provider: Block | None = None
    resources: dict[str, Block] = {}
    data_sources: dict[str, Block] = {}
    ephemeral: dict[str, Block] = {}
    version = ""
    for module, javascript, declarations in _module_sources(tarball):
        try:
            kind, type_name, block = ModuleBindings(javascript, declarations).top_level()
        except BindingsError as error:
            raise BindingsError(f"{module}: {error}") from error
        if kind == "provider":
            provider = block
            found = _PROVIDER_VERSION.search(javascript)
            version = found.group(1) if found else ""
        elif kind == "data":
            data_sources[type_name] = block
        elif kind == "ephemeral":
            ephemeral[type_name] = block
        else:
            resources[type_name] = block
    if provider is None or not version:
        raise BindingsError(f"{tarball.name}: no provider class with a registry version")
    return ProviderSchema(version, provider, resources, data_sources, ephemeral)
