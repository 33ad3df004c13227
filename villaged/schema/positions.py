"""Where keys are: a small scanner over the raw TOML text.

tomllib keeps no positions, so errors that point at a line need this.
"""

from __future__ import annotations

import bisect
import re
import tomllib

Key = tuple[str | int, ...]
"""A position path, e.g. ``("person", 1, "role")`` or ``("owner", "addresses", 0)``."""


class _Stop(Exception):
    """The scanner met something it does not follow."""


_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_SCALAR = re.compile(r"[^,\]}\n#]+")


class Positions:
    """Line numbers of keys, tables and list items in TOML text.

    Paths are tuples like ``("person", 1, "role")`` or ``("owner",
    "addresses", 0)``: array-of-tables and list indices are 0-based ints.
    ``line`` falls back to the nearest enclosing key, so a missing key points
    at its table's header. Best effort: on text it cannot follow (tomllib has
    the last word on validity) it keeps what it found so far, and notes
    duplicate keys and unclosed lists for syntax errors.

    >>> positions = Positions('[owner]\\nname = "Dana"\\n\\n[[person]]\\nrole = "mentor"\\n')
    >>> positions.line(("owner", "name")), positions.line(("person", 0, "role"))
    (2, 5)
    >>> positions.line(("person", 0, "emails"))  # missing: its table's header
    4
    """

    def __init__(self, text: str) -> None:
        self.text = text
        self.n = len(text)
        self.i = 0
        self.newlines = [m.start() for m in re.finditer("\n", text)]
        self.lines: dict[Key, int] = {}
        self.arrays: dict[Key, int] = {}
        self.assigned: dict[Key, int] = {}
        self.duplicates: list[tuple[Key, int, int]] = []
        self.unclosed: int | None = None
        self._open: list[int] = []
        try:
            self._document()
        except (_Stop, IndexError, ValueError, tomllib.TOMLDecodeError):
            if self._open:
                self.unclosed = self._open[0]

    def line(self, key: Key) -> int | None:
        while key:
            if key in self.lines:
                return self.lines[key]
            key = key[:-1]
        return None

    def _line(self) -> int:
        return bisect.bisect_left(self.newlines, self.i) + 1

    def _skip(self, newlines: bool = False) -> None:
        t = self.text
        while self.i < self.n:
            c = t[self.i]
            if c in " \t\r" or (newlines and c == "\n"):
                self.i += 1
            elif c == "#":
                end = t.find("\n", self.i)
                self.i = self.n if end < 0 else end
            else:
                return

    def _expect(self, token: str) -> None:
        if not self.text.startswith(token, self.i):
            raise _Stop
        self.i += len(token)

    def _document(self) -> None:
        table: Key = ()
        while True:
            self._skip(newlines=True)
            if self.i >= self.n:
                return
            line = self._line()
            if self.text.startswith("[[", self.i):
                self.i += 2
                parts = self._key()
                self._expect("]]")
                table = self._header(parts, line, array=True)
            elif self.text[self.i] == "[":
                self.i += 1
                parts = self._key()
                self._expect("]")
                table = self._header(parts, line, array=False)
            else:
                self._keyval(table)

    def _header(self, parts: tuple[str, ...], line: int, *, array: bool) -> Key:
        key: Key = ()
        for j, part in enumerate(parts):
            key += (part,)
            last = j == len(parts) - 1
            if last and array:
                self.lines.setdefault(key, line)
                index = self.arrays.get(key, -1) + 1
                self.arrays[key] = index
                key += (index,)
            elif key in self.arrays:
                key += (self.arrays[key],)
            if not last:
                self.lines.setdefault(key, line)
        self.lines[key] = line
        return key

    def _key(self) -> tuple[str, ...]:
        t = self.text
        parts: list[str] = []
        while True:
            self._skip()
            start = self.i
            if t[start] == '"':
                self._basic()
                parts.append(tomllib.loads("k = " + t[start : self.i])["k"])
            elif t[start] == "'":
                self._literal()
                parts.append(t[start + 1 : self.i - 1])
            else:
                m = _BARE_KEY.match(t, start)
                if not m:
                    raise _Stop
                parts.append(m.group())
                self.i = m.end()
            self._skip()
            if self.i < self.n and t[self.i] == ".":
                self.i += 1
                continue
            return tuple(parts)

    def _keyval(self, table: Key) -> None:
        line = self._line()
        parts = self._key()
        key = table
        for part in parts[:-1]:
            key += (part,)
            self.lines.setdefault(key, line)
        key += (parts[-1],)
        if key in self.assigned:
            self.duplicates.append((key, self.assigned[key], line))
        else:
            self.assigned[key] = line
        self.lines.setdefault(key, line)
        self._expect("=")
        self._skip()
        self._value(key)

    def _value(self, key: Key) -> None:
        t = self.text
        c = t[self.i]
        if t.startswith('"""', self.i):
            self._multiline('"""')
        elif t.startswith("'''", self.i):
            self._multiline("'''")
        elif c == '"':
            self._basic()
        elif c == "'":
            self._literal()
        elif c in "[{":
            close = "]" if c == "[" else "}"
            self._open.append(self._line())
            self.i += 1
            index = 0
            while True:
                self._skip(newlines=True)
                if t[self.i] == close:
                    self.i += 1
                    break
                if c == "[":
                    self.lines.setdefault(key + (index,), self._line())
                    self._value(key + (index,))
                else:
                    self._keyval(key)
                self._skip(newlines=True)
                if t[self.i] == ",":
                    self.i += 1
                    index += 1
                elif t[self.i] != close:
                    raise _Stop
            self._open.pop()
        else:
            m = _SCALAR.match(t, self.i)
            if not m:
                raise _Stop
            self.i = m.end()

    def _basic(self) -> None:
        t = self.text
        self.i += 1
        while t[self.i] != '"':
            if t[self.i] == "\n":
                raise _Stop
            self.i += 2 if t[self.i] == "\\" else 1
        self.i += 1

    def _literal(self) -> None:
        end = self.text.find("'", self.i + 1)
        if end < 0 or "\n" in self.text[self.i : end]:
            raise _Stop
        self.i = end + 1

    def _multiline(self, quote: str) -> None:
        t = self.text
        self.i += 3
        while not t.startswith(quote, self.i):
            self.i += 2 if quote == '"""' and t[self.i] == "\\" else 1
            if self.i >= self.n:
                raise _Stop
        self.i += 3
        for _ in range(2):  # up to two quotes right before the closing ones
            if self.i < self.n and t[self.i] == quote[0]:
                self.i += 1
