"""Values in, Arrow out: validate a row in the caller's thread, convert batches later.

``normalize_row`` runs inside ``log()``: it accepts plain scalars untouched (the
fast path) and turns everything else into plain Python values or :class:`Image`
objects, raising ``TypeError``/``ValueError`` that name the column and the type
for anything it cannot store. ``column_to_arrow`` runs in the flusher, on a
whole batch of one column, and never fails on a value ``normalize_row``
accepted: a column whose values have no common Arrow type is stored as text
(scalars as ``str``, nested values as JSON) — the documented conflict rule.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import decimal
import enum
import json
import math
import pathlib
import sys
import uuid
from collections.abc import Mapping
from operator import itemgetter
from typing import Any

import pyarrow as pa

from ._image import IMAGE_TYPE, Image

__all__ = [
    "PLAIN_TYPES",
    "RESERVED_OR_CHECKED",
    "ImageTally",
    "column_to_arrow",
    "normalize_row",
    "to_text",
    "validate_column_name",
]

PLAIN_TYPES = frozenset({int, float, str, bool, type(None), bytes})
_TEMPORAL = (dt.datetime, dt.date, dt.time, dt.timedelta)
_RESERVED = frozenset({"_client_id"})
_STR_ONLY = frozenset({str})
RESERVED_OR_CHECKED = ("", "_client_id", "_timestamp")
"""Keys the ``log()`` fast path must hand to ``normalize_row`` for checking."""


def validate_column_name(name: object) -> str:
    """Check a top-level key: a non-empty ``str`` not reserved for the store."""
    if type(name) is not str:
        raise TypeError(f"column names must be str, got {type(name).__name__} ({name!r})")
    if not name:
        raise ValueError("column names must not be empty")
    if name in _RESERVED:
        raise ValueError(f"column {name!r} is set by the store and cannot be logged")
    return name


def normalize_row(row: Mapping[str, Any]) -> dict[str, Any]:
    """Return a private copy of ``row`` holding only storable values.

    Raises ``TypeError``/``ValueError`` naming the column (``a.b[2]`` for nested
    paths) and the offending type. Runs in the caller's thread.
    """
    out: dict[str, Any] = {}
    for key, value in row.items():
        if type(key) is not str or not key or key in _RESERVED:
            validate_column_name(key)
        kind = type(value)
        if kind in PLAIN_TYPES or kind is dt.datetime:
            out[key] = value
        elif (
            kind is dict
            and _STR_ONLY.issuperset(map(type, value))
            and PLAIN_TYPES.issuperset(map(type, value.values()))
        ):
            out[key] = value.copy()  # the common nested case (e.g. call inputs), no recursion
        else:
            out[key] = _normalize(value, key)
    if "_timestamp" in out and not isinstance(out["_timestamp"], dt.datetime):
        raise TypeError(
            f"column '_timestamp': expected a datetime, got {type(out['_timestamp']).__name__}"
        )
    return out


def _normalize(value: Any, path: str) -> Any:
    kind = type(value)
    if kind in PLAIN_TYPES:
        return value
    if isinstance(value, Image):
        ImageTally.count += 1
        return value
    if isinstance(value, bool | int | float | str | bytes):  # subclasses: IntEnum, str-enum...
        if isinstance(value, enum.Enum):
            return _normalize(value.value, path)
        return _normalize(_builtin(value), path)
    if isinstance(value, _TEMPORAL):
        return _temporal(value)
    if isinstance(value, Mapping):
        nested: dict[str, Any] = {}
        for key, item in value.items():
            if type(key) is not str:
                raise TypeError(
                    f"column {path!r}: nested keys must be str, got {type(key).__name__} ({key!r})"
                )
            nested[key] = _normalize(item, f"{path}.{key}")
        return nested
    if isinstance(value, list | tuple):
        return [_normalize(item, f"{path}[{i}]") for i, item in enumerate(value)]
    if isinstance(value, set | frozenset):
        items = [_normalize(item, f"{path}[{i}]") for i, item in enumerate(value)]
        try:
            return sorted(items)
        except TypeError:
            return items
    if isinstance(value, bytearray | memoryview):
        return bytes(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _normalize({f.name: getattr(value, f.name) for f in dataclasses.fields(value)}, path)
    if isinstance(value, enum.Enum):
        return _normalize(value.value, path)
    if isinstance(value, uuid.UUID | pathlib.PurePath):
        return str(value)
    if isinstance(value, decimal.Decimal):
        return float(value)
    converted = _from_optional_libraries(value, path)
    if converted is not _UNSUPPORTED:
        return converted
    raise TypeError(
        f"column {path!r}: cannot store a value of type {kind.__module__}.{kind.__qualname__}; "
        "supported: None, bool, int, float, str, bytes, datetime/date/time/timedelta, dict, "
        "list/tuple/set, dataclasses, enums, numpy scalars and arrays, pandas timestamps, "
        "PIL images and weave_nb.Image"
    )


_UNSUPPORTED = object()


def _from_optional_libraries(value: Any, path: str) -> Any:
    """numpy, pandas and PIL values, checked only when those libraries are loaded."""
    np = sys.modules.get("numpy")
    if np is not None:
        if isinstance(value, np.ndarray):
            if value.dtype == object:
                return [_normalize(item, f"{path}[{i}]") for i, item in enumerate(value.tolist())]
            if value.dtype.kind in "US":
                return _normalize(value.tolist(), path)
            if value.dtype.kind in "biufcmM":
                return _normalize(value.tolist(), path)
            raise TypeError(f"column {path!r}: cannot store a numpy array of dtype {value.dtype}")
        if isinstance(value, np.generic):
            if isinstance(value, np.floating | np.integer | np.bool_ | np.str_ | np.bytes_):
                return _normalize(value.item(), path)
            if isinstance(value, np.datetime64 | np.timedelta64):
                item = value.item()
                if isinstance(item, int):  # nanosecond precision does not fit Python's types
                    unit = (
                        "datetime64[us]" if isinstance(value, np.datetime64) else "timedelta64[us]"
                    )
                    item = value.astype(unit).item()
                return _normalize(item, path)
    pd = sys.modules.get("pandas")
    if pd is not None and value is pd.NaT:
        return None
    pil = sys.modules.get("PIL.Image")
    if pil is not None and isinstance(value, pil.Image):
        ImageTally.count += 1
        try:
            return Image(value)
        except (TypeError, ValueError) as error:
            raise type(error)(f"column {path!r}: {error}") from None
    return _UNSUPPORTED


def _builtin(value: Any) -> Any:
    bases: tuple[type[Any], ...] = (bool, int, float, str, bytes)
    for base in bases:
        if isinstance(value, base):
            return base(value)
    return value


def _temporal(value: Any) -> Any:
    if isinstance(value, dt.datetime) and type(value) is not dt.datetime:
        # pandas.Timestamp and friends: keep the instant, drop the subclass.
        to_py = getattr(value, "to_pydatetime", None)
        return to_py() if to_py is not None else dt.datetime.fromisoformat(value.isoformat())
    if isinstance(value, dt.timedelta) and type(value) is not dt.timedelta:
        to_py = getattr(value, "to_pytimedelta", None)
        return to_py() if to_py is not None else dt.timedelta(seconds=value.total_seconds())
    return value


# ---------------------------------------------------------------------------
# Batch conversion (flusher thread)


class ImageTally:
    """How many image values ``normalize_row`` has accepted in this process.

    A stream compares it before and after validating rows, so the flusher walks
    nested values looking for images only in tables that ever received one.
    """

    count = 0


def column_to_arrow(values: list[Any], images: bool = True) -> pa.Array:
    """One column of a batch as an Arrow array; text under the conflict rule.

    ``images=False`` promises no :class:`Image` is in ``values`` (skips the walk).
    """
    type_: pa.DataType | None = None
    if images and _has_objects(values):
        if all(v is None or isinstance(v, Image) for v in values):
            type_ = IMAGE_TYPE
        values = [_encode_images(v) for v in values]
    try:
        array = pa.array(values, type=type_)
    # Arrow's ArrowInvalid/ArrowTypeError are ValueError/TypeError; mixes such as a
    # datetime with NaN raise the plain ones from its Python converters.
    except (ValueError, TypeError, pa.ArrowNotImplementedError, OverflowError):
        return pa.array([to_text(v) for v in values], type=pa.string())
    if _has_empty_struct(array.type) or (
        type_ is None and _holds_binary(array.type) and _has_str_in_binary(array.type, values)
    ):
        # Parquet cannot hold a struct with no fields ({}), and Arrow silently turns
        # str mixed with bytes into bytes: keep such values as text (conflict rule).
        return pa.array([to_text(v) for v in values], type=pa.string())
    return array


def rows_to_columns(rows: list[dict[str, Any]]) -> dict[str, list[Any]]:
    """Rows → column lists, keys in first-seen order; missing keys become ``None``.

    Fast path (C loops only) when every row has exactly the first row's keys,
    which is what a producer logging one kind of row does.
    """
    first = list(rows[0])
    if sum(map(len, rows)) == len(first) * len(rows):
        try:
            return {name: list(map(itemgetter(name), rows)) for name in first}
        except KeyError:
            pass
    keys: dict[str, None] = {}
    for row in rows:
        keys.update(dict.fromkeys(row))
    return {name: [row.get(name) for row in rows] for name in keys}


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
        if value.keys() == IMAGE_KEYS:
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
        return float(value)
    return value


IMAGE_KEYS = frozenset(IMAGE_TYPE.field(i).name for i in range(IMAGE_TYPE.num_fields))
