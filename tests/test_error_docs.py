"""Every fix villaged prints that points at documentation points at something that exists.

A fix names a README section as ``README § <heading>`` (the heading's text
exactly, up to a closing parenthesis, a comma or a semicolon) or a file as
``docs/<name>``. Every string literal in villaged/ is collected with ast, so a
new message is checked the day it is written.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "villaged"
SECTION = re.compile(r"README § (.+?)\s*(?:\)|,|;|$)", re.MULTILINE)
DOC_FILE = re.compile(r"\bdocs/[\w./-]+")


def literals() -> list[tuple[Path, int, str]]:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                found.append((path, node.lineno, node.value))
    return found


def readme_headings() -> set[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    headings = set()
    fenced = False
    for line in text.splitlines():
        if line.startswith("```"):
            fenced = not fenced
        elif not fenced and line.startswith("#"):
            headings.add(line.lstrip("#").strip())
    return headings


def references() -> list[tuple[str, str, str]]:
    refs = []
    for path, line, text in literals():
        where = f"{path.relative_to(ROOT)}:{line}"
        refs += [(where, "section", m.group(1)) for m in SECTION.finditer(text)]
        refs += [(where, "file", m.group(0).rstrip(".")) for m in DOC_FILE.finditer(text)]
    return refs


def test_fix_texts_point_at_documentation() -> None:
    refs = references()
    # the Google backend's messages point the owner at its set-up sections
    assert sum(1 for _, kind, _ in refs if kind == "section") >= 8, refs


def test_every_referenced_readme_section_exists() -> None:
    headings = readme_headings()
    missing = [(where, name) for where, kind, name in references()
               if kind == "section" and name not in headings]
    assert not missing, f"fix texts name README sections that do not exist: {missing}"


def test_every_referenced_doc_file_exists() -> None:
    missing = [(where, name) for where, kind, name in references()
               if kind == "file" and not (ROOT / name).exists()]
    assert not missing, f"fix texts name files that do not exist: {missing}"
