"""``TypedTable``: one config table with a reader for every kind of field."""

from __future__ import annotations

from villaged.schema.path_fields import PathFields
from villaged.schema.time_fields import TimeFields


class TypedTable(TimeFields, PathFields):
    """A ``Table`` that reads text, numbers, lists, times, days, paths and URLs.

    Each kind of field has its own module (scalar_fields, list_fields,
    time_fields, path_fields); sub-tables read with ``table()`` are
    ``TypedTable`` too.
    """
