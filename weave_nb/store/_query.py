"""Reads over a table's merged view: windows, counts, aggregates and SQL, via DuckDB.

The merged view is the rows of every segment and of memory, conformed to one
schema, with the latest annotation per field applied. Unsorted, unfiltered
windows are served straight from the segments that hold them (row-group reads,
no scan). Anything with a filter or a sort goes through DuckDB, which scans the
Parquet files itself with projection and predicate push-down; nothing is
materialised in pandas and the table is never copied per request.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ._schema import conform, merge_schemas, needs_conform, unify_types
from ._stream import TIMESTAMP_TYPE, StreamSnapshot

__all__ = ["STATS", "QueryEngine", "Snapshot", "SortSpec", "choose_bucket"]

SortSpec = Sequence[tuple[str, Literal["asc", "desc"]]]
_ANN_META = ("_target_id", "_timestamp", "_client_id", "_fields")
_BASE_SCHEMA = pa.schema(
    [("_id", pa.string()), ("_timestamp", TIMESTAMP_TYPE), ("_client_id", pa.string())]
)

STATS: dict[str, str] = {
    "count": "count(*)",
    "mean": "avg({x})",
    "min": "min({x})",
    "max": "max({x})",
    "sum": "sum({x})",
    "stddev": "stddev_samp({x})",
    "p50": "quantile_cont({x}, 0.5)",
    "p90": "quantile_cont({x}, 0.9)",
    "p95": "quantile_cont({x}, 0.95)",
    "p99": "quantile_cont({x}, 0.99)",
}
"""Aggregate statistics by name; ``{x}`` is the column expression."""

_NICE_BUCKETS = [
    dt.timedelta(seconds=s)
    for s in (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800,
              21600, 43200, 86400, 2 * 86400, 7 * 86400, 14 * 86400, 30 * 86400, 91 * 86400,
              365 * 86400)
]


def choose_bucket(span: dt.timedelta, target: int = 60) -> dt.timedelta:
    """The smallest "nice" bucket width giving at most ``target`` buckets over ``span``."""
    for width in _NICE_BUCKETS:
        if span / width <= target:
            return width
    return _NICE_BUCKETS[-1]


def quote(name: str) -> str:
    """A SQL identifier, quoted."""
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


@dataclass
class Snapshot:
    """A consistent view of both streams, with the merged schema."""

    rows: StreamSnapshot
    annotations: StreamSnapshot
    rows_schema: pa.Schema = field(init=False)
    ann_schema: pa.Schema = field(init=False)
    schema: pa.Schema = field(init=False)

    def __post_init__(self) -> None:
        self.rows_schema = merge_schemas(
            [_BASE_SCHEMA]
            + [s.schema for s in self.rows.segments]
            + [t.schema for t in self.rows.memory]
        )
        self.ann_schema = merge_schemas(
            [s.schema for s in self.annotations.segments]
            + [t.schema for t in self.annotations.memory]
        )
        merged = dict(zip(self.rows_schema.names, self.rows_schema.types, strict=True))
        metadata = {f.name: f.metadata for f in self.rows_schema}
        for name in self.annotation_fields:
            ann_type = self.ann_schema.field(name).type
            merged[name] = unify_types(merged[name], ann_type) if name in merged else ann_type
        self.schema = pa.schema([pa.field(n, t, metadata=metadata.get(n)) for n, t in merged.items()])

    @property
    def annotation_fields(self) -> list[str]:
        """Fields set by annotations (columns of the annotation stream that are data)."""
        return [n for n in self.ann_schema.names if n not in _ANN_META]

    @property
    def has_annotations(self) -> bool:
        """Whether any annotation exists."""
        return self.annotations.num_rows > 0


class QueryEngine:
    """DuckDB connection of one table; every call holds its lock for its duration."""

    def __init__(self) -> None:
        self._con = duckdb.connect(":memory:")
        self._con.execute("SET TimeZone = 'UTC'")
        self._lock = threading.RLock()
        self._registered: list[str] = []

    def close(self) -> None:
        """Release the connection."""
        with self._lock:
            self._con.close()

    # -- public reads ----------------------------------------------------------

    def window(
        self,
        snap: Snapshot,
        offset: int,
        limit: int,
        sort: SortSpec | None,
        filter: str | None,
        columns: Sequence[str] | None,
    ) -> pa.Table:
        """Rows ``[offset, offset + limit)`` of the merged view, sorted and filtered."""
        if offset < 0 or limit < 0:
            raise ValueError(f"offset and limit must be >= 0, got offset={offset}, limit={limit}")
        names = self._columns(snap, columns)
        if not sort and not filter:
            table = self._slice(snap, offset, limit)
            return _merge_annotations(self, snap, table).select(names)
        order = self._order_by(snap, sort)
        where = f"WHERE ({filter})" if filter else ""
        select = ", ".join(quote(n) for n in names)
        sql = f"SELECT {select} FROM t {where} {order} LIMIT {int(limit)} OFFSET {int(offset)}"
        target = pa.schema([snap.schema.field(n) for n in names])
        return conform(self.sql(snap, sql), target)

    def count(self, snap: Snapshot, filter: str | None) -> int:
        """Rows of the merged view matching ``filter``."""
        if not filter:
            return snap.rows.num_rows
        result = self.sql(snap, f"SELECT count(*) AS n FROM t WHERE ({filter})")
        return int(result.column(0)[0].as_py())

    def aggregate(
        self,
        snap: Snapshot,
        stats: Sequence[str],
        column: str | None,
        every: dt.timedelta | None,
        group_by: str | None,
        filter: str | None,
        start: dt.datetime | None,
        end: dt.datetime | None,
    ) -> pa.Table:
        """Time-bucketed statistics (see ``StreamTable.aggregate``)."""
        unknown = [s for s in stats if s not in STATS]
        if unknown:
            raise ValueError(f"unknown statistic(s) {unknown}; choose from {sorted(STATS)}")
        if column is None and any(s != "count" for s in stats):
            raise ValueError(f"statistics {[s for s in stats if s != 'count']} need column=")
        conditions = [f"({filter})"] if filter else []
        if start is not None:
            conditions.append(f"_timestamp >= {_ts_literal(start)}")
        if end is not None:
            conditions.append(f"_timestamp < {_ts_literal(end)}")
        where = f"WHERE {' AND '.join(conditions)}" if conditions else ""
        if every is None:
            span = self.sql(snap, f"SELECT min(_timestamp), max(_timestamp) FROM t {where}")
            lo, hi = span.column(0)[0].as_py(), span.column(1)[0].as_py()
            every = choose_bucket((hi - lo) if lo is not None and hi is not None else dt.timedelta())
        micros = every // dt.timedelta(microseconds=1)
        if micros <= 0:
            raise ValueError(f"every= must be a positive duration, got {every}")
        bucket = f"time_bucket(INTERVAL '{micros} microseconds', _timestamp) AS bucket"
        group = f", {quote(group_by)}" if group_by else ""
        values = ", ".join(
            STATS[s].format(x=f"({column})") + f" AS {quote(s)}" for s in stats
        )
        sql = (
            f"SELECT {bucket}{group}, {values} FROM t {where} "
            f"GROUP BY ALL ORDER BY bucket{group}"
        )
        result = self.sql(snap, sql)
        meta = {b"every_seconds": str(every.total_seconds()).encode()}
        return result.replace_schema_metadata(meta)

    def sql(self, snap: Snapshot, query: str) -> pa.Table:
        """Run DuckDB SQL in which the merged view is the relation ``t``."""
        with self._lock:
            try:
                self._con.execute(f"CREATE OR REPLACE TEMP VIEW t AS {self._view_sql(snap)}")
                return self._con.sql(query).to_arrow_table()
            except duckdb.Error as error:
                raise ValueError(f"query failed: {error}") from None
            finally:
                self._unregister()

    def read_all(self, snap: Snapshot) -> pa.Table:
        """The whole merged view in log order (for ``to_arrow``)."""
        return _merge_annotations(self, snap, self._slice(snap, 0, snap.rows.num_rows))

    def latest_annotations(self, snap: Snapshot) -> pa.Table:
        """Per target key: the latest value of each field, and the set of fields ever set."""
        with self._lock:
            try:
                return self._latest(snap)
            finally:
                self._unregister()

    def _latest(self, snap: Snapshot) -> pa.Table:
        fields = snap.annotation_fields
        parts = [
            f"arg_max({quote(f)}, _timestamp) FILTER (WHERE list_contains(_fields, {_literal(f)}))"
            f" AS {quote(f)}"
            for f in fields
        ]
        select = ", ".join(["CAST(_target_id AS VARCHAR) AS __key",
                            "list_distinct(flatten(list(_fields))) AS __set", *parts])
        source = self._stream_sql(snap.annotations, snap.ann_schema, "ann")
        return self._con.sql(f"SELECT {select} FROM ({source}) GROUP BY 1").to_arrow_table()

    # -- building blocks ----------------------------------------------------------

    def _columns(self, snap: Snapshot, columns: Sequence[str] | None) -> list[str]:
        if columns is None:
            return list(snap.schema.names)
        missing = [c for c in columns if c not in snap.schema.names]
        if missing:
            raise KeyError(f"no column(s) {missing}; the table has {snap.schema.names}")
        return list(columns)

    def _order_by(self, snap: Snapshot, sort: SortSpec | None) -> str:
        if not sort:
            return ""
        parts = []
        for item in sort:
            name, direction = item
            if name not in snap.schema.names:
                raise KeyError(f"cannot sort by {name!r}: no such column")
            if direction not in ("asc", "desc"):
                raise ValueError(f"sort direction must be 'asc' or 'desc', got {direction!r}")
            parts.append(f"{quote(name)} {direction.upper()} NULLS LAST")
        return "ORDER BY " + ", ".join([*parts, "_timestamp", "_id"])

    def _slice(self, snap: Snapshot, offset: int, limit: int) -> pa.Table:
        pieces: list[pa.Table] = []
        stop, row = offset + limit, 0
        sources: list[Any] = [*snap.rows.segments, *snap.rows.memory]
        for source in sources:
            n = source.num_rows
            if row + n > offset and row < stop and n:
                start, end = max(offset - row, 0), min(stop - row, n)
                piece = (
                    source.slice(start, end - start)
                    if isinstance(source, pa.Table)
                    else source.read_slice(start, end)
                )
                pieces.append(conform(piece, snap.rows_schema))
            row += n
            if row >= stop:
                break
        if not pieces:
            return snap.rows_schema.empty_table()
        return pa.concat_tables(pieces)

    def _stream_sql(self, stream: StreamSnapshot, schema: pa.Schema, prefix: str) -> str:
        """SQL for one stream: clean files read by DuckDB, the rest conformed in memory."""
        parts: list[str] = []
        files = [s for s in stream.segments if not needs_conform(s.schema, schema)]
        converted = [conform(s.read(), schema) for s in stream.segments if s not in files]
        if files:
            paths = ", ".join(_literal(str(s.path)) for s in files)
            parts.append(f"SELECT * FROM read_parquet([{paths}], union_by_name = true)")
        for table in [*converted, *(conform(t, schema) for t in stream.memory)] or [
            schema.empty_table()
        ]:
            name = f"__{prefix}_{len(self._registered)}"
            self._con.register(name, table)
            self._registered.append(name)
            parts.append(f"SELECT * FROM {name}")
        body = " UNION ALL BY NAME ".join(parts)
        cols = ", ".join(quote(n) for n in schema.names)
        return f"SELECT {cols} FROM ({body})"

    def _view_sql(self, snap: Snapshot) -> str:
        rows = self._stream_sql(snap.rows, snap.rows_schema, "rows")
        if not snap.has_annotations:
            return rows
        latest = self._latest(snap)
        name = f"__latest_{len(self._registered)}"
        self._con.register(name, latest)
        self._registered.append(name)
        select = []
        for f in snap.schema:
            col = quote(f.name)
            if f.name in snap.annotation_fields:
                ann = f"CAST(a.{col} AS {_sql_type(self, f.type)})"
                base = (
                    f"CAST(r.{col} AS {_sql_type(self, f.type)})"
                    if f.name in snap.rows_schema.names
                    else "NULL"
                )
                select.append(
                    f"CASE WHEN list_contains(a.__set, {_literal(f.name)}) THEN {ann} "
                    f"ELSE {base} END AS {col}"
                )
            else:
                select.append(f"r.{col}")
        return (
            f"SELECT {', '.join(select)} FROM ({rows}) AS r "
            f"LEFT JOIN {name} AS a ON CAST(r._id AS VARCHAR) = a.__key"
        )

    def _unregister(self) -> None:
        for name in self._registered:
            self._con.unregister(name)
        self._registered.clear()


def _sql_type(engine: QueryEngine, type_: pa.DataType) -> str:
    """DuckDB's name for an Arrow type (asked of DuckDB itself, so nested types work)."""
    probe = pa.table({"x": pa.nulls(0, type_)})
    return str(engine._con.from_arrow(probe).types[0])


def _ts_literal(value: dt.datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    return f"TIMESTAMPTZ '{value.isoformat()}'"


def _merge_annotations(engine: QueryEngine, snap: Snapshot, rows: pa.Table) -> pa.Table:
    """Apply the latest annotation per field to ``rows`` (order kept), then conform."""
    if not snap.has_annotations:
        return conform(rows, snap.schema) if rows.schema != snap.schema else rows
    latest = engine.latest_annotations(snap)
    keys = pc.cast(rows.column("_id"), pa.string())
    positions = pc.index_in(keys, value_set=latest.column("__key"))
    sets = latest.column("__set").take(positions)
    columns = []
    for f in snap.schema:
        base = rows.column(f.name) if f.name in rows.column_names else pa.nulls(len(rows), f.type)
        if f.name not in snap.annotation_fields:
            columns.append(conform(pa.table({f.name: base}), pa.schema([f])).column(0))
            continue
        target = pa.schema([f])
        values = conform(pa.table({f.name: latest.column(f.name).take(positions)}), target)
        base_conformed = conform(pa.table({f.name: base}), target)
        has = _list_has(sets, f.name)
        columns.append(pc.if_else(has, values.column(0), base_conformed.column(0)))
    return pa.Table.from_arrays(columns, schema=snap.schema)


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
