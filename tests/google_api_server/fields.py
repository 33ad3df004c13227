"""Partial responses: Google's `fields=` selector (`a,b/c,d(e,f)`, `*`)."""

from __future__ import annotations

import re
from typing import Any

from .contract import Discovery, schema_property

Selection = dict[str, "Selection | None"]
_TOKEN = re.compile(r"\s*([A-Za-z0-9_$.*@-]+|[,/()])")


class FieldsError(ValueError):
    """A malformed `fields` selector."""


def parse(text: str) -> Selection:
    """Parse a selector into a tree: {name: subtree or None (whole value)}."""
    tokens = [m.group(1) for m in _TOKEN.finditer(text)]
    if "".join(tokens) != re.sub(r"\s+", "", text):
        raise FieldsError(f"Invalid field selection {text!r}")
    pos = 0

    def selection() -> Selection:
        nonlocal pos
        out: Selection = {}
        while True:
            _merge(out, item())
            if pos < len(tokens) and tokens[pos] == ",":
                pos += 1
                continue
            return out

    def item() -> Selection:
        nonlocal pos
        names = [name()]
        while pos < len(tokens) and tokens[pos] == "/":
            pos += 1
            names.append(name())
        sub: Selection | None = None
        if pos < len(tokens) and tokens[pos] == "(":
            pos += 1
            sub = selection()
            if pos >= len(tokens) or tokens[pos] != ")":
                raise FieldsError(f"Invalid field selection {text!r}: unbalanced parentheses")
            pos += 1
        for n in reversed(names):
            sub = {n: sub}
        assert sub is not None
        return sub

    def name() -> str:
        nonlocal pos
        if pos >= len(tokens) or tokens[pos] in ",/()":
            raise FieldsError(f"Invalid field selection {text!r}")
        pos += 1
        return tokens[pos - 1]

    tree = selection()
    if pos != len(tokens):
        raise FieldsError(f"Invalid field selection {text!r}")
    return tree


def _merge(into: Selection, more: Selection) -> None:
    for key, sub in more.items():
        if key not in into:
            into[key] = sub
        elif into[key] is None or sub is None:
            into[key] = None
        else:
            _merge(into[key], sub)  # type: ignore[arg-type]


def check(doc: Discovery, tree: Selection, ref: str) -> list[str]:
    """Names in the selector that the response schema `ref` does not declare."""
    problems: list[str] = []

    def walk(sel: Selection, schema: dict[str, Any], prefix: str) -> None:
        for key, sub in sel.items():
            if key == "*":
                continue
            prop = schema_property(doc, schema, key)
            if prop is None:
                problems.append(f"Invalid field selection {prefix + key}")
            elif sub is not None:
                walk(sub, prop, prefix + key + "/")

    walk(tree, {"$ref": ref}, "")
    return problems


def apply(value: Any, tree: Selection | None) -> Any:
    """Keep only the selected parts of `value`."""
    if tree is None:
        return value
    if isinstance(value, list):
        return [apply(item, tree) for item in value]
    if not isinstance(value, dict):
        return value
    if "*" in tree:
        return {k: apply(v, tree.get(k)) for k, v in value.items()}
    out = {}
    for key, sub in tree.items():
        if key in value:
            picked = apply(value[key], sub)
            if picked != {} or value[key] == {}:
                out[key] = picked
    return out
