"""Typed cursors: one codec, and anything it cannot read is a full rescan, not a crash."""

from __future__ import annotations

from dataclasses import dataclass

from villaged.ports.cursor import Cursor, decode, encode, storable, stored_cursor


@dataclass(frozen=True)
class Sample(Cursor):
    KIND = "sample"
    VERSION = 3

    token: str
    offset: int
    keys: tuple[tuple[str, str], ...]
    folders: dict[str, tuple[str, ...]]
    note: str | None = None


SAMPLE = Sample(token="t1", offset=42, keys=(("u1", "ada"),), folders={"": ("a", "b")})


def test_a_cursor_round_trips_through_json_as_its_own_frozen_type():
    stored = encode(SAMPLE)
    assert stored == {"kind": "sample", "version": 3, "token": "t1", "offset": 42,
                      "keys": [["u1", "ada"]], "folders": {"": ["a", "b"]}, "note": None}
    assert decode(Sample, stored) == SAMPLE


def test_a_cursor_stored_before_cursors_were_typed_is_read():
    legacy = {k: v for k, v in encode(SAMPLE).items() if k != "kind"}
    del legacy["note"]  # a field with a default may be missing
    assert decode(Sample, legacy) == SAMPLE


def test_another_version_kind_or_shape_decodes_to_none():
    good = encode(SAMPLE)
    for bad in ({**good, "version": 2}, {**good, "version": "3"}, {**good, "kind": "mbox"},
                {**good, "offset": "42"}, {**good, "offset": True}, {**good, "keys": [["u1"]]},
                {**good, "folders": {"": [1]}}, {k: v for k, v in good.items() if k != "token"},
                None, {}):
        assert decode(Sample, bad) is None, bad


def test_the_driver_gives_a_typed_source_its_type_and_an_untyped_one_the_json():
    class Typed:
        cursor_type = Sample

    class Untyped:
        pass

    assert stored_cursor(Typed(), encode(SAMPLE)) == SAMPLE
    assert stored_cursor(Untyped(), {"version": 1, "x": 2}) == {"version": 1, "x": 2}
    assert storable(SAMPLE) == encode(SAMPLE)
    assert storable({"version": 1}) == {"version": 1} and storable(None) is None
