"""The OData query options the local Graph server understands: a $filter subset, $search, $select.

$filter grammar (what villaged and its tests use; anything else is a 400):

    expr    := and ('or' and)*
    and     := unary ('and' unary)*
    unary   := 'not' unary | '(' expr ')' | path '/any(' var ':' expr ')' | path op literal
    op      := eq | ne | gt | ge | lt | le
    literal := 'string' | 2024-01-01T00:00:00Z | number | true | false | null

String comparisons with ``eq``/``ne`` ignore case, as Exchange does for addresses.
$search: ``"field:value OR field:value ..."`` with fields from, to, cc, bcc, recipients
(to, cc and bcc) and participants (from and recipients).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Predicate = Callable[[dict[str, Any]], bool]

_TOKEN = re.compile(r"""\s*(?:
    (?P<str>'(?:[^']|'')*')
  | (?P<dt>\d{4}-\d\d-\d\dT\d\d:\d\d(?::\d\d(?:\.\d+)?)?(?:Z|[+-]\d\d:\d\d))
  | (?P<num>-?\d+(?:\.\d+)?)
  | (?P<punct>[():,])
  | (?P<word>[A-Za-z_][A-Za-z0-9_./{}\- ]*?(?=[\s():,]|$))
)""", re.VERBOSE)
OPS = {"eq", "ne", "gt", "ge", "lt", "le"}


class ODataError(ValueError):
    """A query option the server does not accept (answered 400 BadRequest)."""

    def __init__(self, message: str, code: str = "BadRequest") -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Comparison:
    path: tuple[str, ...]
    op: str
    value: Any


def _tokens(text: str) -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise ODataError(f"Invalid filter clause near {text[pos:pos + 20]!r}")
        pos = m.end()
        if m.group("str") is not None:
            out.append(("lit", m.group("str")[1:-1].replace("''", "'")))
        elif m.group("dt") is not None:
            out.append(("lit", dt.datetime.fromisoformat(m.group("dt").replace("Z", "+00:00"))))
        elif m.group("num") is not None:
            out.append(("lit", float(m.group("num")) if "." in m.group("num") else int(m.group("num"))))
        elif m.group("punct") is not None:
            out.append((m.group("punct"), m.group("punct")))
        else:
            word = m.group("word").strip()
            for part in word.split(" "):
                if part in ("true", "false", "null"):
                    out.append(("lit", {"true": True, "false": False, "null": None}[part]))
                elif part:
                    out.append(("word", part))
    return out


class _Parser:
    def __init__(self, text: str) -> None:
        self.toks = _tokens(text)
        self.i = 0
        self.first_comparison: Comparison | None = None

    def peek(self) -> tuple[str, Any] | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self, kind: str | None = None, value: Any = None) -> tuple[str, Any]:
        tok = self.peek()
        if tok is None or (kind and tok[0] != kind) or (value is not None and tok[1] != value):
            raise ODataError(f"Invalid filter clause: expected {value or kind}, found {tok and tok[1]!r}")
        self.i += 1
        return tok

    def parse(self) -> Predicate:
        pred = self.expr(())
        if self.peek() is not None:
            raise ODataError(f"Invalid filter clause: unexpected {self.peek()[1]!r}")  # type: ignore[index]
        return pred

    def expr(self, scope: tuple[str, ...]) -> Predicate:
        parts = [self.conj(scope)]
        while self.peek() == ("word", "or"):
            self.i += 1
            parts.append(self.conj(scope))
        return parts[0] if len(parts) == 1 else (lambda item: any(p(item) for p in parts))

    def conj(self, scope: tuple[str, ...]) -> Predicate:
        parts = [self.unary(scope)]
        while self.peek() == ("word", "and"):
            self.i += 1
            parts.append(self.unary(scope))
        return parts[0] if len(parts) == 1 else (lambda item: all(p(item) for p in parts))

    def unary(self, scope: tuple[str, ...]) -> Predicate:
        tok = self.peek()
        if tok == ("word", "not"):
            self.i += 1
            inner = self.unary(scope)
            return lambda item: not inner(item)
        if tok == ("(", "("):
            self.i += 1
            inner = self.expr(scope)
            self.take(")")
            return inner
        kind, word = self.take("word")
        path = tuple(word.split("/"))
        if path[-1] == "any" and self.peek() == ("(", "("):
            self.i += 1
            _, var = self.take("word")
            self.take(":")
            body = self.expr((var,))
            self.take(")")
            collection = path[:-1]
            if scope and collection and collection[0] == scope[0]:
                collection = collection[1:]
            return lambda item: any(body(el) for el in _get(item, collection) or () if isinstance(el, dict))
        _, op = self.take("word")
        if op not in OPS:
            raise ODataError(f"Invalid filter clause: unknown operator {op!r}")
        _, value = self.take("lit")
        if scope and path[0] == scope[0]:
            path = path[1:]
        comparison = Comparison(path, op, value)
        if self.first_comparison is None and not scope:
            self.first_comparison = comparison
        return lambda item: _compare(_get(item, path), op, value)


def _get(item: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        if not isinstance(item, dict):
            return None
        item = _ci_get(item, key)
    return item


def _ci_get(item: dict[str, Any], key: str) -> Any:
    if key in item:
        return item[key]
    lower = key.lower()
    for k, v in item.items():
        if k.lower() == lower:
            return v
    return None


def _compare(actual: Any, op: str, value: Any) -> bool:
    if isinstance(value, dt.datetime):
        if not isinstance(actual, str):
            return False
        actual = dt.datetime.fromisoformat(actual.replace("Z", "+00:00"))
    elif isinstance(value, str) and isinstance(actual, str):
        actual, value = actual.lower(), value.lower()
    if op == "eq":
        return bool(actual == value)
    if op == "ne":
        return bool(actual != value)
    if actual is None or value is None:
        return False
    try:
        return bool({"gt": actual > value, "ge": actual >= value, "lt": actual < value,
                     "le": actual <= value}[op])
    except TypeError:
        return False


def parse_filter(text: str) -> tuple[Predicate, Comparison | None]:
    """The predicate of a $filter, and its first top-level comparison (for the orderby rule)."""
    parser = _Parser(text)
    return parser.parse(), parser.first_comparison


# -- $search -----------------------------------------------------------------------

_SEARCH_FIELDS = {
    "from": ("from",), "to": ("toRecipients",), "cc": ("ccRecipients",), "bcc": ("bccRecipients",),
    "recipients": ("toRecipients", "ccRecipients", "bccRecipients"),
    "participants": ("from", "toRecipients", "ccRecipients", "bccRecipients"),
}


def parse_search(text: str) -> Predicate:
    text = text.strip()
    if len(text) < 2 or text[0] != '"' or text[-1] != '"':
        raise ODataError("Syntax error: $search must be a quoted string")
    terms = []
    for term in text[1:-1].split(" OR "):
        field, sep, value = term.strip().partition(":")
        if not sep or field.lower() not in _SEARCH_FIELDS or not value.strip():
            raise ODataError(f"$search term {term!r} is not supported by this server")
        terms.append((_SEARCH_FIELDS[field.lower()], value.strip().lower()))

    def addresses(item: dict[str, Any], props: tuple[str, ...]) -> set[str]:
        found = set()
        for prop in props:
            value = item.get(prop)
            for rec in value if isinstance(value, list) else [value]:
                addr = ((rec or {}).get("emailAddress") or {}).get("address")
                if isinstance(addr, str):
                    found.add(addr.lower())
        return found

    return lambda item: any(value in addresses(item, props) for props, value in terms)


def parse_select(text: str | None) -> list[str] | None:
    if text is None:
        return None
    return [s.strip() for s in text.split(",") if s.strip()]
