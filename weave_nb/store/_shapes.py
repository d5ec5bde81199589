"""Row shapes: rows that wait as tuples of their values, in one key order.

``log()``'s C fast path keeps a row whose keys are the row before's, in the same
order, as the pending item ``(time_ns, kind, values)``: a third of a dict copy's
memory, and columns read straight out of the tuples. Each key order is registered
once, under a builder number of its stream, so that pending items keep one form
(``(time, kind, payload)``) for runs. Rows of a shape and rows kept as dicts
convert together, in log order, so the conflict rule sees a batch as it was logged.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._batch import STAMP, Item, runs
from ._convert import int64s, rows_to_arrays, shape_rows_to_columns

__all__ = ["RowShapes"]


class RowShapes:
    """The shapes registered on one stream, and the conversion of its rows."""

    def __init__(self) -> None:
        self._names: dict[int, list[str]] = {}

    def add(self, kind: int, names: list[str]) -> None:
        """Rows of item kind ``kind`` hold their values in the order of ``names``."""
        self._names[kind] = names

    def is_row(self, item: Item) -> bool:
        """Whether ``item`` is a row (a dict, or a tuple of a shape's values)."""
        return type(item) is dict or item[1] in self._names  # type: ignore[index]

    def joined_runs(self, kinds: list[range], items: list[Item]) -> list[range]:
        """``kinds`` (runs of one item kind each) with adjacent runs of rows as one."""
        joined: list[range] = []
        for run in kinds:
            if joined and self.is_row(items[run.start]) and self.is_row(items[joined[-1].start]):
                joined[-1] = range(joined[-1].start, run.stop)
            else:
                joined.append(run)
        return joined

    def columns(self, rows: list[Item]) -> tuple[np.ndarray[Any, Any], dict[str, Any]]:
        """The log times (ns) and the columns (lists or Arrow arrays) of ``rows``."""
        first = rows[0]
        if type(first) is not dict and len(runs(rows)) == 1:  # one shape: straight from tuples
            return shape_rows_to_columns(self._names[first[1]], rows)  # type: ignore[index]
        values = rows_to_arrays([row if type(row) is dict else self._as_dict(row) for row in rows])
        return int64s(values.pop(STAMP)), values

    def _as_dict(self, item: Any) -> dict[str, Any]:
        """A row kept as ``(time_ns, kind, values)`` as the dict ``log()`` keeps otherwise."""
        row = dict(zip(self._names[item[1]], item[2], strict=True))
        row[STAMP] = item[0]
        return row
