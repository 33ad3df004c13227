"""Microsoft Graph's schema (the trimmed CSDL under schema/) as checks.

- ``Schema.check_entity(type, body)``: every property of a JSON entity must be
  declared on the type or a base type, with a value of the declared type
  (Edm primitives, enum members, complex types, collections, nullability);
  OData annotations (``@odata.*``, ``@removed``) are allowed.
- ``Schema.resolve(segments)``: walks a URL path from the entity container
  (the ``me`` singleton, the ``users`` set) through navigation properties,
  keys and bound functions/actions, and says what it returns; a segment the
  schema does not allow is an error.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

EDM = "{http://docs.oasis-open.org/odata/ns/edm}"
SCHEMA_FILE = Path(__file__).parent / "schema" / "graph-v1.0-mail-calendar.csdl"
_DATETIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,7})?(Z|[+-]\d\d:\d\d)")
_DATE = re.compile(r"\d{4}-\d\d-\d\d")
_TIME = re.compile(r"\d\d:\d\d:\d\d(\.\d{1,7})?")


class SchemaError(ValueError):
    """A body or a path that Graph's schema does not allow."""


@dataclass(frozen=True)
class Prop:
    name: str
    type: str  # "Edm.String", "graph.recipient", "Collection(graph.recipient)"
    nullable: bool = True
    navigation: bool = False


@dataclass
class StructType:
    name: str
    kind: str  # entity | complex
    base: str | None
    abstract: bool = False
    props: dict[str, Prop] = field(default_factory=dict)


@dataclass(frozen=True)
class Operation:
    name: str
    kind: str  # function | action
    binding: str  # type of the binding parameter, e.g. "Collection(graph.message)"
    returns: str | None


@dataclass(frozen=True)
class Target:
    """What a path addresses: a single entity, a collection, or an operation's result."""

    type: str  # "graph.message" or "Collection(graph.message)"
    operation: Operation | None = None

    @property
    def element(self) -> str:
        return _element(self.type)

    @property
    def is_collection(self) -> bool:
        return self.type.startswith("Collection(")


def _element(type_name: str) -> str:
    return type_name[len("Collection("):-1] if type_name.startswith("Collection(") else type_name


def _short(type_name: str) -> str:
    return "graph." + type_name[len("microsoft.graph."):] if type_name.startswith("microsoft.graph.") \
        else type_name


class Schema:
    def __init__(self, path: Path = SCHEMA_FILE) -> None:
        root = ET.parse(path).getroot()
        schema = next(root.iter(f"{EDM}Schema"))
        self.types: dict[str, StructType] = {}
        self.enums: dict[str, set[str]] = {}
        self.operations: list[Operation] = []
        self.container: dict[str, str] = {}
        for el in schema:
            name = "graph." + str(el.get("Name"))
            if el.tag in (f"{EDM}EntityType", f"{EDM}ComplexType"):
                st = StructType(name, "entity" if el.tag.endswith("EntityType") else "complex",
                                _short(el.get("BaseType") or "") or None, el.get("Abstract") == "true")
                for p in el:
                    if p.tag in (f"{EDM}Property", f"{EDM}NavigationProperty"):
                        st.props[str(p.get("Name"))] = Prop(
                            str(p.get("Name")), _short(str(p.get("Type"))),
                            p.get("Nullable") != "false", p.tag.endswith("NavigationProperty"))
                self.types[name] = st
            elif el.tag == f"{EDM}EnumType":
                self.enums[name] = {str(m.get("Name")) for m in el.findall(f"{EDM}Member")}
            elif el.tag in (f"{EDM}Function", f"{EDM}Action"):
                params = el.findall(f"{EDM}Parameter")
                ret = el.find(f"{EDM}ReturnType")
                self.operations.append(Operation(
                    str(el.get("Name")), "function" if el.tag.endswith("Function") else "action",
                    _short(str(params[0].get("Type"))), _short(str(ret.get("Type"))) if ret is not None else None))
            elif el.tag == f"{EDM}EntityContainer":
                for item in el:
                    if item.tag == f"{EDM}Singleton":
                        self.container[str(item.get("Name"))] = _short(str(item.get("Type")))
                    elif item.tag == f"{EDM}EntitySet":
                        self.container[str(item.get("Name"))] = \
                            f"Collection({_short(str(item.get('EntityType')))})"

    # -- types -------------------------------------------------------------------

    def props(self, type_name: str) -> dict[str, Prop]:
        """All properties of a structured type, its base types' included."""
        found: dict[str, Prop] = {}
        current: str | None = type_name
        while current:
            st = self.types.get(current)
            if st is None:
                raise SchemaError(f"unknown type {current}")
            for name, prop in st.props.items():
                found.setdefault(name, prop)
            current = st.base
        return found

    def is_a(self, type_name: str, base: str) -> bool:
        current: str | None = type_name
        while current:
            if current == base:
                return True
            current = self.types[current].base if current in self.types else None
        return False

    def check_entity(self, type_name: str, body: Any, where: str = "") -> None:
        self.check_value(type_name, body, where or type_name)

    def check_value(self, type_name: str, value: Any, where: str, nullable: bool = True) -> None:
        if value is None:
            if not nullable:
                raise SchemaError(f"{where}: null where {type_name} is not nullable")
            return
        if type_name.startswith("Collection("):
            if not isinstance(value, list):
                raise SchemaError(f"{where}: expected a JSON array for {type_name}, got {type(value).__name__}")
            for n, item in enumerate(value):
                self.check_value(_element(type_name), item, f"{where}[{n}]", nullable=False)
            return
        if type_name.startswith("Edm."):
            _check_primitive(type_name, value, where)
            return
        if type_name in self.enums:
            if not isinstance(value, str) or not all(v.strip() in self.enums[type_name] for v in value.split(",")):
                raise SchemaError(f"{where}: {value!r} is not a member of {type_name}")
            return
        if type_name not in self.types:
            raise SchemaError(f"{where}: unknown type {type_name}")
        if not isinstance(value, dict):
            raise SchemaError(f"{where}: expected a JSON object for {type_name}, got {type(value).__name__}")
        actual = type_name
        odata_type = value.get("@odata.type")
        if isinstance(odata_type, str):
            named = _short(odata_type.lstrip("#"))
            if named not in self.types or not self.is_a(named, type_name):
                raise SchemaError(f"{where}: @odata.type {odata_type} is not a {type_name}")
            actual = named
        props = self.props(actual)
        for key, item in value.items():
            if key.startswith("@") or "@odata." in key:
                continue  # instance annotations (@odata.etag, @removed, x@odata.nextLink, ...)
            prop = props.get(key)
            if prop is None:
                raise SchemaError(f"{where}: {actual} has no property {key!r}")
            self.check_value(prop.type, item, f"{where}.{key}", prop.nullable)

    # -- paths ---------------------------------------------------------------------

    @lru_cache(maxsize=512)
    def resolve(self, segments: tuple[str, ...]) -> Target:
        """What ``/v1.0/<segments>`` addresses; SchemaError when the schema has no such path.

        A segment after a collection is taken as a key unless it names a bound
        operation of that collection (``delta``, ``microsoft.graph.delta()``)."""
        if not segments:
            raise SchemaError("empty path")
        first = segments[0]
        if first not in self.container:
            raise SchemaError(f"/{first}: not an entity set or singleton")
        current = Target(self.container[first])
        for n, raw in enumerate(segments[1:], 1):
            seg = raw[len("microsoft.graph."):] if raw.startswith("microsoft.graph.") else raw
            seg = seg[:-2] if seg.endswith("()") else seg
            if current.operation is not None:
                raise SchemaError(f"/{'/'.join(segments[:n + 1])}: nothing follows the operation "
                                  f"{current.operation.name}")
            op = self._operation(seg, current.type)
            if op is not None:
                current = Target(op.returns or "Edm.Untyped", op)
                continue
            if current.is_collection:
                current = Target(current.element)  # a key: /messages/{id}
                continue
            prop = self.props(current.type).get(seg) if current.type in self.types else None
            if prop is None or not prop.navigation:
                raise SchemaError(f"/{'/'.join(segments[:n + 1])}: {current.type} has no navigation "
                                  f"property or bound operation {seg!r}")
            current = Target(prop.type)
        return current

    def _operation(self, name: str, bound_to: str) -> Operation | None:
        for op in self.operations:
            if op.name != name:
                continue
            binding = op.binding
            if binding == bound_to:
                return op
            if binding.startswith("Collection(") == bound_to.startswith("Collection(") and \
                    self.is_a(_element(bound_to), _element(binding)) and _element(bound_to) in self.types:
                return op
        return None


def _check_primitive(type_name: str, value: Any, where: str) -> None:
    ok: bool
    if type_name == "Edm.String":
        ok = isinstance(value, str)
    elif type_name == "Edm.Boolean":
        ok = isinstance(value, bool)
    elif type_name in ("Edm.Int32", "Edm.Int64", "Edm.Int16", "Edm.Byte"):
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif type_name in ("Edm.Double", "Edm.Single", "Edm.Decimal"):
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    elif type_name == "Edm.DateTimeOffset":
        ok = isinstance(value, str) and _DATETIME.fullmatch(value) is not None and _parses(value)
    elif type_name == "Edm.Date":
        ok = isinstance(value, str) and _DATE.fullmatch(value) is not None
    elif type_name == "Edm.TimeOfDay":
        ok = isinstance(value, str) and _TIME.fullmatch(value) is not None
    elif type_name == "Edm.Duration":
        ok = isinstance(value, str) and value.startswith(("P", "-P"))
    elif type_name == "Edm.Guid":
        ok = isinstance(value, str) and re.fullmatch(r"[0-9a-fA-F-]{36}", value) is not None
    elif type_name == "Edm.Binary":
        ok = isinstance(value, str) and _b64(value)
    elif type_name == "Edm.Stream":
        ok = isinstance(value, str)
    elif type_name == "Edm.Untyped":
        ok = True
    else:
        raise SchemaError(f"{where}: unknown primitive type {type_name}")
    if not ok:
        raise SchemaError(f"{where}: {value!r} is not a valid {type_name}")


def _parses(value: str) -> bool:
    try:
        dt.datetime.fromisoformat(value.replace("Z", "+00:00")[:26] if "." in value else value.replace("Z", "+00:00"))
    except ValueError:
        return "." in value  # 7-digit fractions do not parse before 3.11 fromisoformat; the regex vouched
    return True


def _b64(value: str) -> bool:
    try:
        base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return False
    return True


@lru_cache(maxsize=1)
def graph_schema() -> Schema:
    return Schema()
