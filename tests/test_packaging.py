"""The package ships what a plain (non-editable) install needs."""

import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def declared_packages() -> set[str]:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())
    return set(data["tool"]["setuptools"]["packages"])


def test_every_subpackage_is_declared():
    found = {".".join(p.parent.relative_to(ROOT).parts)
             for p in (ROOT / "villaged").rglob("__init__.py")}
    assert found <= declared_packages()


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> zipfile.ZipFile:
    out = tmp_path_factory.mktemp("wheel")
    # build from a copy: an in-tree build would leave build/ in the checkout
    source = tmp_path_factory.mktemp("source") / "villaged"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(
        ".venv", ".git", "build", "*.egg-info", "__pycache__", ".pytest_cache", ".hypothesis"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps",
                    "-q", "-w", str(out), str(source)], check=True, capture_output=True)
    [path] = out.glob("villaged-*.whl")
    return zipfile.ZipFile(path)


def test_wheel_carries_templates_example_config_and_demo_village(wheel):
    names = set(wheel.namelist())
    assert "villaged/example/village.example.toml" in names
    assert "villaged/example/example/village.toml" in names
    assert "villaged/example/example/mail/takeout.mbox" in names
    assert "villaged/example/example/cal/calendar.ics" in names
    assert any(n.startswith("villaged/example/example/Maildir/.Sent/cur/") for n in names)
    assert any(n.startswith("villaged/compose/templates/checkin/casual/") for n in names)
