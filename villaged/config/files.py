"""The config file: where it lives, the starter text, reading and parsing it."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

from villaged.config.homes import HOMES
from villaged.config.village_table import read_village
from villaged.domain.errors import ConfigError
from villaged.domain.village import Village
from villaged.schema.source import Source
from villaged.schema.syntax_errors import syntax_error

CONFIG_ENV = "VILLAGED_CONFIG"
CONFIG_NAME = "village.toml"
EXAMPLE_NAME = "village.example.toml"


def default_config_path() -> Path:
    """``$VILLAGED_CONFIG``, else ``<user config dir>/villaged/village.toml``."""
    env = os.environ.get(CONFIG_ENV, "").strip()
    if env:
        return Path(env).expanduser()
    from platformdirs import user_config_path

    return user_config_path("villaged", appauthor=False) / CONFIG_NAME


def starter_text() -> str:
    """The commented starter config that ``villaged init`` writes.

    One copy only: ``config/village.example.toml``, installed as the
    ``villaged.example`` package data and read straight from a checkout.
    """
    from importlib.resources import files

    try:
        return (files("villaged.example") / EXAMPLE_NAME).read_text(encoding="utf-8")
    except (ModuleNotFoundError, FileNotFoundError, NotADirectoryError, TypeError):
        pass
    checkout = Path(__file__).resolve().parents[2]  # villaged/config/files.py → the checkout
    return (checkout / "config" / EXAMPLE_NAME).read_text(encoding="utf-8")


def load_village(path: Path) -> Village:
    """Read and validate the village config at ``path``."""
    path = Path(path).expanduser()
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(
            f"{path}: there is no village config here",
            fix="run `villaged init` to write a starter config",
        ) from None
    except IsADirectoryError:
        raise ConfigError(
            f"{path}: this is a directory, not a config file",
            fix=f"point at the file inside it, e.g. {path / CONFIG_NAME}",
        ) from None
    except OSError as exc:
        raise ConfigError(
            f"{path}: cannot read it ({exc.strerror or exc})",
            fix="check the file's permissions",
        ) from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ConfigError(
            f"{path}, line {line}: this is not UTF-8 text",
            fix="save the file with UTF-8 encoding",
        ) from None
    return parse_village(text, path)


def parse_village(text: str, path: Path) -> Village:
    """Validate config ``text``; ``path`` names it in errors and anchors relative paths."""
    path = Path(path).expanduser()
    src = Source(path, text, homes=HOMES)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise syntax_error(src, exc) from None
    return read_village(src, data)
