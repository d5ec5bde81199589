"""A trace as rows: its calls root first, then depth-first in start order, with a depth.

Only the rows of the trace are read: the store filters on ``trace_id`` in SQL,
so a trace of a thousand spans in a table of millions reads a thousand rows.
Calls whose parent is not in the trace (a parent still running, or logged to
another table) are shown as roots, so nothing is hidden.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from weave_nb.query import SqlTable, literal, quote_ident

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["DEPTH", "depth_first", "session_frame", "trace_frame", "trace_rows"]

DEPTH = "depth"
"""Column added to a trace: 0 for a root, 1 for its children, and so on."""


def depth_first(
    ids: Sequence[Hashable], parents: Sequence[Hashable | None], starts: Sequence[Any]
) -> tuple[list[int], list[int]]:
    """Row positions in tree order (roots, then children depth-first, each level by start).

    Returns ``(order, depth)``: ``order[k]`` is the position of the k-th row shown,
    ``depth[k]`` its depth. Missing start times sort last; a cycle of parents
    (corrupt data) is broken by showing its first member as a root.
    """
    position = {span: i for i, span in enumerate(ids)}
    children: dict[int, list[int]] = {}
    roots: list[int] = []
    for i, parent in enumerate(parents):
        at = None if parent is None else position.get(parent)
        if at is None or at == i:
            roots.append(i)
        else:
            children.setdefault(at, []).append(i)

    def by_start(i: int) -> tuple[bool, Any, int]:
        start = starts[i]
        return (start is None, start if start is not None else 0, i)

    order: list[int] = []
    depth: list[int] = []
    seen = [False] * len(ids)

    def walk(first: list[int]) -> None:
        stack = [(i, 0) for i in sorted(first, key=by_start, reverse=True)]
        while stack:
            i, level = stack.pop()
            if seen[i]:
                continue
            seen[i] = True
            order.append(i)
            depth.append(level)
            kids = children.get(i, ())
            stack.extend((k, level + 1) for k in sorted(kids, key=by_start, reverse=True))

    walk(roots)
    for i in range(len(ids)):  # members of a parent cycle never reached from a root
        if not seen[i]:
            walk([i])
    return order, depth


def trace_rows(table: SqlTable, trace_id: str, columns: Sequence[str] | None = None) -> pa.Table:
    """The rows of one trace as Arrow, in tree order, with a ``depth`` column.

    ``columns`` limits what is read (``_id``, ``parent_id`` and ``start_time``
    are always read, to order the rows).
    """
    names = table.schema.names
    if "trace_id" not in names:
        raise ValueError(f"table {table.name!r} has no trace_id column (not a trace table)")
    if columns is None:
        wanted = list(names)
    else:
        wanted = list(dict.fromkeys([*columns, "_id", "parent_id", "start_time"]))
        wanted = [c for c in wanted if c in names]
    select = ", ".join(quote_ident(c) for c in wanted)
    where = f"{quote_ident('trace_id')} = {literal(str(trace_id))}"
    rows = table.sql(f"SELECT {select} FROM t WHERE {where}")
    ids = rows.column("_id").to_pylist()
    parents = rows.column("parent_id").to_pylist() if "parent_id" in wanted else [None] * len(ids)
    starts = rows.column("start_time").to_pylist() if "start_time" in wanted else [None] * len(ids)
    order, depth = depth_first(ids, parents, starts)
    ordered = rows.take(pa.array(order, pa.int64()))
    return ordered.append_column(DEPTH, pa.array(depth, pa.int32()))


def trace_frame(table: SqlTable, trace_id: str) -> pd.DataFrame:
    """Every call of ``trace_id``: root first, then depth-first in start order, with ``depth``."""
    return _frame(trace_rows(table, trace_id))


def session_frame(table: SqlTable, session_id: str) -> pd.DataFrame:
    """Every call tagged with ``session_id``, in start order (then log order)."""
    names = table.schema.names
    if "session_id" not in names:
        raise ValueError(f"table {table.name!r} has no session_id column (no session logged)")
    order = [quote_ident(c) for c in ("start_time", "_timestamp") if c in names]
    rows = table.sql(
        f"SELECT * FROM t WHERE {quote_ident('session_id')} = {literal(str(session_id))}"
        + (f" ORDER BY {', '.join(order)}" if order else "")
    )
    return _frame(rows)


def _frame(rows: pa.Table) -> pd.DataFrame:
    frame: pd.DataFrame = rows.to_pandas()
    return frame.reset_index(drop=True)
