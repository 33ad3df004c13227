"""Cut the mail, calendar and user part out of Microsoft Graph's v1.0 CSDL.

    python -m tests.graph_api_server.trim_csdl ../shared/graph/v1.0-Prod.csdl \
        tests/graph_api_server/schema/graph-v1.0-mail-calendar.csdl

The full CSDL (3.4 MB, every workload of Graph) is not in the repository. This
script keeps, from the ``microsoft.graph`` schema only:

- the entity types named in ROOTS, their base types, and every complex and
  enum type their structural properties use (transitively, base types too);
- their navigation properties whose target type is kept (the rest are cut,
  so a path through them is, correctly for villaged's purposes, refused);
- the bound functions and actions named in OPERATIONS whose binding
  parameter is a kept type, with the types their parameters and return use;
- the ``me`` singleton and the ``users`` entity set.

Nothing is renamed or changed: every kept element is copied as it is, so the
trimmed file is a faithful subset of Microsoft's.
"""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ET
from pathlib import Path

EDMX = "http://docs.oasis-open.org/odata/ns/edmx"
EDM = "http://docs.oasis-open.org/odata/ns/edm"
NS = "microsoft.graph"
ROOTS = ("entity", "outlookItem", "message", "mailFolder", "event", "calendar", "user",
         "singleValueLegacyExtendedProperty", "multiValueLegacyExtendedProperty")
OPERATIONS = ("delta", "getSchedule")
CONTAINER = {"Singleton": ("me",), "EntitySet": ("users",)}
HEADER = """
  Trimmed from Microsoft Graph's published v1.0 CSDL (microsoftgraph/msgraph-metadata,
  schemas/v1.0-Prod.csdl, commit f54f11b6, 2026-08-20) by tests/graph_api_server/trim_csdl.py:
  the mail, calendar and user types villaged's tests need, unchanged.

  MIT License. Copyright (c) Microsoft Corporation. All rights reserved.

  Permission is hereby granted, free of charge, to any person obtaining a copy of this
  software and associated documentation files (the "Software"), to deal in the Software
  without restriction, including without limitation the rights to use, copy, modify, merge,
  publish, distribute, sublicense, and/or sell copies of the Software, and to permit persons
  to whom the Software is furnished to do so, subject to the following conditions:

  The above copyright notice and this permission notice shall be included in all copies or
  substantial portions of the Software.

  THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR IMPLIED,
  INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY, FITNESS FOR A PARTICULAR
  PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE AUTHORS OR COPYRIGHT HOLDERS BE LIABLE
  FOR ANY CLAIM, DAMAGES OR OTHER LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR
  OTHERWISE, ARISING FROM, OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER
  DEALINGS IN THE SOFTWARE.
"""


def _tag(name: str) -> str:
    return f"{{{EDM}}}{name}"


def _local(type_name: str) -> str | None:
    """'Collection(graph.recipient)' -> 'recipient'; None for Edm.* and other schemas."""
    if type_name.startswith("Collection(") and type_name.endswith(")"):
        type_name = type_name[len("Collection("):-1]
    for prefix in ("graph.", NS + "."):
        if type_name.startswith(prefix) and "." not in type_name[len(prefix):]:
            return type_name[len(prefix):]
    return None


def trim(source: Path) -> ET.Element:
    tree = ET.parse(source)
    schema = next(s for s in tree.getroot().iter(_tag("Schema")) if s.get("Namespace") == NS)
    types = {el.get("Name"): el for el in schema
             if el.tag in (_tag("EntityType"), _tag("ComplexType"), _tag("EnumType"))}
    entity_roots = set(ROOTS)
    keep: set[str] = set()

    def visit(name: str | None) -> None:
        if not name or name in keep or name not in types:
            return
        el = types[name]
        if el.tag == _tag("EntityType") and name not in entity_roots:
            return  # entity types come only from ROOTS (and their bases)
        keep.add(name)
        visit(_local(el.get("BaseType") or ""))
        for prop in el.findall(_tag("Property")):
            visit(_local(prop.get("Type") or ""))

    for root in ROOTS:
        # a root's base types are entity types too: allow them
        base = types[root].get("BaseType")
        while base:
            entity_roots.add(_local(base) or "")
            base = types[_local(base) or ""].get("BaseType") if _local(base) in types else None
    for root in ROOTS:
        visit(root)

    operations = []
    for el in schema:
        if el.tag not in (_tag("Function"), _tag("Action")) or el.get("Name") not in OPERATIONS:
            continue
        params = el.findall(_tag("Parameter"))
        if el.get("IsBound") != "true" or not params or _local(params[0].get("Type") or "") not in keep:
            continue
        used = [_local(p.get("Type") or "") for p in params]
        ret = el.find(_tag("ReturnType"))
        if ret is not None:
            used.append(_local(ret.get("Type") or ""))
        if any(u and types.get(u) is not None and types[u].tag == _tag("EntityType") and u not in keep
               for u in used):
            continue
        for u in used:
            visit(u)
        operations.append(el)

    out_root = ET.Element(f"{{{EDMX}}}Edmx", {"Version": "4.0"})
    services = ET.SubElement(out_root, f"{{{EDMX}}}DataServices")
    out = ET.SubElement(services, _tag("Schema"), {"Namespace": NS, "Alias": "graph"})
    for el in schema:
        if el.get("Name") in keep and el.tag in (_tag("EntityType"), _tag("ComplexType"), _tag("EnumType")):
            for nav in list(el.findall(_tag("NavigationProperty"))):
                if _local(nav.get("Type") or "") not in keep:
                    el.remove(nav)
            out.append(el)
    out.extend(operations)
    container = schema.find(_tag("EntityContainer"))
    assert container is not None
    new_container = ET.SubElement(out, _tag("EntityContainer"), {"Name": container.get("Name") or ""})
    for kind, names in CONTAINER.items():
        for el in container.findall(_tag(kind)):
            if el.get("Name") in names:
                for binding in list(el):
                    el.remove(binding)
                new_container.append(el)
    return out_root


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    ET.register_namespace("edmx", EDMX)
    ET.register_namespace("", EDM)
    root = trim(Path(argv[1]))
    ET.indent(root, space="  ")
    body = ET.tostring(root, encoding="unicode")
    Path(argv[2]).write_text('<?xml version="1.0" encoding="utf-8"?>\n<!--' + HEADER + "-->\n"
                             + body + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
