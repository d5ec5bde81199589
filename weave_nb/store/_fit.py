"""Fit a batch to the Delta table's schema before it is written.

A Delta column has one type for every file, so a batch is cast to the table's
types where that loses nothing (int into a float column, a struct with fewer
fields, null into anything); a column the batch brings anew, or struct fields
it adds, grow the schema (an evolution commit). A value type that does not fit
goes to its companion column (see ``_layout``) instead of being squeezed into
the wrong type. Arrow types Delta has no counterpart for are mapped first, by
the documented rule: times of day and durations as int64 microseconds (since
midnight), marked ``weave_nb.type`` in the Delta field's metadata so that
weave_nb reads them back as ``time``/``timedelta``; unsigned integers as int64
(uint64 as decimal(20, 0)); timestamps as microseconds (UTC when zoned); half
floats as float32.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from ._convert import to_text
from ._layout import COMPANION_SEP, TYPE_KEY, companion_name
from ._schema import conform_column

__all__ = ["fit_to_schema", "storable"]


def fit_to_schema(table: pa.Table, schema: pa.Schema) -> tuple[pa.Table, pa.Schema | None]:
    """``table`` with Delta-storable types matching ``schema``, and the fields to add/grow.

    The second value is ``None`` when ``schema`` already holds every column.
    """
    _check_names(table.schema)
    known = {f.name: f.type for f in schema}
    out: dict[str, pa.ChunkedArray] = {}
    additions: dict[str, pa.Field] = {}
    for name, column in zip(table.column_names, table.columns, strict=True):
        field = _storable_field(pa.field(name, column.type))
        column = storable(column)
        target = _place(name, column.type, known)
        want = known.get(target)
        if want is None or want != _grown(want, column.type):
            grown = column.type if want is None else _grown(want, column.type)
            known[target] = grown
            metadata = field.metadata if target == name else None
            additions[target] = pa.field(target, grown, metadata=metadata)
            want = grown
        if target.endswith(f"{COMPANION_SEP}str") and not _is_text(column.type):
            column = pa.chunked_array([[to_text(v) for v in column.to_pylist()]], pa.string())
        out[target] = column if column.type == want else conform_column(column, want)
    fitted = pa.table(out)
    changed = pa.schema(list(additions.values())) if additions else None
    return fitted, changed


def _check_names(schema: pa.Schema | pa.StructType) -> None:
    """Refuse field names Delta cannot hold (a NUL cuts the name short), at any depth."""
    for field in schema:
        if "\x00" in field.name:
            raise ValueError(f"field name {field.name!r} contains NUL ('\\x00')")
        t = field.type
        while pa.types.is_list(t) or pa.types.is_large_list(t):
            t = t.value_type
        if pa.types.is_struct(t):
            _check_names(t)


def _place(name: str, type_: pa.DataType, known: dict[str, pa.DataType]) -> str:
    """The column that holds values of ``type_`` logged under ``name``."""
    want = known.get(name)
    if want is None or _fits(type_, want):
        return name
    companion = companion_name(name, type_)
    have = known.get(companion)
    if have is None or _fits(type_, have):
        return companion
    return f"{name}{COMPANION_SEP}str"  # text holds anything (the conflict rule)


def _fits(have: pa.DataType, want: pa.DataType) -> bool:
    """Whether values of ``have`` can be stored in a column of ``want`` (maybe grown)."""
    if have == want or pa.types.is_null(have) or pa.types.is_null(want):
        return True  # a void column (only nulls so far) takes the first real type
    if pa.types.is_integer(have):
        return bool(pa.types.is_integer(want) or pa.types.is_floating(want))
    if pa.types.is_floating(have):
        return bool(pa.types.is_floating(want) and want.bit_width >= have.bit_width)
    if pa.types.is_timestamp(have) and pa.types.is_timestamp(want):
        return (have.tz is None) == (want.tz is None)
    if pa.types.is_decimal(have) and pa.types.is_decimal(want):
        return bool(
            have.scale <= want.scale and have.precision - have.scale <= want.precision - want.scale
        )
    if pa.types.is_struct(have) and pa.types.is_struct(want):
        return all(
            want.get_field_index(f.name) < 0 or _fits(f.type, want.field(f.name).type) for f in have
        )
    if pa.types.is_list(have) and pa.types.is_list(want):
        return _fits(have.value_type, want.value_type)
    return False


def _grown(want: pa.DataType, have: pa.DataType) -> pa.DataType:
    """``want`` with the struct fields ``have`` adds (``have`` fits ``want``)."""
    if pa.types.is_struct(want) and pa.types.is_struct(have):
        fields = [
            f.with_type(_grown(f.type, have.field(f.name).type))
            if have.get_field_index(f.name) >= 0
            else f
            for f in want
        ]
        # A new field with only nulls so far adds nothing (and Delta cannot merge it
        # next to typed fields): it appears with its first value.
        fields += [
            f for f in have if want.get_field_index(f.name) < 0 and not pa.types.is_null(f.type)
        ]
        return pa.struct(fields)
    if pa.types.is_list(want) and pa.types.is_list(have):
        return pa.list_(_grown(want.value_type, have.value_type))
    if pa.types.is_null(want):
        return have
    return want


def _is_text(type_: pa.DataType) -> bool:
    return bool(pa.types.is_string(type_) or pa.types.is_null(type_))


def _storable_field(field: pa.Field) -> pa.Field:
    """``field`` as stored: its storable type, marked where a type is mapped."""
    t = field.type
    if pa.types.is_time(t):
        return pa.field(field.name, pa.int64(), metadata={TYPE_KEY: b"time"})
    if pa.types.is_duration(t):
        return pa.field(field.name, pa.int64(), metadata={TYPE_KEY: b"duration"})
    if pa.types.is_struct(t):
        return pa.field(field.name, pa.struct([_storable_field(f) for f in t]))
    if pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t):
        item = _storable_field(t.value_field)
        marker = (item.metadata or {}).get(TYPE_KEY)
        metadata = {TYPE_KEY: b"list:" + marker} if marker is not None else None
        return pa.field(field.name, pa.list_(item.remove_metadata()), metadata=metadata)
    return pa.field(field.name, _storable_type(t))


def storable(column: pa.ChunkedArray | pa.Array) -> pa.ChunkedArray:
    """``column`` with every type Delta lacks mapped to one it has (module docstring)."""
    chunks = column.chunks if isinstance(column, pa.ChunkedArray) else [column]
    want = _storable_field(pa.field("", column.type)).type
    if want == column.type:
        return pa.chunked_array(chunks, column.type)
    return pa.chunked_array([_convert(c, want) for c in chunks], want)


def _storable_type(t: pa.DataType) -> pa.DataType:
    if pa.types.is_dictionary(t):
        return _storable_type(t.value_type)
    if pa.types.is_large_string(t) or pa.types.is_string_view(t):
        return pa.string()
    if pa.types.is_time(t):
        return pa.int64()
    if (
        pa.types.is_large_binary(t)
        or pa.types.is_binary_view(t)
        or pa.types.is_fixed_size_binary(t)
    ):
        return pa.binary()
    if pa.types.is_duration(t):
        return pa.int64()
    if pa.types.is_unsigned_integer(t):
        return pa.int64() if t.bit_width < 64 else pa.decimal128(20, 0)
    if pa.types.is_float16(t):
        return pa.float32()
    if pa.types.is_timestamp(t):
        return pa.timestamp("us", "UTC" if t.tz is not None else None)
    if pa.types.is_date64(t):
        return pa.date32()
    if pa.types.is_decimal(t) and t.precision > 38:
        return pa.string()
    if pa.types.is_struct(t):
        return pa.struct([pa.field(f.name, _storable_type(f.type)) for f in t])
    if (
        pa.types.is_large_list(t)
        or pa.types.is_fixed_size_list(t)
        or pa.types.is_list(t)
        or pa.types.is_list_view(t)
        or pa.types.is_large_list_view(t)
    ):
        return pa.list_(_storable_type(t.value_type))
    return t


def _convert(chunk: pa.Array, want: pa.DataType) -> pa.Array:
    have = chunk.type
    if have == want:
        return chunk
    if pa.types.is_dictionary(have):
        return _convert(chunk.dictionary_decode(), want)
    if pa.types.is_duration(have):
        return pc.cast(chunk, pa.duration("us"), safe=False).cast(pa.int64())
    if pa.types.is_time(have):
        return pc.cast(chunk, pa.time64("us"), safe=False).cast(pa.int64())
    if pa.types.is_timestamp(have):
        return pc.cast(chunk, pa.timestamp("us", have.tz), safe=False).cast(want)
    if pa.types.is_struct(want):
        children = [_convert(chunk.field(i), f.type) for i, f in enumerate(want)]
        want = pa.struct([f.with_type(c.type) for f, c in zip(want, children, strict=True)])
        mask = pc.is_null(chunk) if chunk.null_count else None
        return pa.StructArray.from_arrays(children, fields=list(want), mask=mask)
    if pa.types.is_list(want):
        if pa.types.is_fixed_size_list(have) or not hasattr(chunk, "offsets"):
            chunk = chunk.cast(pa.list_(have.value_type))
        values = _convert(chunk.values, want.value_type)
        mask = pc.is_null(chunk) if chunk.null_count else None
        return pa.ListArray.from_arrays(
            chunk.offsets.cast(pa.int32()), values, type=want, mask=mask
        )
    if (
        pa.types.is_string(want)
        and not pa.types.is_string(have)
        and not pa.types.is_large_string(have)
    ):
        return pa.array([to_text(v) for v in chunk.to_pylist()], type=pa.string())
    return chunk.cast(want)
