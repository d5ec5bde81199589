"""Arrow out: a batch of one column as an Arrow array, in the flusher thread.

``column_to_arrow`` runs on a whole batch of one column and never fails on a
value ``normalize_row`` accepted: a column whose values have no common Arrow
type is stored as text (scalars as ``str``, nested values as JSON) — the
documented conflict rule, whose text form is ``to_text``. A lone surrogate in
a string or a key is written as its ``\\udXXX`` escape.
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import json
import math
from collections.abc import Mapping
from operator import itemgetter
from typing import Any, TypeVar

import numpy as np
import pyarrow as pa

from .._accel import SPEEDUPS
from ._image import IMAGE_TYPE, Image
from ._normalize import DECIMAL_TYPE, PLAIN_TYPES

__all__ = [
    "column_to_arrow",
    "escape_surrogates",
    "int64s",
    "rows_to_arrays",
    "rows_to_columns",
    "struct_column",
    "to_text",
    "values_to_columns",
]


def column_to_arrow(values: list[Any], images: bool = True) -> pa.Array:
    """One column of a batch as an Arrow array; text under the conflict rule.

    ``images=False`` promises no :class:`Image` is in ``values`` (skips the walk).
    Never raises for values ``normalize_row`` accepted, nor for plain values.
    """
    plain = _plain_to_arrow(values)
    if plain is not None:
        return plain
    try:
        return _column_to_arrow(values, images)
    except UnicodeEncodeError:
        # A lone surrogate (json.loads('"\\ud83d"') makes one) has no UTF-8 form;
        # plain str rows skip normalize_row, so it is escaped here, in the flusher.
        return _column_to_arrow(escape_surrogates(values), images)


_PLAIN_ARROW_TYPES = {1: pa.int64(), 2: pa.float64(), 3: pa.bool_(), 4: pa.string(), 5: pa.binary()}
"""Arrow types of ``plain_array``'s kinds: the ones ``pa.array`` infers for such lists."""


def _plain_to_arrow(values: list[Any]) -> pa.Array | None:
    """A list of one plain type (and ``None``) as an Arrow array, built in C; else ``None``."""
    if SPEEDUPS is None:
        return None
    built = SPEEDUPS.plain_array(values)
    return None if built is None else _from_buffers(built, len(values))


def _from_buffers(built: tuple[Any, ...], length: int) -> pa.Array:
    """The array of ``plain_array``'s ``(kind, null_count, validity, [offsets,] data)``."""
    kind, null_count, *buffers = built
    return pa.Array.from_buffers(
        _PLAIN_ARROW_TYPES[kind],
        length,
        [None if b is None else pa.py_buffer(b) for b in buffers],
        null_count=null_count,
    )


def rows_to_arrays(rows: list[dict[str, Any]]) -> dict[str, list[Any] | pa.Array]:
    """Rows → columns as :func:`rows_to_columns` makes them, but with each column of one
    plain type already an Arrow array (built in C, one pass over the rows, no lists)."""
    names = list(rows[0])
    built = SPEEDUPS.rows_to_buffers(rows, names) if SPEEDUPS is not None else None
    if built is None:
        return dict(rows_to_columns(rows))
    return _storable_names(_built_columns(names, built, len(rows)))


def values_to_columns(names: list[str], rows: list[tuple[Any, ...]]) -> dict[str, Any]:
    """Rows given as tuples of their values in the order of ``names``, as columns
    (``log()``'s C fast path keeps rows of a known shape so)."""
    built = SPEEDUPS.rows_to_buffers(rows, names) if SPEEDUPS is not None else None
    if built is None:
        return dict(rows_to_columns([dict(zip(names, row, strict=True)) for row in rows]))
    return _built_columns(names, built, len(rows))


def shape_rows_to_columns(
    names: list[str], items: list[Any]
) -> tuple[np.ndarray[Any, np.dtype[np.int64]], dict[str, Any]]:
    """Pending items ``(time_ns, kind, values)`` of one row shape: their times, and their
    values as columns (C only, as :func:`values_to_columns`)."""
    assert SPEEDUPS is not None
    built = SPEEDUPS.rows_to_buffers(items, names, True)
    if built is None:
        raise ValueError("items of another shape")
    stamps, columns = built
    return np.frombuffer(stamps, np.int64), _built_columns(names, columns, len(items))


def _built_columns(
    names: list[str], built: list[Any], length: int
) -> dict[str, list[Any] | pa.Array]:
    return {
        name: column if type(column) is list else _from_buffers(column, length)
        for name, column in zip(names, built, strict=True)
    }


def int64s(values: list[int] | pa.Array) -> np.ndarray[Any, np.dtype[np.int64]]:
    """Integers (no ``None``) as an int64 array."""
    if isinstance(values, pa.Array):
        return np.asarray(values.to_numpy(zero_copy_only=False), np.int64)
    built = SPEEDUPS.plain_array(values) if SPEEDUPS is not None else None
    if built is not None and built[0] == 1 and built[1] == 0:
        return np.frombuffer(built[-1], np.int64)
    return np.array(values, np.int64)


def _column_to_arrow(values: list[Any], images: bool) -> pa.Array:
    type_: pa.DataType | None = None
    if images and _has_objects(values):
        if all(v is None or isinstance(v, Image) for v in values):
            type_ = IMAGE_TYPE
        values = [_encode_images(v) for v in values]
    try:
        array = pa.array(values, type=type_)
        if type_ is None:
            array = _with_decimal_type(array)
    except UnicodeEncodeError:
        raise
    # Arrow's ArrowInvalid/ArrowTypeError are ValueError/TypeError; mixes such as a
    # datetime with NaN raise the plain ones from its Python converters.
    except (ValueError, TypeError, pa.ArrowNotImplementedError, OverflowError):
        return pa.array([to_text(v) for v in values], type=pa.string())
    if (
        _has_empty_struct(array.type)
        or (type_ is None and _holds_binary(array.type) and _has_str_in_binary(array.type, values))
        or (pa.types.is_temporal(array.type) and _has_numbers(values))
    ):
        # Parquet cannot hold a struct with no fields ({}), and Arrow silently turns
        # str mixed with bytes into bytes and numbers mixed with datetimes into
        # datetimes: keep such values as text (conflict rule).
        return pa.array([to_text(v) for v in values], type=pa.string())
    return array


def _has_numbers(values: list[Any]) -> bool:
    return any(type(v) is int or type(v) is float for v in values)


def _with_decimal_type(array: pa.Array) -> pa.Array:
    """``array`` with its decimals as ``DECIMAL_TYPE``.

    Arrow infers a precision per batch (up to ``decimal256``, which DuckDB cannot
    read), and files of one column would then disagree. The cast is safe: it
    raises rather than round or overflow (the caller then stores text).
    """
    fixed = _with_decimal(array.type)
    return array if fixed == array.type else array.cast(fixed)


def _with_decimal(type_: pa.DataType) -> pa.DataType:
    if pa.types.is_decimal(type_):
        return DECIMAL_TYPE
    if pa.types.is_struct(type_):
        return pa.struct([field.with_type(_with_decimal(field.type)) for field in type_])
    if pa.types.is_list(type_):
        return pa.list_(type_.value_field.with_type(_with_decimal(type_.value_type)))
    return type_


def escape_surrogates(value: Any) -> Any:
    """``value`` with each lone surrogate in its strings and keys written as ``\\udXXX``.

    The README's rule; Python's ``backslashreplace``, so ``"\\ud800"`` is stored as
    the six characters ``\\ud800`` and every other character is unchanged.
    """
    if isinstance(value, str):
        return value.encode("utf-8", "backslashreplace").decode("utf-8")
    if isinstance(value, dict):
        return {escape_surrogates(k): escape_surrogates(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [escape_surrogates(v) for v in value]
    return value


_Column = TypeVar("_Column", list[Any], "list[Any] | pa.Array")


def rows_to_columns(rows: list[dict[str, Any]]) -> dict[str, list[Any]]:
    """Rows → column lists, keys in first-seen order; missing keys become ``None``.

    Fast path (C loops only) when every row has exactly the first row's keys,
    which is what a producer logging one kind of row does.
    """
    first = list(rows[0])
    try:
        return _storable_names(dict(zip(first, _columns_of(rows, first), strict=True)))
    except KeyError:
        pass
    keys: dict[str, None] = {}
    for row in rows:
        keys.update(dict.fromkeys(row))
    return _storable_names({name: [row.get(name) for row in rows] for name in keys})


def _py_columns_of(rows: list[dict[str, Any]], names: list[str]) -> list[list[Any]]:
    """The values of ``names`` in each row, one list per name; ``KeyError`` unless every
    row has exactly these keys."""
    if sum(map(len, rows)) != len(names) * len(rows):
        raise KeyError("rows of other keys")
    return [list(map(itemgetter(name), rows)) for name in names]


_columns_of = _py_columns_of if SPEEDUPS is None else SPEEDUPS.columns_of


def _storable_names(columns: dict[str, _Column]) -> dict[str, _Column]:
    """Column names with lone surrogates escaped (a fast-path row may bring one)."""
    if all(map(str.isascii, columns)):  # one C loop per batch for the common case
        return columns
    out: dict[str, _Column] = {}
    for name, values in columns.items():
        name = escape_surrogates(name)
        if name in out:  # "k\ud800" next to a literal "k\\ud800": keep every value
            values = [
                b if a is None else a
                for a, b in zip(_listed(out[name]), _listed(values), strict=True)
            ]
        out[name] = values
    return out


def _listed(column: _Column) -> list[Any]:
    return column.to_pylist() if isinstance(column, pa.Array) else column


def struct_column(fields: Mapping[str, list[Any]], length: int) -> pa.Array:
    """A struct column from its fields' values (no images), built field by field.

    Faster than letting Arrow infer a struct from dicts, and a field whose
    values conflict becomes text alone (the conflict rule) while the others
    keep their types. ``length`` is the number of rows, needed when there is
    no field: such structs are stored as the text ``{}`` (Parquet cannot hold
    an empty struct).
    """
    if not fields:
        return pa.array([to_text({})] * length, type=pa.string())
    arrays = [column_to_arrow(values, images=False) for values in fields.values()]
    return pa.StructArray.from_arrays(arrays, names=list(fields))


def _has_objects(values: list[Any]) -> bool:
    return not PLAIN_TYPES.issuperset(map(type, values))


def _encode_images(value: Any) -> Any:
    if isinstance(value, Image):
        return value.to_cell()
    if isinstance(value, dict):
        return {k: _encode_images(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_encode_images(v) for v in value]
    return value


def _has_empty_struct(type_: pa.DataType) -> bool:
    if pa.types.is_struct(type_):
        return type_.num_fields == 0 or any(
            _has_empty_struct(type_.field(i).type) for i in range(type_.num_fields)
        )
    if pa.types.is_list(type_) or pa.types.is_large_list(type_):
        return _has_empty_struct(type_.value_type)
    return False


def _holds_binary(type_: pa.DataType) -> bool:
    if pa.types.is_binary(type_) or pa.types.is_large_binary(type_):
        return True
    if pa.types.is_struct(type_):
        return any(_holds_binary(type_.field(i).type) for i in range(type_.num_fields))
    if pa.types.is_list(type_) or pa.types.is_large_list(type_):
        return _holds_binary(type_.value_type)
    return False


def _has_str_in_binary(type_: pa.DataType, values: list[Any]) -> bool:
    """Whether a ``str`` sits where Arrow inferred bytes (it would come back as bytes)."""
    if pa.types.is_binary(type_) or pa.types.is_large_binary(type_):
        return any(type(v) is str for v in values)
    if pa.types.is_struct(type_):
        dicts = [v for v in values if isinstance(v, dict)]
        return any(
            _has_str_in_binary(field.type, [d.get(field.name) for d in dicts]) for field in type_
        )
    if pa.types.is_list(type_) or pa.types.is_large_list(type_):
        items = [item for v in values if isinstance(v, list | tuple) for item in v]
        return _has_str_in_binary(type_.value_type, items)
    return False


def to_text(value: Any) -> str | None:
    """Text form of a value under the conflict rule: ``str`` for scalars, JSON for the rest."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, dict | list | tuple | bytes):
        return json.dumps(_jsonable(value), ensure_ascii=False, sort_keys=False)
    if isinstance(value, float) and not math.isfinite(value):
        return repr(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    return str(value)


def _jsonable(value: Any) -> Any:
    if isinstance(value, Image):
        value = value.to_cell()
    if isinstance(value, dict):
        if value.keys() == _IMAGE_KEYS:
            return {
                "png_base64": base64.b64encode(value["png"]).decode("ascii"),
                "width": value["width"],
                "height": value["height"],
            }
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, bytes):
        return {"base64": base64.b64encode(value).decode("ascii")}
    if isinstance(value, float) and not math.isfinite(value):
        return repr(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, decimal.Decimal):
        exact = float(value)  # a JSON number when float64 holds it, else its digits
        return exact if decimal.Decimal(exact) == value else str(value)
    return value


_IMAGE_KEYS = frozenset(IMAGE_TYPE.field(i).name for i in range(IMAGE_TYPE.num_fields))
