"""Values in: validate a row in the caller's thread, before ``log()`` accepts it.

``normalize_row`` runs inside ``log()``: it accepts plain scalars untouched (the
fast path) and turns everything else into plain Python values or :class:`Image`
objects, raising ``TypeError``/``ValueError`` that name the column and the type
for anything it cannot store, so nothing fails later in the flusher.

Values that would change on the way are refused or converted here, by the
rules of the README's "Any shape" paragraph: nesting deeper than
``MAX_DEPTH`` and circular values are refused; ``Decimal`` is stored as
``DECIMAL_TYPE``; ``pd.NaT`` is null; times have microsecond precision (as in
Python, Delta Lake and Spark: nanoseconds are floored). A lone surrogate in a
string is escaped later, by ``_convert`` (``str`` is on the fast path).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
import enum
import pathlib
import sys
import uuid
from collections.abc import Mapping
from typing import Any

import pyarrow as pa

from ._image import Image
from ._layout import split_companion

__all__ = [
    "DECIMAL_TYPE",
    "MAX_DEPTH",
    "PLAIN_TYPES",
    "ImageTally",
    "normalize_row",
    "validate_column_name",
]

PLAIN_TYPES = frozenset({int, float, str, bool, type(None), bytes})
"""Types of plain scalar values: stored as they are, and never changed by anyone later."""
_TEMPORAL = (dt.datetime, dt.date, dt.time, dt.timedelta)
_RESERVED = frozenset({"_client_id"})
_STR_ONLY = frozenset({str})

MAX_DEPTH = 32
"""Most dicts/lists a column value may nest. Arrow's C interface (how DuckDB reads
our tables) refuses schemas nested past 64 levels, a list counts as two there,
and ``@monitor`` wraps arguments in one more struct: 32 leaves room for all of that."""

DECIMAL_TYPE = pa.decimal128(38, 18)
"""Every ``Decimal`` column: Spark's default decimal, which DuckDB and Delta Lake read
as is (a type per batch would conflict across files; DuckDB has no ``decimal256``)."""

_DECIMAL_INTEGER_DIGITS = DECIMAL_TYPE.precision - DECIMAL_TYPE.scale


def validate_column_name(name: object) -> str:
    """Check a top-level key: a non-empty ``str`` not reserved for the store."""
    if type(name) is not str:
        raise TypeError(f"column names must be str, got {type(name).__name__} ({name!r})")
    if not name:
        raise ValueError("column names must not be empty")
    if name in _RESERVED:
        raise ValueError(f"column {name!r} is set by the store and cannot be logged")
    if "\x00" in name:
        raise ValueError(f"column {name!r}: names cannot contain NUL ('\\x00'); Parquet cuts them")
    if name.startswith("__weave_nb"):
        raise ValueError(f"column {name!r}: names starting '__weave_nb' are the store's own")
    if split_companion(name) is not None:
        raise ValueError(
            f"column {name!r}: names ending in '~<type>' are the store's companion columns"
        )
    return name


def normalize_row(row: Mapping[str, Any]) -> dict[str, Any]:
    """Return a private copy of ``row`` holding only storable values.

    Raises ``TypeError``/``ValueError`` naming the column (``a.b[2]`` for nested
    paths) and the offending type. Runs in the caller's thread.
    """
    out: dict[str, Any] = {}
    for key, value in row.items():
        if (
            type(key) is not str
            or not key
            or key in _RESERVED
            or "\x00" in key
            or "~" in key
            or key.startswith("__weave_nb")
        ):
            validate_column_name(key)
        kind = type(value)
        if kind in PLAIN_TYPES or kind is dt.datetime:
            out[key] = value
        elif (
            kind is dict
            and _STR_ONLY.issuperset(map(type, value))
            and PLAIN_TYPES.issuperset(map(type, value.values()))
            and not any("\x00" in k for k in value)
        ):
            out[key] = value.copy()  # the common nested case (e.g. call inputs), no recursion
        else:
            out[key] = _normalize(value, key, [])
    if "_timestamp" in out:
        if out["_timestamp"] is None:  # None or pd.NaT: not given, the log time is used
            del out["_timestamp"]
        elif not isinstance(out["_timestamp"], dt.datetime):
            raise TypeError(
                f"column '_timestamp': expected a datetime, got {type(out['_timestamp']).__name__}"
            )
    return out


def _normalize(value: Any, path: str, parents: list[int]) -> Any:
    """``value`` as plain Python values; ``parents`` holds the ids of the enclosing containers."""
    kind = type(value)
    if kind in PLAIN_TYPES:
        return value
    if isinstance(value, Image):
        ImageTally.count += 1
        return value
    if isinstance(value, bool | int | float | str | bytes):  # subclasses: IntEnum, str-enum...
        if isinstance(value, enum.Enum):
            return _normalize(value.value, path, parents)
        return _normalize(_builtin(value), path, parents)
    if isinstance(value, _TEMPORAL):
        return _temporal(value, path)
    if isinstance(value, Mapping):
        _enter(value, path, parents)
        nested: dict[str, Any] = {}
        for key, item in value.items():
            if type(key) is not str:
                raise TypeError(
                    f"column {path!r}: nested keys must be str, got {type(key).__name__} ({key!r})"
                )
            if "\x00" in key:
                raise ValueError(f"column {path!r}: key {key!r} contains NUL ('\\x00')")
            nested[key] = _normalize(item, f"{path}.{key}", parents)
        parents.pop()
        return nested
    if isinstance(value, list | tuple):
        return _items(value, value, path, parents)
    if isinstance(value, set | frozenset):
        items = _items(value, value, path, parents)
        try:
            return sorted(items)
        except TypeError:
            return items
    if isinstance(value, bytearray | memoryview):
        return bytes(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
        return _normalize(fields, path, parents)
    if isinstance(value, enum.Enum):
        return _normalize(value.value, path, parents)
    if isinstance(value, uuid.UUID | pathlib.PurePath):
        return str(value)
    if isinstance(value, decimal.Decimal):
        return _decimal(value, path)
    converted = _from_optional_libraries(value, path, parents)
    if converted is not _UNSUPPORTED:
        return converted
    raise TypeError(
        f"column {path!r}: cannot store a value of type {kind.__module__}.{kind.__qualname__}; "
        "supported: None, bool, int, float, str, bytes, datetime/date/time/timedelta, Decimal, "
        "dict, list/tuple/set, dataclasses, enums, numpy scalars and arrays, pandas timestamps, "
        "PIL images and weave_nb.Image"
    )


def _enter(container: object, path: str, parents: list[int]) -> None:
    """Refuse a circular or too deep value before recursing into it (never RecursionError)."""
    if id(container) in parents:
        raise ValueError(f"column {path!r}: the value contains itself (a circular reference)")
    if len(parents) >= MAX_DEPTH:
        raise ValueError(
            f"column {path!r}: nested deeper than {MAX_DEPTH} levels of dicts/lists, "
            "the most the table files and queries handle"
        )
    parents.append(id(container))


def _items(container: object, items: Any, path: str, parents: list[int]) -> list[Any]:
    _enter(container, path, parents)
    out = [_normalize(item, f"{path}[{i}]", parents) for i, item in enumerate(items)]
    parents.pop()
    return out


def _decimal(value: decimal.Decimal, path: str) -> decimal.Decimal:
    """``value`` if ``DECIMAL_TYPE`` holds it exactly, else ``ValueError`` naming the column."""
    if not value.is_finite():
        raise ValueError(
            f"column {path!r}: cannot store Decimal({str(value)!r}): "
            "Arrow decimals hold finite numbers only"
        )
    sign, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)  # finite
    if exponent > 0:  # 1E+2 → 100: Parquet has no negative scale
        digits, exponent = digits + (0,) * exponent, 0
    while exponent < 0 and digits[-1:] == (0,):  # trailing zeros fit whatever the scale
        digits, exponent = digits[:-1], exponent + 1
    if -exponent > DECIMAL_TYPE.scale or len(digits) + exponent > _DECIMAL_INTEGER_DIGITS:
        raise ValueError(
            f"column {path!r}: Decimal({str(value)!r}) does not fit decimal(38, 18) "
            f"(at most {_DECIMAL_INTEGER_DIGITS} digits before the point and "
            f"{DECIMAL_TYPE.scale} after); store it as str to keep every digit"
        )
    return decimal.Decimal((sign, digits or (0,), exponent))


_UNSUPPORTED = object()


def _from_optional_libraries(value: Any, path: str, parents: list[int]) -> Any:
    """numpy, pandas and PIL values, checked only when those libraries are loaded."""
    np = sys.modules.get("numpy")
    if np is not None:
        if isinstance(value, np.ndarray):
            if value.ndim == 0:  # e.g. np.array(None, dtype=object): its one element
                return _normalize(value[()], path, parents)
            if value.dtype == object or value.dtype.kind in "mM":
                # tolist() turns datetime64[ns] into int: convert numpy scalars instead
                return _items(value, value, path, parents)
            if value.dtype.kind in "biufcUS":
                return _normalize(value.tolist(), path, parents)
            raise TypeError(f"column {path!r}: cannot store a numpy array of dtype {value.dtype}")
        if isinstance(value, np.generic):
            if isinstance(value, np.datetime64 | np.timedelta64):
                return _numpy_temporal(value, path)
            if isinstance(value, np.floating | np.integer | np.bool_ | np.str_ | np.bytes_):
                item = value.item()
                if isinstance(item, np.generic):  # np.longdouble: no Python type holds it
                    item = float(value)
                    if item != value and not np.isnan(value):
                        raise ValueError(
                            f"column {path!r}: cannot store {type(value).__name__} {value}: "
                            "it does not fit a float64 exactly"
                        )
                return _normalize(item, path, parents)
    pil = sys.modules.get("PIL.Image")
    if pil is not None and isinstance(value, pil.Image):
        ImageTally.count += 1
        try:
            return Image(value)
        except (TypeError, ValueError) as error:
            raise type(error)(f"column {path!r}: {error}") from None
    return _UNSUPPORTED


def _numpy_temporal(value: Any, path: str) -> Any:
    """A numpy datetime64/timedelta64 as date/datetime/timedelta (µs, floored)."""
    if value != value:  # NaT
        return None
    import numpy as np

    if np.datetime_data(value.dtype)[0] in _FINER_THAN_US:
        value = value.astype(f"{value.dtype.name.split('[')[0]}[us]")  # numpy floors
    item = value.item()
    if isinstance(item, int):  # no Python type holds it: a bare count of its unit
        raise ValueError(
            f"column {path!r}: cannot store numpy {value.dtype} value {value}: outside the "
            "range of datetime/timedelta, or a timedelta in months or years"
        )
    return item


_FINER_THAN_US = frozenset({"ns", "ps", "fs", "as"})


def _builtin(value: Any) -> Any:
    bases: tuple[type[Any], ...] = (bool, int, float, str, bytes)
    for base in bases:
        if isinstance(value, base):
            return base(value)
    return value


def _temporal(value: Any, path: str) -> Any:
    """Dates and times as the plain ``datetime`` types, at microsecond precision."""
    kind = type(value)
    if kind is dt.datetime or kind is dt.date or kind is dt.timedelta:
        return value
    if isinstance(value, dt.time):
        if value.tzinfo is not None:
            # Arrow/Parquet times have no zone, and without a date no offset is exact
            raise ValueError(
                f"column {path!r}: cannot store a time with a timezone ({value.isoformat()}): "
                "store a timezone-aware datetime, or the time without tzinfo"
            )
        return value
    if value != value:  # pd.NaT (a datetime subclass that equals nothing)
        return None
    # pandas.Timestamp/Timedelta: floor the nanoseconds (µs is what Python, Delta Lake
    # and Spark hold) rather than let to_pydatetime() warn in the caller's thread.
    nanos = getattr(value, "nanosecond" if isinstance(value, dt.datetime) else "nanoseconds", 0)
    if nanos:  # 0-999, the sub-µs field: subtracting it floors, before 1970 too
        import pandas as pd

        value = value - pd.Timedelta(nanoseconds=nanos)
    if isinstance(value, dt.datetime):
        to_py = getattr(value, "to_pydatetime", None)
        return to_py() if to_py is not None else dt.datetime.fromisoformat(value.isoformat())
    if isinstance(value, dt.timedelta):
        to_py = getattr(value, "to_pytimedelta", None)
        return to_py() if to_py is not None else dt.timedelta(seconds=value.total_seconds())
    return value


class ImageTally:
    """How many image values ``normalize_row`` has accepted in this process.

    A stream compares it before and after validating rows, so the flusher walks
    nested values looking for images only in tables that ever received one.
    """

    count = 0
