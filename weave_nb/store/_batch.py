"""Batch steps of the flusher: a drain's items in runs of one kind, their Arrow tables tidied.

Pure functions over the items ``Stream.drain`` takes from the backlog and the
tables it converts them to; the stream keeps the state (ids, locks, segments).
"""

from __future__ import annotations

import datetime as dt
from itertools import groupby
from operator import itemgetter
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .._accel import SPEEDUPS
from .._config import SETTINGS
from ._layout import TIMESTAMP_TYPE

__all__ = [
    "STAMP",
    "Item",
    "cut_oversized",
    "joined",
    "numbered_ids",
    "runs",
    "user_timestamps",
    "without_empty_columns",
]

Item = dict[str, Any] | tuple[int, int, Any]
"""A pending item: a row, or a deferred ``(time_ns, builder, payload)``."""
STAMP = ""
"""Key of a pending row's log time (ns); ``log()`` refuses an empty column name."""


def without_empty_columns(table: pa.Table) -> pa.Table:
    """``table`` without the columns that hold only nulls (they may be what cannot be written)."""
    names = [
        n for n, c in zip(table.column_names, table.columns, strict=True) if c.null_count < len(c)
    ]
    return table.select(names)


def cut_oversized(table: pa.Table) -> pa.Table:
    """Top-level text/bytes values over the size limit, cut with their marker.

    ``log()``'s fast path takes plain rows without looking at their sizes; the
    limit is applied here, on whole columns, where checking costs one kernel.
    """
    redactor = SETTINGS.redactor
    limit = redactor.max_value_bytes
    if not limit:
        return table
    for i, column in enumerate(table.columns):
        kind = column.type
        if not (pa.types.is_string(kind) or pa.types.is_binary(kind)) or not len(column):
            continue
        if column.nbytes <= limit:  # no value can be longer than all of them: no kernel
            continue
        longest = pc.max(pc.binary_length(column)).as_py()
        if longest is not None and longest > limit:
            cut = pa.array([redactor(v) for v in column.to_pylist()], type=kind)
            table = table.set_column(i, table.field(i), cut)
    return table


def joined(tables: list[tuple[pa.Table, int]]) -> list[tuple[pa.Table, int]]:
    """Consecutive tables of one schema as one (zero-copy): fewer tables for readers."""
    out = []
    for _, group in groupby(tables, lambda converted: converted[0].schema):
        run = list(group)
        out.append((pa.concat_tables([table for table, _ in run]), run[0][1]))
    return out


def numbered_ids(prefix: str, start: int, n: int) -> pa.Array:
    """The strings ``prefix + str(start + i)`` for ``i < n``, as one Arrow string array."""
    if SPEEDUPS is not None:
        offsets, data = SPEEDUPS.numbered_text(prefix, start, n)
        return pa.Array.from_buffers(
            pa.string(), n, [None, pa.py_buffer(offsets), pa.py_buffer(data)]
        )
    numbers = pa.array(np.arange(start, start + n, dtype=np.int64)).cast(pa.string())
    return pc.binary_join_element_wise(prefix, numbers, "")


def runs(items: list[Item]) -> list[range]:
    """The ranges of ``items`` of one kind each (rows, or one builder's), in order."""
    if SPEEDUPS is not None:
        ranges: list[range] = SPEEDUPS.item_runs(items)
        return ranges
    return _py_runs(items)


def _py_runs(items: list[Item]) -> list[range]:
    rows = list(map(type, items)).count(dict)
    if rows == len(items):  # the common cases take C loops only
        return [range(rows)]
    if not rows:
        kinds = list(map(itemgetter(1), items))
        if kinds.count(kinds[0]) == len(kinds):
            return [range(len(kinds))]
    runs, start = [], 0
    for _, group in groupby(items, _run_kind):
        stop = start + len(list(group))
        runs.append(range(start, stop))
        start = stop
    return runs


def _run_kind(item: Item) -> int:
    """Rows are kind -1, deferred items the number of their builder."""
    return -1 if type(item) is dict else item[1]  # type: ignore[index]


def user_timestamps(values: list[Any], logged_us: np.ndarray[Any, Any]) -> pa.Array:
    """``_timestamp`` given by the user (backfill) where present, log time elsewhere."""
    epoch = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
    out = []
    for value, fallback in zip(values, logged_us.tolist(), strict=True):
        if value is None:
            out.append(fallback)
        else:
            if value.tzinfo is None:
                value = value.replace(tzinfo=dt.timezone.utc)
            out.append((value - epoch) // dt.timedelta(microseconds=1))
    return pa.array(out, type=pa.int64()).cast(TIMESTAMP_TYPE)
