"""Reading lists: lists of text, and lists of email addresses."""

from __future__ import annotations

import re

from villaged.schema.table import Table
from villaged.schema.wording import describe, toml_string

_DOMAIN_LABEL = re.compile(r"[^\W_](?:[\w-]*[^\W_])?")


class ListFields(Table):
    """A table's readers for lists, each failing at the item that is wrong."""

    def strings(
        self, name: str, default: tuple[str, ...], *, example: str, nonempty: bool = False
    ) -> tuple[str, ...]:
        if name not in self.data:
            return default
        value = self.data[name]
        if isinstance(value, str):
            self.fail(
                name,
                f"expected a list in square brackets, found the single text {toml_string(value)}",
                fix=f"put it in square brackets: {name} = [{toml_string(value)}]",
            )
        if not isinstance(value, list):
            self.wrong_type(name, 'a list in square brackets, like ["a", "b"]', example)
        if nonempty and not value:
            self.fail(name, "the list is empty", fix=f"write {example}")
        for i, item in enumerate(value):
            if not isinstance(item, str):
                problem = f"expected text in double quotes, found {describe(item)}"
                self.fail_item(name, i, problem, fix=f"write {example}")
            if not item.strip():
                self.fail_item(name, i, "is empty", fix=f"remove it, or write {example}")
        return tuple(item.strip() for item in value)

    def emails(self, name: str, *, example: str) -> tuple[str, ...]:
        if name not in self.data:
            self.missing(name, example)
        values = self.strings(name, (), nonempty=True, example=example)
        for i, value in enumerate(values):
            problem, bare = email_problem(value)
            if problem:
                fix = (
                    f"write just the address: {toml_string(bare)}"
                    if bare
                    else f"write e.g. {example}"
                )
                self.fail_item(name, i, f'"{value}" {problem}', fix=fix)
        return values


def email_problem(address: str) -> tuple[str | None, str | None]:
    """(what is wrong, the bare address if it was written "Name <addr>").

    >>> email_problem("ada@example.org")
    (None, None)
    >>> email_problem("Ada <ada@example.org>")
    ('is not a bare address', 'ada@example.org')
    >>> email_problem("ada@localhost")
    ('has no valid domain after the @ ("localhost")', None)
    """
    if "<" in address or ">" in address:
        m = re.search(r"<([^<>]+)>", address)
        bare = m[1].strip() if m else None
        return "is not a bare address", bare
    if any(c.isspace() for c in address):
        return "contains a space", None
    local, at, domain = address.rpartition("@")
    if not at:
        return "has no @", None
    if not local:
        return "has nothing before the @", None
    if "@" in local:
        return "has more than one @", None
    labels = domain.split(".")
    if len(labels) < 2 or not all(_DOMAIN_LABEL.fullmatch(label) for label in labels):
        return f'has no valid domain after the @ ("{domain}")', None
    return None, None
