"""Which rows fall in a window of a sorted order, without sorting the whole column.

For a single numeric or temporal key, an O(n) partition finds the window's
boundary values and only the rows between them are sorted — what lets a table
widget jump to row 900,000 of a million-row sort in a few tens of milliseconds.
Ties are broken by position (log order), nulls go last, and every other key
type falls back to Arrow's stable sort.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["rank_window", "stable_order"]

Direction = Literal["asc", "desc"]


def rank_window(
    keys: pa.ChunkedArray | pa.Array,
    offset: int,
    limit: int,
    direction: Direction,
    *,
    name: str = "key",
) -> np.ndarray[Any, Any]:
    """Indices into ``keys`` of ranks ``[offset, offset + limit)`` of the stable sort.

    ``name`` is the column the keys come from, for error messages.
    """
    n = len(keys)
    stop = min(offset + limit, n)
    if offset >= stop:
        return np.empty(0, dtype=np.int64)
    values = _as_float(keys)
    if values is None:
        order = stable_order(pa.table({name: keys}), [(name, direction)])
        return order[offset:stop]
    if direction == "desc":
        values = -values
    # NaN (null) sorts last in numpy's partition, which is where nulls belong.
    part = np.partition(values, (offset, stop - 1))
    lo, hi = part[offset], part[stop - 1]
    if np.isnan(lo):
        candidates = np.flatnonzero(np.isnan(values))
        before = n - len(candidates)
    else:
        inside = values >= lo
        if np.isnan(hi):
            inside |= np.isnan(values)
        else:
            inside &= values <= hi
        candidates = np.flatnonzero(inside)
        before = int(np.count_nonzero(values < lo))
    if lo == hi or np.isnan(lo):  # the window is one run of ties: already in log order
        ranked = candidates
    else:
        cand_values = values[candidates]
        ranked = candidates[np.lexsort((candidates, np.isnan(cand_values), cand_values))]
    return ranked[offset - before : stop - before].astype(np.int64)


def stable_order(table: pa.Table, sort: list[tuple[str, Direction]]) -> np.ndarray[Any, Any]:
    """Row indices of ``table`` in stable sorted order, nulls last."""
    orders = [(name, "ascending" if d == "asc" else "descending") for name, d in sort]
    unsortable = (pa.ArrowNotImplementedError, pa.ArrowTypeError)  # e.g. a list column
    try:
        try:  # pyarrow >= 25 takes the null placement per key
            order = pc.sort_indices(table, sort_keys=[(*o, "at_end") for o in orders])
        except (TypeError, ValueError) as error:
            if isinstance(error, unsortable):
                raise
            order = pc.sort_indices(table, sort_keys=orders, null_placement="at_end")
    except unsortable as error:
        raise ValueError(f"cannot sort by {[n for n, _ in sort]}: {error}") from None
    return np.asarray(order.to_numpy(), dtype=np.int64)


def _as_float(keys: pa.ChunkedArray | pa.Array) -> np.ndarray[Any, Any] | None:
    """Keys as float64 with NaN for nulls, or ``None`` when they are not numbers/times."""
    t = keys.type
    if pa.types.is_timestamp(t) or pa.types.is_date(t) or pa.types.is_duration(t):
        keys = (
            pc.cast(keys, pa.int64())
            if not pa.types.is_date32(t)
            else pc.cast(pc.cast(keys, pa.int32()), pa.int64())
        )
        t = keys.type
    if pa.types.is_boolean(t):
        keys = pc.cast(keys, pa.int8())
        t = keys.type
    if not (pa.types.is_integer(t) or pa.types.is_floating(t)):
        return None
    if pa.types.is_integer(t) and _max_abs(keys) >= 2**53:
        return None  # float64 would merge distinct large integers
    floats = pc.cast(keys, pa.float64())
    if isinstance(floats, pa.ChunkedArray):
        floats = floats.combine_chunks() if floats.num_chunks else pa.array([], pa.float64())
    if floats.null_count:
        floats = pc.fill_null(floats, np.nan)
    # Straight from the data buffer: to_numpy() would import pandas on the first sort.
    data = floats.buffers()[1]
    if data is None:
        return np.empty(0, dtype=np.float64)
    return np.frombuffer(data, dtype=np.float64, count=len(floats), offset=floats.offset * 8)


def _max_abs(keys: pa.ChunkedArray | pa.Array) -> int:
    bounds = pc.min_max(keys)
    lo, hi = bounds["min"].as_py(), bounds["max"].as_py()
    return int(max(abs(lo or 0), abs(hi or 0)))
