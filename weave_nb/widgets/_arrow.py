"""Rows as the browser receives them: Arrow IPC windows, column descriptions, thumbnails.

Image cells travel as thumbnails and long cells cut short (``_cells.py``); the
messages that carry the windows are declared in ``protocol/``.
"""

from __future__ import annotations

import hashlib
import io
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from PIL import Image as PILImage

from ..monitor.schema import EXCEPTION, INPUTS, LATENCY_MS, NAME, OUTPUT, STATUS, is_monitor_schema
from ..query import literal
from ..store import is_image_type
from .protocol import ColumnInfo, ColumnKind

__all__ = [
    "THUMBNAIL_PX",
    "ThumbnailCache",
    "column_kind",
    "describe_columns",
    "encode_ipc",
    "nested_images",
    "sql_value",
    "with_nested_images",
]

THUMBNAIL_PX = 96
"""Longest side of an image thumbnail sent inside a window."""

_LEADING = ("_id", "_timestamp")
_TRAILING = ("_client_id",)
_MONITOR_FIRST = (NAME, STATUS, LATENCY_MS, EXCEPTION, INPUTS, OUTPUT)
"""What tells a monitored call's story at a glance, in the order shown."""


def column_kind(type_: pa.DataType) -> ColumnKind:
    """How the browser formats a column of ``type_``.

    One of ``number``, ``time``, ``text``, ``bool``, ``image``, ``nested``,
    ``binary``, ``other``.
    """
    if pa.types.is_dictionary(type_):
        return column_kind(type_.value_type)
    if is_image_type(type_):
        return "image"
    if pa.types.is_integer(type_) or pa.types.is_floating(type_) or pa.types.is_decimal(type_):
        return "number"
    if pa.types.is_timestamp(type_) or pa.types.is_date(type_):
        return "time"
    if pa.types.is_string(type_) or pa.types.is_large_string(type_):
        return "text"
    if pa.types.is_boolean(type_):
        return "bool"
    if pa.types.is_nested(type_):
        return "nested"
    if pa.types.is_binary(type_) or pa.types.is_large_binary(type_):
        return "binary"
    if pa.types.is_fixed_size_binary(type_):
        return "binary"
    return "other"


def describe_columns(schema: pa.Schema) -> list[ColumnInfo]:
    """Columns in display order: ``_id``, ``_timestamp``, the data, ``_client_id``.

    The data keeps its schema order, except in a table written by
    ``@monitor``, where what tells a call's story at a glance (:data:`_MONITOR_FIRST`)
    comes first and the bookkeeping (times, trace links) after the payload; and
    image columns lead the data, since a picture tells a row's story fastest —
    with them, images inside a struct column (``inputs.image`` of a monitored
    call), shown as columns of their own (:func:`nested_images`). A monitor
    table's ``exception`` column has ``role: "error"``: the browser marks the rows
    where it is set as failed.
    """
    names = schema.names
    data = [n for n in names if n not in _LEADING and n not in _TRAILING]
    monitored = is_monitor_schema(schema)
    if monitored:
        first = [n for n in _MONITOR_FIRST if n in names]
        data = [*first, *(n for n in data if n not in first)]
    images = [n for n in data if is_image_type(schema.field(n).type)]
    data = [*images, *(n for n in data if n not in images)]
    order = [n for n in _LEADING if n in names] + data + [n for n in _TRAILING if n in names]
    nested = nested_images(schema)
    columns = [_info(n, schema.field(n).type) for n in order]
    if monitored and EXCEPTION in names:
        columns[order.index(EXCEPTION)]["role"] = "error"
    at = len([n for n in _LEADING if n in names]) + len(images)
    columns[at:at] = [
        _info(name, schema.field(parent).type.field(child).type)
        for name, (parent, child) in nested.items()
    ]
    return columns


def _info(name: str, type_: pa.DataType) -> ColumnInfo:
    return {"name": name, "kind": column_kind(type_), "type": str(type_)}


def nested_images(schema: pa.Schema) -> dict[str, tuple[str, str]]:
    """Images one level inside struct columns: ``{"parent.child": (parent, child)}``.

    A monitored call's image arguments sit in its ``inputs`` struct; shown as
    columns of their own, they get thumbnails like top-level images. Names
    already taken by a real column are left out.
    """
    found: dict[str, tuple[str, str]] = {}
    for field in schema:
        if not pa.types.is_struct(field.type) or is_image_type(field.type):
            continue
        for child in field.type:
            name = f"{field.name}.{child.name}"
            if is_image_type(child.type) and name not in schema.names:
                found[name] = (field.name, child.name)
    return found


def with_nested_images(table: pa.Table, nested: Mapping[str, tuple[str, str]]) -> pa.Table:
    """``table`` plus a column for each nested image whose struct it holds."""
    for name, (parent, child) in nested.items():
        if parent in table.column_names and name not in table.column_names:
            table = table.append_column(name, pc.struct_field(table.column(parent), child))
    return table


def encode_ipc(table: pa.Table) -> bytes:
    """``table`` as Arrow IPC stream bytes (one record batch)."""
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table.combine_chunks())
    data: bytes = sink.getvalue().to_pybytes()
    return data


def sql_value(value: Any) -> str:
    """A SQL literal for an ``_id`` value (``str`` or ``int``)."""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise TypeError(f"row ids are str or int, got {type(value).__name__}")
    return literal(value)


class ThumbnailCache:
    """Replaces the PNG of image cells with small thumbnails, remembering recent ones.

    Keyed by a digest of the PNG so an annotation that replaces an image never
    shows a stale thumbnail; the cache is bounded (least recently used first out).
    """

    def __init__(self, max_px: int = THUMBNAIL_PX, capacity: int = 2048) -> None:
        self._max_px = max_px
        self._capacity = capacity
        self._items: OrderedDict[bytes, bytes] = OrderedDict()

    def thumbnail(self, png: bytes) -> bytes:
        """PNG bytes of ``png`` shrunk to fit ``max_px`` (unchanged when already small)."""
        key = hashlib.blake2b(png, digest_size=16).digest()
        cached = self._items.get(key)
        if cached is not None:
            self._items.move_to_end(key)
            return cached
        with PILImage.open(io.BytesIO(png)) as image:
            if max(image.size) <= self._max_px:
                small = png
            else:
                image.thumbnail((self._max_px, self._max_px))
                out = io.BytesIO()
                image.save(out, format="PNG")
                small = out.getvalue()
        self._items[key] = small
        if len(self._items) > self._capacity:
            self._items.popitem(last=False)
        return small

    def apply(self, table: pa.Table) -> pa.Table:
        """``table`` with every image column's ``png`` replaced by its thumbnail.

        ``width`` and ``height`` keep the full image's size, which the browser
        shows and uses to ask for the full image.
        """
        for index, field in enumerate(table.schema):
            if not is_image_type(field.type):
                continue
            cells = table.column(index).to_pylist()
            small = [None if c is None else {**c, "png": self.thumbnail(c["png"])} for c in cells]
            table = table.set_column(index, field, pa.array(small, type=field.type))
        return table
