"""Read one resource's schema back out of its generated CDK bindings.

cdktn-provider-google is generated from ``terraform providers schema -json`` of the google
provider, and its generated code keeps every fact Terraform validates against, in three
regular forms (compiled JavaScript and TypeScript declarations of the jsii package):

- per class, one comment per attribute with the schema's own flags, followed by a getter
  that names the attribute's type::

      // uri - computed: true, optional: false, required: false
      get uri() { return this.getStringAttribute('uri'); }

- per settable struct, an HCL table: whether each argument is a nested block, its
  nesting (``simple``, ``list``, ``set``, ``map``, ``struct`` = a single block) and its
  element type (``stringList``, ``stringMap``, ``<Struct>List``...);
- per struct, TypeScript doc comments with the registry anchor of each argument and its
  documentation, where ``Possible values: [...]`` lists the enum the provider enforces.

Anything that does not match these forms raises :class:`BindingsError`, so a change in the
generator shows up as a failure here, never as a silently wrong schema.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from infra.schema_provider.model import Attribute, Block, CtyType, NestedBlock, Nesting


class BindingsError(Exception):
    """The generated code has a shape this reader does not know."""


_CLASS = re.compile(r"^class (\w+) extends ([\w.]+) \{\n(.*?)^\}$", re.M | re.S)
_FUNCTION = re.compile(r"^function (\w+)ToHclTerraform\(struct\) \{\n(.*?)^\}$", re.M | re.S)
_INTERFACE = re.compile(r"^export interface (\w+)(?: extends [\w.]+)? \{\n(.*?)^\}$", re.M | re.S)
_FLAGS = re.compile(
    r"^    // ([a-z0-9_]+) - "
    r"computed: (true|false), optional: (true|false), required: (true|false)$",
    re.M,
)
_HCL_ENTRY = re.compile(
    r"^ +([a-z0-9_]+): \{\n +value: (.*),\n +isBlock: (true|false),\n"
    r' +type: "(\w+)",\n +storageClassType: "(\w+)",\n +\},?$',
    re.M,
)
_GETTER = re.compile(r"get \w+\(\) \{\n\s*return (.*);\n")
_FIELD = re.compile(r"^    _\w+(?: = (.*))?;$", re.M)
_RESOURCE_TYPE = re.compile(r'^    static tfResourceType = "([a-z0-9_]+)";$', re.M)
_COMPLEX = re.compile(
    r'^new (?:\w+\.)?(\w+?)(List|OutputReference)\(this, "[a-z0-9_]+"(?:, (true|false))?\)$'
)
_DOC_PROPERTY = re.compile(r"/\*\*\n(.*?)\*/\n\s+readonly \w+(\?)?:", re.S)
_ANCHOR = re.compile(r"\{@link https://registry\.terraform\.io/\S+#([a-z0-9_]+) ")
_POSSIBLE_VALUES = re.compile(r"Possible values: (\[[^\]]*\])")

_GETTER_TYPES: dict[str, CtyType] = {
    "getStringAttribute": "string",
    "getNumberAttribute": "number",
    "getBooleanAttribute": "bool",
    "getListAttribute": ["list", "string"],
    "getNumberListAttribute": ["list", "number"],
    "getStringMapAttribute": ["map", "string"],
    "getNumberMapAttribute": ["map", "number"],
    "getBooleanMapAttribute": ["map", "bool"],
}
_MAP_CLASSES: dict[str, CtyType] = {
    "cdktn.StringMap": ["map", "string"],
    "cdktn.NumberMap": ["map", "number"],
    "cdktn.BooleanMap": ["map", "bool"],
    "cdktn.StringMapList": ["list", ["map", "string"]],
}
_NESTINGS: dict[str, Nesting] = {"struct": "single", "list": "list", "set": "set"}
_STORAGE_TYPES: dict[str, str] = {"string": "string", "number": "number", "boolean": "bool"}


@dataclass(frozen=True)
class _Flags:
    name: str
    computed: bool
    optional: bool
    required: bool
    code: str  # the getter and setter that follow the comment


@dataclass(frozen=True)
class _HclEntry:
    name: str
    value: str
    is_block: bool
    kind: str
    storage: str


@dataclass(frozen=True)
class _Doc:
    optional: bool
    enum: tuple[str, ...]


class ModuleBindings:
    """The classes, HCL tables and docs of one generated module (one resource type)."""

    def __init__(self, javascript: str, declarations: str) -> None:
        self.classes: dict[str, tuple[str, str]] = {
            m.group(1): (m.group(2), m.group(3)) for m in _CLASS.finditer(javascript)
        }
        self.hcl: dict[str, dict[str, _HclEntry]] = {
            name[0].upper() + name[1:]: _hcl_table(body)
            for name, body in _FUNCTION.findall(javascript)
        }
        self.docs: dict[str, dict[str, _Doc]] = {
            name: _docs(body) for name, body in _INTERFACE.findall(declarations)
        }

    def top_level(self) -> tuple[str, str, Block]:
        """(kind, type name, schema) of the module's resource, data source or provider."""
        kinds = {
            "cdktn.TerraformResource": "resource",
            "cdktn.TerraformDataSource": "data",
            "cdktn.TerraformEphemeralResource": "ephemeral",
            "cdktn.TerraformProvider": "provider",
        }
        found = [(n, kinds[base]) for n, (base, _) in self.classes.items() if base in kinds]
        if len(found) != 1:
            raise BindingsError(f"expected one resource class, found {found}")
        name, kind = found[0]
        body = self.classes[name][1]
        type_name = _RESOURCE_TYPE.search(body)
        if type_name is None:
            raise BindingsError(f"{name}: no tfResourceType")
        hcl = _hcl_table(body.split("synthesizeHclAttributes() {", 1)[-1])
        return kind, type_name.group(1), self._block(name, hcl, self.docs.get(name + "Config", {}))

    def _block(self, class_name: str, hcl: dict[str, _HclEntry], docs: dict[str, _Doc]) -> Block:
        attributes: list[Attribute] = []
        blocks: list[NestedBlock] = []
        for flags in _flag_sections(self.classes[class_name][1]):
            entry = hcl.get(flags.name)
            enum = docs[flags.name].enum if flags.name in docs else ()
            if entry is not None and entry.is_block:
                blocks.append(self._nested(entry, required=flags.required))
            elif entry is not None:
                attributes.append(
                    Attribute(
                        flags.name,
                        _storage_type(entry),
                        required=flags.required,
                        optional=flags.optional,
                        computed=flags.computed,
                        enum=enum,
                    )
                )
            elif flags.optional or flags.required:
                raise BindingsError(f"{class_name}.{flags.name}: settable but not in the HCL table")
            else:
                attributes.append(Attribute(flags.name, self._computed_type(flags), computed=True))
        missing = set(hcl) - {a.name for a in attributes} - {b.name for b in blocks}
        if missing:
            raise BindingsError(f"{class_name}: HCL arguments without a getter: {sorted(missing)}")
        return Block(tuple(attributes), tuple(blocks))

    def _nested(self, entry: _HclEntry, *, required: bool) -> NestedBlock:
        struct = entry.storage.removesuffix("List") if entry.kind != "struct" else entry.storage
        nesting = _NESTINGS[entry.kind]
        single = nesting != "single" and "listMapperHcl(" not in entry.value
        hcl = self.hcl.get(struct)
        if hcl is None:
            raise BindingsError(f"{entry.name}: no HCL table for {struct}")
        docs = self.docs.get(struct, {})
        element = struct + "OutputReference"
        if element in self.classes:
            block = self._block(element, hcl, docs)
        else:  # provider blocks have no reference classes: arguments only
            block = self._arguments_only(hcl, docs)
        return NestedBlock(
            entry.name, nesting, block, min_items=1 if required else 0, max_items=1 if single else 0
        )

    def _arguments_only(self, hcl: dict[str, _HclEntry], docs: dict[str, _Doc]) -> Block:
        attributes, blocks = [], []
        for entry in hcl.values():
            doc = docs.get(entry.name, _Doc(optional=True, enum=()))
            if entry.is_block:
                blocks.append(self._nested(entry, required=not doc.optional))
            else:
                attributes.append(
                    Attribute(
                        entry.name,
                        _storage_type(entry),
                        required=not doc.optional,
                        optional=doc.optional,
                        enum=doc.enum,
                    )
                )
        return Block(tuple(attributes), tuple(blocks))

    def _computed_type(self, flags: _Flags) -> CtyType:
        getter = _GETTER.search(flags.code)
        if getter is None:
            raise BindingsError(f"{flags.name}: no getter")
        expression = getter.group(1)
        call = re.fullmatch(r"(cdktn\.Fn\.tolist\()?this\.(\w+)\('[a-z0-9_]+'\)\)?", expression)
        if call is not None and call.group(2) in _GETTER_TYPES:
            found = _GETTER_TYPES[call.group(2)]
            return ["set", found[1]] if call.group(1) and isinstance(found, list) else found
        field = _FIELD.search(flags.code)
        constructor = field.group(1) if field is not None else None
        if constructor is None:
            raise BindingsError(f"{flags.name}: getter {expression!r} names no type")
        for prefix, map_type in _MAP_CLASSES.items():
            if constructor.startswith(f"new {prefix}("):
                return map_type
        complex_ = _COMPLEX.match(constructor)
        if complex_ is None:
            raise BindingsError(f"{flags.name}: unknown constructor {constructor!r}")
        element = complex_.group(1) + "OutputReference"
        object_type = [
            "object",
            {f.name: self._computed_type(f) for f in _flag_sections(self.classes[element][1])},
        ]
        return ["set" if complex_.group(3) == "true" else "list", object_type]


def _flag_sections(body: str) -> list[_Flags]:
    matches = list(_FLAGS.finditer(body))
    sections = []
    for index, match in enumerate(matches):
        end = matches[index + 1].start() if index + 1 < len(matches) else len(body)
        computed, optional, required = (match.group(n) == "true" for n in (2, 3, 4))
        sections.append(
            _Flags(match.group(1), computed, optional, required, body[match.end() : end])
        )
    return sections


def _hcl_table(body: str) -> dict[str, _HclEntry]:
    return {
        m.group(1): _HclEntry(m.group(1), m.group(2), m.group(3) == "true", m.group(4), m.group(5))
        for m in _HCL_ENTRY.finditer(body)
    }


def _storage_type(entry: _HclEntry) -> CtyType:
    if entry.kind == "simple" and entry.storage in _STORAGE_TYPES:
        return _STORAGE_TYPES[entry.storage]
    for suffix, collection in (("List", ("list", "set")), ("Map", ("map",))):
        element = entry.storage.removesuffix(suffix)
        known = entry.storage.endswith(suffix) and element in _STORAGE_TYPES
        if known and entry.kind in collection:
            return [entry.kind, _STORAGE_TYPES[element]]
    raise BindingsError(f"{entry.name}: unknown argument type {entry.kind}/{entry.storage}")


def _docs(body: str) -> dict[str, _Doc]:
    docs = {}
    for match in _DOC_PROPERTY.finditer(body):
        lines = match.group(1).splitlines()
        text = " ".join(line.strip().removeprefix("*").strip() for line in lines)
        anchor = _ANCHOR.search(text)
        if anchor is None:
            continue
        values = _POSSIBLE_VALUES.search(text)
        enum = tuple(json.loads(values.group(1))) if values else ()
        docs[anchor.group(1)] = _Doc(optional=match.group(2) == "?", enum=enum)
    return docs
