"""Schema evolution: the merged view's schema over data written at different times.

Rules (documented in the README): a new key adds a column; a missing key reads as
null; integers widen to wider integers and to float64; structs merge field by
field; lists merge their item type. Types with no common Arrow type (``str`` in
one batch, ``dict`` in another) make the column a text column in the merged
view — scalars as their ``str``, nested values as JSON — while the files keep
each value in its own type (in the column or its companion, see ``_layout``),
so nothing is lost.
"""

from __future__ import annotations

from collections.abc import Iterable

import pyarrow as pa
import pyarrow.compute as pc

from ._convert import to_text
from ._layout import restored_type, split_companion

__all__ = [
    "conform",
    "conform_column",
    "logical_schema",
    "merge_schemas",
    "needs_conform",
    "unify_types",
]


class _Conflict(Exception):
    """Two types with no common Arrow type."""


def unify_types(a: pa.DataType, b: pa.DataType) -> pa.DataType:
    """The common type of two column types; ``pa.string()`` when they conflict."""
    try:
        return _unify(a, b)
    except _Conflict:
        return pa.string()


def _canonical(t: pa.DataType) -> pa.DataType:
    if pa.types.is_dictionary(t):
        return _canonical(t.value_type)
    if pa.types.is_large_string(t) or pa.types.is_string_view(t):
        return pa.string()
    if pa.types.is_large_binary(t) or pa.types.is_binary_view(t):
        return pa.binary()
    if pa.types.is_large_list(t) or pa.types.is_list_view(t) or pa.types.is_large_list_view(t):
        return pa.list_(t.value_field)
    return t


def _unify(a: pa.DataType, b: pa.DataType) -> pa.DataType:
    a, b = _canonical(a), _canonical(b)
    if a == b:
        return a
    if pa.types.is_null(a):
        return b
    if pa.types.is_null(b):
        return a
    # int64 has 19 digits and the store's decimal(38, 18) holds 20 before the point.
    if pa.types.is_decimal(a) and pa.types.is_integer(b):
        return a
    if pa.types.is_decimal(b) and pa.types.is_integer(a):
        return b
    if _is_number(a) and _is_number(b):
        if pa.types.is_integer(a) and pa.types.is_integer(b):
            return pa.int64()
        return pa.float64()
    if pa.types.is_timestamp(a) and pa.types.is_timestamp(b):
        if a.tz != b.tz:
            raise _Conflict
        return pa.timestamp("ns" if "ns" in (a.unit, b.unit) else "us", a.tz)
    if pa.types.is_struct(a) and pa.types.is_struct(b):
        fields: dict[str, pa.DataType] = {f.name: f.type for f in a}
        for f in b:
            fields[f.name] = _unify(fields[f.name], f.type) if f.name in fields else f.type
        return pa.struct([pa.field(name, t) for name, t in fields.items()])
    if pa.types.is_list(a) and pa.types.is_list(b):
        return pa.list_(_unify(a.value_type, b.value_type))
    raise _Conflict


def _is_number(t: pa.DataType) -> bool:
    return bool(pa.types.is_integer(t) or pa.types.is_floating(t))


def merge_schemas(schemas: Iterable[pa.Schema]) -> pa.Schema:
    """Merge schemas column by column, keeping first-seen column order."""
    merged: dict[str, pa.DataType] = {}
    metadata: dict[str, dict[bytes, bytes] | None] = {}
    for schema in schemas:
        for field in schema:
            if field.name in merged:
                merged[field.name] = unify_types(merged[field.name], field.type)
            else:
                merged[field.name] = _canonical(field.type)
                metadata[field.name] = field.metadata
    return pa.schema([pa.field(n, t, metadata=metadata[n]) for n, t in merged.items()])


def logical_schema(physical: pa.Schema) -> pa.Schema:
    """The schema a reader sees: companion columns (``name~kind``) folded into their column."""
    merged: dict[str, pa.DataType] = {}
    for field in physical:
        base = split_companion(field.name)
        name = base[0] if base is not None else field.name
        type_ = restored_type(field)
        merged[name] = unify_types(merged[name], type_) if name in merged else type_
    return pa.schema([pa.field(n, _canonical(t)) for n, t in merged.items()])


def needs_conform(schema: pa.Schema, target: pa.Schema) -> bool:
    """Whether a segment must be converted in memory before it joins the merged view.

    Engines reading the files directly can widen numbers, fill missing columns and
    merge struct fields themselves; only companion columns and text-under-conflict
    columns need us.
    """
    for field in schema:
        if split_companion(field.name) is not None:
            return True
        if _marked(target.field(field.name).type) and field.type != target.field(field.name).type:
            return True  # stored as integers (time, duration): DuckDB cannot restore them
        want = target.field(field.name).type
        if pa.types.is_string(want) and not _is_text(field.type):
            return True
    return False


def _marked(t: pa.DataType) -> bool:
    """Whether a type, or one inside it, is stored as integers in Delta (time, duration)."""
    if pa.types.is_time(t) or pa.types.is_duration(t):
        return True
    if pa.types.is_struct(t):
        return any(_marked(f.type) for f in t)
    if pa.types.is_list(t):
        return _marked(t.value_type)
    return False


def _is_text(t: pa.DataType) -> bool:
    t = _canonical(t)
    return bool(pa.types.is_string(t) or pa.types.is_null(t))


def conform(table: pa.Table, target: pa.Schema) -> pa.Table:
    """Cast ``table`` to ``target``: add missing columns as nulls, widen, text conflicts.

    Companion columns of ``table`` are folded into their column (each row has
    its value in exactly one of them).
    """
    companions: dict[str, list[str]] = {}
    for name in table.column_names:
        base = split_companion(name)
        if base is not None:
            companions.setdefault(base[0], []).append(name)
    columns = []
    for field in target:
        if field.name in companions:
            parts = [field.name] if field.name in table.column_names else []
            parts += companions[field.name]
            folded = [conform_column(table.column(p), field.type) for p in parts]
            columns.append(pc.coalesce(*folded) if len(folded) > 1 else folded[0])
            continue
        if field.name in table.column_names:
            columns.append(conform_column(table.column(field.name), field.type))
        else:
            columns.append(pa.nulls(table.num_rows, field.type))
    return pa.Table.from_arrays(columns, schema=target)


def conform_column(array: pa.ChunkedArray | pa.Array, want: pa.DataType) -> pa.ChunkedArray:
    """Cast one column to ``want`` under the merge rules."""
    chunks = array.chunks if isinstance(array, pa.ChunkedArray) else [array]
    return pa.chunked_array([_conform_chunk(c, want) for c in chunks], type=want)


def _conform_chunk(chunk: pa.Array, want: pa.DataType) -> pa.Array:
    have = chunk.type
    if have == want:
        return chunk
    if pa.types.is_dictionary(have):
        return _conform_chunk(chunk.dictionary_decode(), want)
    if pa.types.is_null(have):
        return pa.nulls(len(chunk), want)
    if pa.types.is_string(want) and not _is_text(have):
        return pa.array([to_text(v) for v in chunk.to_pylist()], type=pa.string())
    if pa.types.is_struct(want) and pa.types.is_struct(have):
        children = []
        for field in want:
            idx = have.get_field_index(field.name)
            if idx < 0:
                children.append(pa.nulls(len(chunk), field.type))
            else:
                children.append(_conform_chunk(chunk.field(idx), field.type))
        return pa.StructArray.from_arrays(
            children, fields=list(want), mask=pc.is_null(chunk) if chunk.null_count else None
        )
    if pa.types.is_list(want) and (pa.types.is_list(have) or pa.types.is_large_list(have)):
        # .values and .offsets both ignore a slice's start, so they stay consistent.
        values = _conform_chunk(chunk.values, want.value_type)
        offsets = chunk.offsets.cast(pa.int32())
        mask = pc.is_null(chunk) if chunk.null_count else None
        return pa.ListArray.from_arrays(offsets, values, type=want, mask=mask)
    return chunk.cast(want)
