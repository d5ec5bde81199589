"""Keep windows light: long cells are shortened in the kernel and fetched whole on demand.

A window travels on every scroll and every tick, so a one-megabyte prompt
would make each of them heavy although a cell shows a hundred characters. Text
longer than :data:`MAX_CHARS`, binary longer than :data:`MAX_BYTES` and, inside
nested values at any depth, such text and binary and lists longer than
:data:`MAX_ITEMS` are cut before a window is encoded. The window's schema
metadata lists the cut cells under :data:`TRUNCATED_KEY` as JSON
``{column: {row index in the window: full size}}`` (characters for text, bytes
for binary, ``null`` for nested values); the browser asks for one whole cell
with a ``cell`` request (see ``protocol/``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from ..store import is_image_type

__all__ = ["MAX_BYTES", "MAX_CHARS", "MAX_ITEMS", "TRUNCATED_KEY", "shorten"]

MAX_CHARS = 2000
"""Longest text sent inside a window, in characters."""
MAX_BYTES = 2000
"""Longest binary value sent inside a window, in bytes."""
MAX_ITEMS = 100
"""Most items of a list nested in a cell sent inside a window."""
TRUNCATED_KEY = b"weave_nb.truncated"
"""Schema metadata key of a window listing its shortened cells."""

Sizes = dict[str, int | None]
"""Full size of each shortened cell of one column, keyed by row index (as text, for JSON)."""


def shorten(table: pa.Table) -> pa.Table:
    """``table`` with long cells cut and listed under :data:`TRUNCATED_KEY` in its metadata.

    Image columns are left alone (their thumbnails are made elsewhere), and so
    is any column whose values take fewer than :data:`MAX_BYTES` bytes in all,
    which no cut could make lighter.
    """
    marks: dict[str, Sizes] = {}
    for index, field in enumerate(table.schema):
        column = table.column(index)
        if column.nbytes <= MAX_BYTES or is_image_type(field.type):
            continue
        shortener = _shortener(field.type)
        if shortener is None:
            continue
        result = shortener(column.combine_chunks())
        if result is not None:
            table = table.set_column(index, field, result[0])
            marks[field.name] = result[1]
    if not marks:
        return table
    metadata = {**(table.schema.metadata or {}), TRUNCATED_KEY: json.dumps(marks).encode()}
    return table.replace_schema_metadata(metadata)


_Shortener = Callable[[pa.Array], "tuple[pa.Array, Sizes] | None"]


def _shortener(type_: pa.DataType) -> _Shortener | None:
    if pa.types.is_string(type_) or pa.types.is_large_string(type_):
        return _shorten_text
    if pa.types.is_binary(type_) or pa.types.is_large_binary(type_):
        return _shorten_binary
    if pa.types.is_nested(type_):
        return _shorten_nested
    return None


def _cut(
    values: pa.Array, lengths: pa.Array, limit: int, slice_: Callable[[pa.Array], pa.Array]
) -> tuple[pa.Array, Sizes] | None:
    """Replace the values longer than ``limit`` by ``slice_`` of them."""
    long = pc.greater(lengths, limit)
    if not pc.any(long).as_py():
        return None
    rows = pc.indices_nonzero(long)
    sizes: Sizes = dict(
        zip(map(str, rows.to_pylist()), pc.take(lengths, rows).to_pylist(), strict=True)
    )
    return pc.if_else(long, slice_(values), values), sizes


def _shorten_text(values: pa.Array) -> tuple[pa.Array, Sizes] | None:
    return _cut(
        values,
        pc.utf8_length(values),
        MAX_CHARS,
        lambda v: pc.utf8_slice_codeunits(v, 0, MAX_CHARS),
    )


def _shorten_binary(values: pa.Array) -> tuple[pa.Array, Sizes] | None:
    return _cut(
        values, pc.binary_length(values), MAX_BYTES, lambda v: pc.binary_slice(v, 0, MAX_BYTES)
    )


def _shorten_nested(values: pa.Array) -> tuple[pa.Array, Sizes] | None:
    cells = values.to_pylist()
    sizes: Sizes = {}
    for row, cell in enumerate(cells):
        short, cut = _shorten_value(cell)
        if cut:
            cells[row] = short
            sizes[str(row)] = None
    if not sizes:
        return None
    return pa.array(cells, type=values.type), sizes


def _shorten_value(value: Any) -> tuple[Any, bool]:
    """``value`` (a cell as Python objects) with long text, bytes and lists cut."""
    if isinstance(value, str):
        return (value[:MAX_CHARS], True) if len(value) > MAX_CHARS else (value, False)
    if isinstance(value, bytes):
        return (value[:MAX_BYTES], True) if len(value) > MAX_BYTES else (value, False)
    if isinstance(value, dict):
        items = {key: _shorten_value(item) for key, item in value.items()}
        return {key: item[0] for key, item in items.items()}, any(i[1] for i in items.values())
    if isinstance(value, (list, tuple)):  # lists; map entries are (key, value) tuples
        kept = value[:MAX_ITEMS] if isinstance(value, list) else value
        parts = [_shorten_value(item) for item in kept]
        short = [p[0] for p in parts]
        cut = len(kept) < len(value) or any(p[1] for p in parts)
        return (short if isinstance(value, list) else tuple(short)), cut
    return value, False
