"""Annotations merged onto rows: per row and field, the latest annotation wins.

Feedback is stored as rows of its own (``_target_id``, ``_fields``, the values)
and never written into the rows it targets; every read applies it. The rule is
the same on both paths that read: in SQL for DuckDB queries over the view, and
in Arrow for windows taken by position. A field set to ``None`` by the latest
annotation reads as null, whatever the row logged.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..query import literal, quote_ident
from ._schema import conform, conform_column
from ._snapshot import Snapshot

__all__ = ["latest_sql", "merge_annotations", "view_sql"]


def latest_sql(fields: Sequence[str], annotations: str) -> str:
    """SQL of the latest value of each of ``fields`` per target row, over ``annotations``.

    One row per target: ``__key`` (the target ``_id`` as text), ``__set`` (every
    field ever set) and a column per field.
    """
    # arg_max_null, not arg_max: a latest value of None must win (it clears the field).
    latest = [
        f"arg_max_null({quote_ident(f)}, _timestamp)"
        f" FILTER (WHERE list_contains(_fields, {literal(f)}))"
        f" AS {quote_ident(f)}"
        for f in fields
    ]
    select = ", ".join(
        [
            "CAST(_target_id AS VARCHAR) AS __key",
            "list_distinct(flatten(list(_fields))) AS __set",
            *latest,
        ]
    )
    return f"SELECT {select} FROM ({annotations}) GROUP BY 1"


def view_sql(
    snap: Snapshot,
    rows: str,
    latest: str,
    sql_type: Callable[[pa.DataType], str],
    *,
    positions: bool,
) -> str:
    """The merged view: ``rows`` (SQL) joined with ``latest`` (a relation from ``latest_sql``).

    ``sql_type`` names an Arrow type in DuckDB; with ``positions``, the rows'
    ``__weave_nb_pos`` column is kept.
    """
    select = []
    for f in snap.schema:
        col = quote_ident(f.name)
        if f.name in snap.annotation_fields:
            ann = f"CAST(a.{col} AS {sql_type(f.type)})"
            base = (
                f"CAST(r.{col} AS {sql_type(f.type)})"
                if f.name in snap.rows_schema.names
                else "NULL"
            )
            select.append(
                f"CASE WHEN list_contains(a.__set, {literal(f.name)}) THEN {ann} "
                f"ELSE {base} END AS {col}"
            )
        else:
            select.append(f"r.{col}")
    if positions:
        select.append("r.__weave_nb_pos")
    return (
        f"SELECT {', '.join(select)} FROM ({rows}) AS r "
        f"LEFT JOIN {latest} AS a ON CAST(r._id AS VARCHAR) = a.__key"
    )


def merge_annotations(
    snap: Snapshot, rows: pa.Table, latest: pa.Table | None, names: Sequence[str] | None = None
) -> pa.Table:
    """``rows`` (order kept) with ``latest`` (from ``latest_sql``) applied, conformed.

    The result has the columns ``names`` (default: the whole merged schema);
    ``latest`` is ``None`` when the snapshot has no annotation.
    """
    target = pa.schema([snap.schema.field(n) for n in (names or snap.schema.names)])
    if latest is None:
        return conform(rows, target)
    keys = pc.cast(rows.column("_id"), pa.string())
    positions = pc.index_in(keys, value_set=latest.column("__key"))
    sets = latest.column("__set").take(positions)
    columns = []
    for f in target:
        base = rows.column(f.name) if f.name in rows.column_names else pa.nulls(len(rows), f.type)
        base = conform_column(base, f.type)
        if f.name in snap.annotation_fields:
            values = conform_column(latest.column(f.name).take(positions), f.type)
            base = pc.if_else(_list_has(sets, f.name), values, base)
        columns.append(base)
    return pa.Table.from_arrays(columns, schema=target)


def _list_has(lists: pa.ChunkedArray, value: str) -> pa.Array:
    """Per row: whether its list contains ``value`` (null lists count as not)."""
    lists = lists.combine_chunks() if isinstance(lists, pa.ChunkedArray) else lists
    has = np.zeros(len(lists), dtype=bool)
    parents = pc.list_parent_indices(lists).to_numpy()
    matches = pc.fill_null(pc.equal(pc.list_flatten(lists), value), False).to_numpy(
        zero_copy_only=False
    )
    has[parents[matches]] = True
    return pa.array(has)
