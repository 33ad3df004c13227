"""TOML syntax errors: tomllib's message, reworded for a person, with a fix."""

from __future__ import annotations

import ast
import contextlib
import re
import tomllib

from villaged.domain.errors import ConfigError
from villaged.schema.positions import Key
from villaged.schema.source import Source
from villaged.schema.wording import toml_string


def syntax_error(src: Source, exc: tomllib.TOMLDecodeError) -> ConfigError:
    message = str(exc)
    m = re.search(r" \(at line (\d+), column (\d+)\)$", message)
    detail = message[: m.start()] if m else re.sub(r" \(at end of document\)$", "", message)
    line: int | None = int(m[1]) if m else None
    column: int | None = int(m[2]) if m else None
    shown = detail[:1].lower() + detail[1:]
    if detail == "Cannot overwrite a value" or detail.startswith("Unclosed"):
        # tomllib points past the real mistake here; the scanner finds it.
        positions = src.positions
        if detail == "Cannot overwrite a value" and positions.duplicates:
            key, first, line = positions.duplicates[0]
            shown, column = f"{_dotted(key)} is set twice (first on line {first})", None
        elif detail.startswith("Unclosed") and positions.unclosed:
            line, column = positions.unclosed, None
            shown = "this list is not closed"
            if "array" not in detail:
                shown = "this { ... } table is not closed"
    if detail.startswith("Unterminated string") or detail == "Illegal character '\\n'":
        shown = "this text has no closing quote"
    declared = re.fullmatch(r"Cannot declare \((.*)\) twice", detail)
    if declared:
        with contextlib.suppress(ValueError, SyntaxError, TypeError):
            shown = f"[{'.'.join(ast.literal_eval(f'({declared[1]})'))}] is declared twice"
    lines = src.text.splitlines()
    raw = lines[line - 1] if line and line <= len(lines) else ""
    where = str(src.path)
    if line:
        where += f", line {line}" + (f", column {column}" if column else "")
    else:
        where += ", at the end of the file"
    problem = f"not valid TOML: {shown}"
    if raw.strip():
        problem += f" in `{raw.strip()}`"
    return ConfigError(f"{where}: {problem}", fix=_syntax_fix(detail, raw))


def _syntax_fix(detail: str, raw: str) -> str:
    if detail == "Invalid value":
        m = re.match(r"\s*([\w\"'.-]+)\s*=\s*(.*?)\s*(?:#.*)?$", raw)
        if m and m[2] and m[2][0] not in "\"'[{+-.0123456789" and m[2] not in ("true", "false"):
            return f"put text in double quotes: {m[1]} = {toml_string(m[2])}"
        if m and m[2].startswith("["):
            return 'separate list items with commas and quote text items, e.g. ["a", "b"]'
        return (
            'write the value as "text", a number, true or false, a date (2026-09-01) '
            'or a list ["a", "b"]'
        )
    if detail.startswith("Unterminated string") or detail == "Illegal character '\\n'":
        return "close the text with the same quote mark it starts with, on the same line"
    if detail.startswith(("Unescaped '\\'", "Invalid hex value", "Escaped character")):
        return (
            'inside "..." a backslash starts an escape: write Windows paths in single '
            r"quotes ('C:\Users\dana') or with forward slashes"
        )
    if detail.startswith("Unclosed array"):
        return "close the list with ] and separate its items with commas"
    if detail.startswith("Unclosed inline table"):
        return "close the { ... } table with }, on the same line"
    if detail.startswith(("Cannot", "Duplicate")):
        return (
            "each key and [table] may appear only once: merge the two "
            "(every person gets their own [[person]] block)"
        )
    if detail.startswith("Expected '='"):
        return 'write key = value, with text in double quotes, e.g. role = "mentor"'
    if detail.startswith("Expected newline"):
        return (
            'put each key = value on its own line, text in double quotes ("Ada Lovelace"), '
            "and comments after #"
        )
    if detail.startswith(("Invalid statement", "Invalid initial character")):
        return "each line is a [table] header, a key = value pair, or a # comment"
    if detail.startswith("Expected ']"):
        return "close the table header with ] (or ]] for [[person]])"
    if detail.startswith("Invalid date"):
        return "write dates as YYYY-MM-DD, e.g. 2026-09-01"
    if detail.startswith(("Illegal character", "Found invalid character")):
        return "remove the stray character (control characters cannot appear in text)"
    return "fix the TOML syntax here (see https://toml.io)"


def _dotted(key: Key) -> str:
    """A position path as the user writes it.

    >>> _dotted(("person", 1, "emails"))
    'person[2].emails'
    """
    out = ""
    for part in key:
        out += f"[{part + 1}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out
