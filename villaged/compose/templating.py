"""Jinja2 templates: the shipped defaults, overridable from the config directory.

A file at ``<config dir>/templates/<name>`` replaces the shipped template of
the same name; extra files in a variant folder add phrasings. HTML templates
are autoescaped; plain-text ones are not (they are never rendered as HTML).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2

from villaged.domain.errors import VillagedError


def environment(config_dir: Path | None) -> jinja2.Environment:
    loaders: list[jinja2.BaseLoader] = []
    if config_dir is not None and (config_dir / "templates").is_dir():
        loaders.append(jinja2.FileSystemLoader(config_dir / "templates"))
    loaders.append(jinja2.PackageLoader("villaged.compose", "templates"))
    return jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html", "html.j2"),
                                            default_for_string=False, default=False),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
    )


def variants(env: jinja2.Environment, folder: str) -> list[str]:
    """Template names in ``folder`` (shipped and the owner's), sorted."""
    prefix = folder.rstrip("/") + "/"
    return sorted(n for n in env.list_templates() if n.startswith(prefix) and n.endswith(".j2"))


def render(env: jinja2.Environment, name: str, context: dict[str, Any]) -> str:
    try:
        return env.get_template(name).render(**context)
    except jinja2.TemplateError as exc:
        raise VillagedError(
            f"template {name} cannot be rendered: {exc}",
            fix="check your override in the config directory's templates/ folder "
                "(variables are listed in the README)") from exc


def split_subject(rendered: str) -> tuple[str, str]:
    """A rendered message template is "Subject: ..." then a blank line, then the body."""
    head, _, body = rendered.partition("\n")
    if not head.lower().startswith("subject:"):
        return "", rendered.strip() + "\n"
    return head.split(":", 1)[1].strip(), body.strip() + "\n"
