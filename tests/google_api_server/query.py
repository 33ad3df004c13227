"""Gmail's `q` search language: the operators villaged sends, with Gmail semantics.

Supported: from: to: cc: bcc: (`me` = the profile address), after: before:
(epoch seconds or yyyy/mm/dd in the mailbox's time zone), older_than: newer_than:,
in: label: is: rfc822msgid:, implicit AND, OR, `-` negation, `( )` grouping,
`{ }` OR-grouping, and `op:( ... )` / `op:{ ... }` groups.  Anything else is a
QueryError, answered as a 400 and recorded as a contract violation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol, Union
from zoneinfo import ZoneInfo

ADDRESS_OPS = ("from", "to", "cc", "bcc")
_IN = {
    "inbox": "INBOX", "sent": "SENT", "drafts": "DRAFT", "draft": "DRAFT", "chats": "CHAT",
    "chat": "CHAT", "spam": "SPAM", "trash": "TRASH", "starred": "STARRED", "important": "IMPORTANT",
}
_IS = {"unread": "UNREAD", "starred": "STARRED", "important": "IMPORTANT", "read": "-UNREAD", "chat": "CHAT"}
_OPS = set(ADDRESS_OPS) | {"after", "before", "older", "newer", "older_than", "newer_than",
                           "in", "label", "is", "rfc822msgid"}


class QueryError(ValueError):
    """A `q` the server does not (knowingly) support."""


@dataclass(frozen=True)
class Term:
    op: str
    value: str


@dataclass(frozen=True)
class Not:
    node: Node


@dataclass(frozen=True)
class And:
    nodes: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    nodes: tuple[Node, ...]


Node = Union[Term, Not, And, Or]


class SearchIndex(Protocol):
    """What evaluation needs from the mailbox."""

    def universe(self) -> set[int]: ...
    def by_address(self, field: str, term: str) -> set[int]: ...
    def by_label(self, label: str) -> set[int]: ...
    def by_date(self, after_ms: int | None, before_ms: int | None) -> set[int]: ...
    def by_message_id(self, message_id: str) -> set[int]: ...


# ----------------------------------------------------------------- lexing

def _lex(q: str) -> list[tuple[str, str]]:
    """Tokens: ("(",), (")"), ("{"), ("}"), ("-"), ("OR"), ("op", name), ("term", op\0value), ("word", w)."""
    out: list[tuple[str, str]] = []
    i, n = 0, len(q)
    while i < n:
        c = q[i]
        if c.isspace():
            i += 1
        elif c in "(){}":
            out.append((c, c))
            i += 1
        elif c == "-" and i + 1 < n and not q[i + 1].isspace():
            out.append(("-", "-"))
            i += 1
        elif c == '"':
            end = q.find('"', i + 1)
            if end < 0:
                raise QueryError(f"unbalanced quote in q={q!r}")
            out.append(("word", q[i + 1 : end]))
            i = end + 1
        else:
            j = i
            while j < n and not q[j].isspace() and q[j] not in '(){}"':
                j += 1
            word = q[i:j]
            i = j
            op, colon, value = word.partition(":")
            if colon and op.lower() in _OPS:
                if value:
                    out.append(("term", f"{op.lower()}\0{value}"))
                elif i < n and q[i] == '"':
                    end = q.find('"', i + 1)
                    if end < 0:
                        raise QueryError(f"unbalanced quote in q={q!r}")
                    out.append(("term", f"{op.lower()}\0{q[i + 1:end]}"))
                    i = end + 1
                elif i < n and q[i] in "({":
                    out.append(("op", op.lower()))
                else:
                    raise QueryError(f"operator {op}: without a value in q={q!r}")
            elif colon:
                raise QueryError(f"unsupported search operator {op}: in q={q!r}")
            elif word == "OR":
                out.append(("OR", "OR"))
            else:
                out.append(("word", word))
    return out


# ---------------------------------------------------------------- parsing

def parse(q: str) -> Node:
    """Parse `q` into an AST (OR binds tighter than the implicit AND, as in Gmail)."""
    tokens = _lex(q)
    pos = 0

    def peek() -> str | None:
        return tokens[pos][0] if pos < len(tokens) else None

    def sequence(default_op: str | None, closer: str | None) -> list[Node]:
        nodes: list[Node] = []
        while peek() is not None and peek() != closer:
            nodes.append(disjunction(default_op))
        if closer is not None:
            if peek() != closer:
                raise QueryError(f"unbalanced {closer!r} in q={q!r}")
            advance()
        return nodes

    def disjunction(default_op: str | None) -> Node:
        nodes = [unary(default_op)]
        while peek() == "OR":
            advance()
            nodes.append(unary(default_op))
        return nodes[0] if len(nodes) == 1 else Or(tuple(nodes))

    def advance() -> tuple[str, str]:
        nonlocal pos
        pos += 1
        return tokens[pos - 1]

    def unary(default_op: str | None) -> Node:
        kind, value = advance() if peek() is not None else ("end", "")
        if kind == "-":
            return Not(unary(default_op))
        if kind == "(":
            return And(tuple(sequence(default_op, ")")))
        if kind == "{":
            return Or(tuple(sequence(default_op, "}")))
        if kind == "op":
            opener = advance()[0]
            inner = sequence(value, ")" if opener == "(" else "}")
            return And(tuple(inner)) if opener == "(" else Or(tuple(inner))
        if kind == "term":
            op, _, val = value.partition("\0")
            return Term(op, val)
        if kind == "word" and default_op is not None:
            return Term(default_op, value)
        if kind == "word":
            raise QueryError(f"free-text search term {value!r} is not supported in q={q!r}")
        raise QueryError(f"unexpected {value or 'end of query'!r} in q={q!r}")

    nodes = sequence(None, None)
    return nodes[0] if len(nodes) == 1 else And(tuple(nodes))


# ------------------------------------------------------------- evaluation

@dataclass(frozen=True)
class Context:
    """Evaluation inputs: the index, the owner, the clock and the mailbox zone."""

    index: SearchIndex
    profile_email: str
    now_ms: int
    zone: ZoneInfo


def evaluate(node: Node, ctx: Context) -> set[int]:
    """Message indices matching `node`."""
    if isinstance(node, And):
        if not node.nodes:
            return ctx.index.universe()
        positives = [evaluate(n, ctx) for n in node.nodes if not isinstance(n, Not)]
        result = set.intersection(*positives) if positives else ctx.index.universe()
        for n in node.nodes:
            if isinstance(n, Not):
                result -= evaluate(n.node, ctx)
        return result
    if isinstance(node, Or):
        return set().union(*(evaluate(n, ctx) for n in node.nodes)) if node.nodes else set()
    if isinstance(node, Not):
        return ctx.index.universe() - evaluate(node.node, ctx)
    return _term(node, ctx)


def _term(term: Term, ctx: Context) -> set[int]:
    op, value = term.op, term.value
    if op in ADDRESS_OPS:
        return ctx.index.by_address(op, ctx.profile_email if value.lower() == "me" else value)
    if op in ("after", "newer"):
        return ctx.index.by_date(_instant(value, ctx), None)
    if op in ("before", "older"):
        return ctx.index.by_date(None, _instant(value, ctx))
    if op in ("newer_than", "older_than"):
        cut = ctx.now_ms - _span_ms(value)
        return ctx.index.by_date(cut, None) if op == "newer_than" else ctx.index.by_date(None, cut)
    if op == "in":
        if value.lower() == "anywhere":
            return ctx.index.universe()
        if value.lower() not in _IN:
            raise QueryError(f"unsupported in:{value}")
        return ctx.index.by_label(_IN[value.lower()])
    if op == "is":
        label = _IS.get(value.lower())
        if label is None:
            raise QueryError(f"unsupported is:{value}")
        if label.startswith("-"):
            return ctx.index.universe() - ctx.index.by_label(label[1:])
        return ctx.index.by_label(label)
    if op == "label":
        return ctx.index.by_label(value)
    if op == "rfc822msgid":
        return ctx.index.by_message_id(value)
    raise QueryError(f"unsupported operator {op}:")


def _instant(value: str, ctx: Context) -> int:
    """Epoch ms for `after:`/`before:` values: epoch seconds, or a date in the mailbox zone."""
    if value.isdigit():
        return int(value) * 1000
    m = re.fullmatch(r"(\d{4})[/-](\d{1,2})[/-](\d{1,2})", value)
    if not m:
        raise QueryError(f"unsupported date {value!r} (use epoch seconds or yyyy/mm/dd)")
    day = datetime(int(m[1]), int(m[2]), int(m[3]), tzinfo=ctx.zone)
    return int(day.timestamp() * 1000)


def _span_ms(value: str) -> int:
    m = re.fullmatch(r"(\d+)([dmy])", value.lower())
    if not m:
        raise QueryError(f"unsupported relative date {value!r}")
    days = {"d": 1, "m": 30, "y": 365}[m[2]] * int(m[1])
    return int(timedelta(days=days).total_seconds() * 1000)


def mentions_spam_or_trash(node: Node) -> bool:
    """Whether the query asks for SPAM/TRASH explicitly (which lifts their default exclusion)."""
    if isinstance(node, Term):
        return node.op in ("in", "label") and node.value.lower() in ("spam", "trash", "anywhere")
    if isinstance(node, Not):
        return False
    return any(mentions_spam_or_trash(n) for n in node.nodes)
