"""Adding people to the config file without an editor, keeping its comments and layout.

tomlkit round-trips the file; the result is validated with the ordinary loader
before it replaces the original (atomically, with the original's permissions),
so a bad edit never reaches the disk.
"""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import tomlkit
from tomlkit.items import AoT

from villaged.config.files import load_village, parse_village
from villaged.domain.addresses import normalize
from villaged.domain.errors import VillagedError
from villaged.domain.village import Role


@dataclass(frozen=True)
class NewPerson:
    name: str
    emails: tuple[str, ...]
    role: Role
    interests: tuple[str, ...] = ()
    notes: str = ""
    extra: dict[str, object] = field(default_factory=dict)  # e.g. prospect = true, why = "..."


def add_people(path: Path, people: Sequence[NewPerson]) -> None:
    """Append a [[person]] block per new person; refuse an address already in the village."""
    village = load_village(path)
    taken = {normalize(e): p.name for p in village.people for e in p.emails}
    for new in people:
        for email in new.emails:
            if normalize(email) in taken:
                raise VillagedError(f"{email} is already in the village ({taken[normalize(email)]})",
                                    fix=f"see `villaged show {email}`; nothing was written")
            taken[normalize(email)] = new.name
    text = path.read_text(encoding="utf-8")
    # New blocks go at the end as text, so every byte of the original stays as it was;
    # [[person]] may follow any table in TOML.
    added = tomlkit.document()
    blocks = tomlkit.aot()
    for new in people:
        blocks.append(_block(new))
    added.append("person", blocks)
    result = text.rstrip("\n") + "\n\n" + tomlkit.dumps(added).replace("\n[[person]]", "\n\n[[person]]")
    parse_village(result, path)  # the same checks as every load: a bad edit fails here
    _replace(path, result)


def join_village(path: Path, key: str) -> None:
    """Turn a prospect into a member: drop ``prospect = true`` from their [[person]] block."""
    village = load_village(path)
    index = next((n for n, p in enumerate(village.people) if p.key == key), None)
    if index is None or not village.people[index].prospect:
        raise VillagedError(f"{key} is not a prospect", fix="see `villaged status`")
    doc = tomlkit.parse(path.read_text(encoding="utf-8"))
    blocks = doc["person"]
    assert isinstance(blocks, AoT)
    del blocks[index]["prospect"]
    result = tomlkit.dumps(doc)
    parse_village(result, path)
    _replace(path, result)


def _block(new: NewPerson) -> tomlkit.items.Table:
    table = tomlkit.table()
    table.add("name", new.name)
    table.add("emails", list(new.emails))
    table.add("role", new.role.label)
    if new.interests:
        table.add("interests", list(new.interests))
    if new.notes:
        table.add("notes", new.notes)
    for key, value in new.extra.items():
        table.add(key, value)
    return table


def _replace(path: Path, text: str) -> None:
    """Write ``text`` over ``path`` atomically, keeping its permissions."""
    # the mode bit too: root may write anything, but a read-only config means "leave it"
    if not os.access(path, os.W_OK) or not path.stat().st_mode & stat.S_IWUSR:
        raise VillagedError(f"{path} is not writable",
                            fix=f"make it writable (chmod u+w {path}); nothing was written")
    try:
        mode = path.stat().st_mode & 0o777
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    except OSError as exc:
        raise VillagedError(f"cannot write {path}: {exc.strerror or exc}",
                            fix=f"give your account write access to {path.parent}; "
                                "nothing was written") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise VillagedError(f"cannot write {path}: {exc.strerror or exc}",
                            fix="free some space or fix the permissions; nothing was written"
                            ) from None
