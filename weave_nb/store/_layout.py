"""The on-disk layout of a StreamTable, in one place.

A table NAME under ROOT is two Delta Lake tables::

    ROOT/NAME/rows/          logged rows: _id, _timestamp, _client_id, then the data columns
    ROOT/NAME/annotations/   feedback and data added later: _target_id, _timestamp,
                             _client_id, _fields (the field names set), then the fields

Each is a standard Delta table (Parquet data files plus ``_delta_log/``), so any
Delta reader sees exactly the committed rows. A flush is one append commit;
compaction is one commit that adds the merged file and removes its sources.

Data files are named ``<first_ts_us:016d>-<client_id>-<first_seq:08d>-<last_seq:08d>.parquet``
(the log time of the file's first row, the writer, the writer's flush
sequence), so the name order is the log order; files committed by other tools
sort by their first ``_timestamp``.

A column keeps the Delta type of its first committed values. A later value
that widens losslessly into it is cast (int into a float column, a struct with
fewer fields). Any other type is stored in a *companion* column
``<name>~<kind>`` (``score~float``, ``label~struct``) holding that type, so every
value keeps its own type in the files; the merged view folds companions into
one column under the schema-evolution rule (numbers widen, conflicts as text).

Arrow types Delta has no counterpart for are stored as another type and marked
``weave_nb.type`` in the Delta field's metadata (``TYPE_KEY``): times of day and
durations as int64 microseconds; ``restored_type`` reads the mark back.
"""

from __future__ import annotations

import re
from typing import Final

import pyarrow as pa

__all__ = [
    "ANNOTATIONS",
    "ANNOTATIONS_BASE",
    "ANNOTATION_META",
    "COMPANION_SEP",
    "FORMAT_DESCRIPTION",
    "LEGACY_MARKER",
    "ROWS",
    "ROWS_BASE",
    "TIMESTAMP_TYPE",
    "TYPE_KEY",
    "companion_name",
    "data_file_name",
    "parse_data_file_name",
    "restored_type",
    "split_companion",
]

ROWS: Final = "rows"
ANNOTATIONS: Final = "annotations"
FORMAT_DESCRIPTION: Final = "weave_nb StreamTable (format 2)"
"""Description of both Delta tables; marks them as written by weave_nb."""

LEGACY_MARKER: Final = "_table.json"
"""Marker file of the pre-release segment layout (format 1), which is not read."""

TIMESTAMP_TYPE: Final = pa.timestamp("us", tz="UTC")
"""``_timestamp`` and every other timestamp: microseconds, UTC (Delta's ``timestamp``)."""

ROWS_BASE: Final = pa.schema([("_timestamp", TIMESTAMP_TYPE), ("_client_id", pa.string())])
"""Columns the rows table is created with (``_id`` and the data columns come with the rows)."""

ANNOTATIONS_BASE: Final = pa.schema(
    [
        ("_timestamp", TIMESTAMP_TYPE),
        ("_client_id", pa.string()),
        ("_fields", pa.list_(pa.string())),
    ]
)
"""Columns the annotations table is created with."""

ANNOTATION_META: Final = ("_target_id", "_timestamp", "_client_id", "_fields")
"""Columns of the annotations table that describe an annotation rather than set a field."""

COMPANION_SEP: Final = "~"

TYPE_KEY: Final = b"weave_nb.type"
"""Field metadata naming the Arrow type a Delta column stands for (``time``, ``duration``)."""
_MARKED = {b"time": pa.time64("us"), b"duration": pa.duration("us")}

_FILE = re.compile(r"^(\d{16})-([0-9a-z]+)-(\d{8})-(\d{8})\.parquet$")


def data_file_name(first_ts_us: int, client_id: str, first_seq: int, last_seq: int) -> str:
    """The name of a data file holding a writer's flushes ``first_seq..last_seq``."""
    return f"{first_ts_us:016d}-{client_id}-{first_seq:08d}-{last_seq:08d}.parquet"


def parse_data_file_name(name: str) -> tuple[int, str, int, int] | None:
    """``(first_ts_us, client_id, first_seq, last_seq)`` of a weave_nb data file, else None."""
    match = _FILE.match(name.rsplit("/", 1)[-1])
    if match is None:
        return None
    ts, client, first, last = match.groups()
    return int(ts), client, int(first), int(last)


def companion_name(column: str, type_: pa.DataType) -> str:
    """The companion column holding ``column``'s values of type ``type_``."""
    return f"{column}{COMPANION_SEP}{_kind(type_)}"


def split_companion(name: str) -> tuple[str, str] | None:
    """``(column, kind)`` if ``name`` is a companion column, else None."""
    column, sep, kind = name.rpartition(COMPANION_SEP)
    if not sep or not column or kind not in _KINDS:
        return None
    return column, kind


_KINDS = frozenset(
    {"int", "float", "bool", "str", "bytes", "struct", "list", "timestamp", "date", "decimal"}
)


def _kind(type_: pa.DataType) -> str:
    if pa.types.is_integer(type_):
        return "int"
    if pa.types.is_floating(type_):
        return "float"
    if pa.types.is_boolean(type_):
        return "bool"
    if pa.types.is_string(type_) or pa.types.is_large_string(type_):
        return "str"
    if pa.types.is_binary(type_) or pa.types.is_large_binary(type_):
        return "bytes"
    if pa.types.is_struct(type_):
        return "struct"
    if pa.types.is_list(type_) or pa.types.is_large_list(type_):
        return "list"
    if pa.types.is_timestamp(type_):
        return "timestamp"
    if pa.types.is_date(type_):
        return "date"
    if pa.types.is_decimal(type_):
        return "decimal"
    return "str"


def restored_type(field: pa.Field) -> pa.DataType:
    """The type a stored field stands for (undoing the marked mappings, at any depth)."""
    t = field.type
    marker = (field.metadata or {}).get(TYPE_KEY)
    if marker is not None:
        return _unmark(marker, t)
    if pa.types.is_struct(t):
        return pa.struct([f.with_type(restored_type(f)) for f in t])
    if pa.types.is_list(t):
        return pa.list_(t.value_field.with_type(restored_type(t.value_field)))
    return t


def _unmark(marker: bytes, stored: pa.DataType) -> pa.DataType:
    """The type a marker names: ``time``, ``duration``, or ``list:<marker>`` (Delta keeps no
    metadata on list elements, so a list of them is marked on the list field)."""
    if marker.startswith(b"list:") and pa.types.is_list(stored):
        return pa.list_(_unmark(marker[5:], stored.value_type))
    return _MARKED.get(marker, stored)
