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

from ..query import choose_bucket
from ._columns import ColumnCache
from ._layout import ANNOTATION_META, TIMESTAMP_TYPE
from ._ranking import rank_window, stable_order
from ._schema import (
    conform,
    conform_column,
    logical_schema,
    merge_schemas,
    needs_conform,
    unify_types,
)
from ._segments import Segment
from ._stream import StreamSnapshot

__all__ = ["STATS", "QueryEngine", "Snapshot", "SortSpec"]

SortSpec = Sequence[tuple[str, Literal["asc", "desc"]]]
_BASE_SCHEMA = pa.schema(
    [("_id", pa.null()), ("_timestamp", TIMESTAMP_TYPE), ("_client_id", pa.string())]
)
"""Leading columns of every view; ``_id`` takes the type of the ids logged (int or text)."""

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
        rows = merge_schemas([_BASE_SCHEMA, *_stored(self.rows), *self._memory(self.rows)])
        if pa.types.is_null(rows.field("_id").type):  # no row yet: ids are text by default
            rows = rows.set(rows.get_field_index("_id"), pa.field("_id", pa.string()))
        self.rows_schema = rows
        self.ann_schema = merge_schemas(
            [*_stored(self.annotations), *self._memory(self.annotations)]
        )
        merged = dict(zip(self.rows_schema.names, self.rows_schema.types, strict=True))
        metadata = {f.name: f.metadata for f in self.rows_schema}
        for name in self.annotation_fields:
            ann_type = self.ann_schema.field(name).type
            merged[name] = unify_types(merged[name], ann_type) if name in merged else ann_type
        self.schema = pa.schema(
            [pa.field(n, t, metadata=metadata.get(n)) for n, t in merged.items()]
        )

    @staticmethod
    def _memory(stream: StreamSnapshot) -> list[pa.Schema]:
        return [t.schema for t in stream.memory]

    @property
    def annotation_fields(self) -> list[str]:
        """Fields set by annotations (columns of the annotation stream that are data)."""
        return [n for n in self.ann_schema.names if n not in ANNOTATION_META]

    def time_span(self) -> tuple[dt.datetime | None, dt.datetime | None] | None:
        """First and last ``_timestamp`` without scanning, or ``None`` if a footer lacks them."""
        lows, highs = [], []
        for segment in self.rows.segments:
            if segment.time_range is None:
                return None
            lows.append(segment.time_range[0])
            highs.append(segment.time_range[1])
        for table in self.rows.memory:
            bounds = pc.min_max(table.column("_timestamp"))
            if bounds["min"].is_valid:
                lows.append(bounds["min"].as_py())
                highs.append(bounds["max"].as_py())
        return (min(lows), max(highs)) if lows else (None, None)

    @property
    def annotations_key(self) -> tuple[Any, ...]:
        """Identifies the annotation data of this snapshot (segments are immutable)."""
        return (
            tuple(s.name for s in self.annotations.segments),
            tuple(id(t) for t in self.annotations.memory),
            self.annotations.num_rows,
        )

    @property
    def has_annotations(self) -> bool:
        """Whether any annotation exists."""
        return self.annotations.num_rows > 0


def _stored(stream: StreamSnapshot) -> list[pa.Schema]:
    """The committed files' schema as readers see it (from the Delta log, no footer read)."""
    if stream.schema is not None:
        return [logical_schema(stream.schema)]
    return [s.schema for s in stream.segments]


class QueryEngine:
    """DuckDB connection of one table; every call holds its lock for its duration."""

    def __init__(self) -> None:
        self._cache = ColumnCache()
        self._connection: duckdb.DuckDBPyConnection | None = None
        self._lock = threading.RLock()
        self._registered: list[str] = []
        self._latest_cache: tuple[tuple[Any, ...], pa.Table] | None = None

    @property
    def _con(self) -> duckdb.DuckDBPyConnection:
        # Opened on first use: plain windows never need it, and it costs ~40 MB.
        if self._connection is None:
            self._connection = duckdb.connect(":memory:")
            self._connection.execute("SET TimeZone = 'UTC'")
        return self._connection

    def close(self) -> None:
        """Release the connection."""
        with self._lock:
            if self._connection is not None:
                self._connection.close()

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
        """Rows ``[offset, offset + limit)`` of the merged view, sorted and filtered.

        Unsorted and unfiltered: read from the segments that hold the rows. With
        a filter, DuckDB finds the matching positions; with a sort, the key
        column (cached per immutable segment) is ranked without a full sort;
        then only the rows of the window are fetched.
        """
        if offset < 0 or limit < 0:
            raise ValueError(f"offset and limit must be >= 0, got offset={offset}, limit={limit}")
        names = self._columns(snap, columns)
        if not sort and not filter:
            table = self._slice(snap, offset, limit)
            return _merge_annotations(self, snap, table).select(names)
        if sort:
            _check_sort(snap, sort)
        top = self._top(snap, list(sort), offset, limit) if sort and not filter else None
        base = self._filtered_positions(snap, filter) if filter else None
        if top is not None:
            positions = top
        elif sort:
            page = self._rank(snap, list(sort), base, offset, limit)
            positions = base[page] if base is not None else page
        else:
            assert base is not None
            positions = base[offset : offset + limit]
        rows = self._take(snap, positions)
        return _merge_annotations(self, snap, rows).select(names)

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
            known = None if conditions else snap.time_span()
            if known is None:
                span = self.sql(snap, f"SELECT min(_timestamp), max(_timestamp) FROM t {where}")
                known = (span.column(0)[0].as_py(), span.column(1)[0].as_py())
            lo, hi = known
            every = choose_bucket(
                (hi - lo) if lo is not None and hi is not None else dt.timedelta()
            )
        micros = every // dt.timedelta(microseconds=1)
        if micros <= 0:
            raise ValueError(f"every= must be a positive duration, got {every}")
        bucket = f"time_bucket(INTERVAL '{micros} microseconds', _timestamp) AS bucket"
        group = f", {quote(group_by)}" if group_by else ""
        values = ", ".join(STATS[s].format(x=f"({column})") + f" AS {quote(s)}" for s in stats)
        sql = f"SELECT {bucket}{group}, {values} FROM t {where} GROUP BY ALL ORDER BY bucket{group}"
        result = self.sql(snap, sql)
        meta = {b"every_seconds": str(every.total_seconds()).encode()}
        return result.replace_schema_metadata(meta)

    def sql(self, snap: Snapshot, query: str, *, positions: bool = False) -> pa.Table:
        """Run DuckDB SQL in which the merged view is the relation ``t``.

        With ``positions``, the view ``__weave_nb_view`` is ``t`` plus each row's
        position in log order, ``__weave_nb_pos``. Only then are files read one by
        one with their row numbers: a query over ``t`` alone reads them as one list,
        which DuckDB scans about twice as fast.
        """
        with self._lock:
            try:
                if positions:
                    self._con.execute(
                        "CREATE OR REPLACE TEMP VIEW __weave_nb_view AS "
                        + self._view_sql(snap, positions=True)
                    )
                    self._con.execute(
                        "CREATE OR REPLACE TEMP VIEW t AS "
                        "SELECT * EXCLUDE (__weave_nb_pos) FROM __weave_nb_view"
                    )
                else:
                    self._con.execute(
                        f"CREATE OR REPLACE TEMP VIEW t AS {self._view_sql(snap, positions=False)}"
                    )
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
            key = snap.annotations_key
            if self._latest_cache is not None and self._latest_cache[0] == key:
                return self._latest_cache[1]
            mark = len(self._registered)
            try:
                latest = self._latest(snap)
            finally:
                self._unregister(mark)
            self._latest_cache = (key, latest)
            return latest

    def _latest(self, snap: Snapshot) -> pa.Table:
        fields = snap.annotation_fields
        # arg_max_null, not arg_max: a latest value of None must win (it clears the field).
        parts = [
            f"arg_max_null({quote(f)}, _timestamp)"
            f" FILTER (WHERE list_contains(_fields, {_literal(f)}))"
            f" AS {quote(f)}"
            for f in fields
        ]
        select = ", ".join(
            [
                "CAST(_target_id AS VARCHAR) AS __key",
                "list_distinct(flatten(list(_fields))) AS __set",
                *parts,
            ]
        )
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

    def _rank(
        self,
        snap: Snapshot,
        sort: list[tuple[str, Literal["asc", "desc"]]],
        base: np.ndarray[Any, Any] | None,
        offset: int,
        limit: int,
    ) -> np.ndarray[Any, Any]:
        keys = {name: self._column(snap, name) for name, _ in sort}
        if base is not None:
            keys = {name: column.take(_indices(base)) for name, column in keys.items()}
        if len(sort) == 1:
            ((name, direction),) = sort
            return rank_window(keys[name], offset, limit, direction, name=name)
        return stable_order(pa.table(keys), sort)[offset : offset + limit]

    def _top(
        self,
        snap: Snapshot,
        sort: list[tuple[str, Literal["asc", "desc"]]],
        offset: int,
        limit: int,
    ) -> np.ndarray[Any, Any] | None:
        """Positions of the ranks ``[offset, offset + limit)`` of a window near the top
        of a one-key sort, found by DuckDB without reading the key column whole;
        ``None`` where this does not apply (the caller ranks the cached column).

        The same order as ``rank_window`` (ties in log order, nulls and NaN last),
        in three steps that let DuckDB skip row groups by their min/max: the value
        at the window's last rank (a top-N without the tie-break, which DuckDB
        prunes as it goes), the rows strictly before it, and then the rows equal to
        it in log order, source by source until enough are found. A column of few
        distinct values — where a tie-break by position would otherwise make DuckDB
        scan every row — usually needs its first source only.
        """
        stop = min(offset + limit, snap.rows.num_rows)
        if len(sort) != 1 or offset >= stop or stop > _TOP_RANKS:
            return None
        ((name, direction),) = sort
        type_ = snap.schema.field(name).type
        if name in snap.annotation_fields or not _prunable(type_):
            return None
        key = quote(name)
        usable = f"{key} IS NOT NULL"
        if pa.types.is_floating(type_):  # DuckDB orders NaN above every number
            usable += f" AND NOT isnan({key})"
        order, before = ("DESC", ">") if direction == "desc" else ("ASC", "<")
        with self._lock:
            mark = len(self._registered)
            try:
                values = self._stream_sql(snap.rows, snap.rows_schema, "top")
                found = self._con.execute(
                    f"SELECT {key} FROM ({values}) WHERE {usable} "
                    f"ORDER BY {key} {order} LIMIT {stop}"
                ).fetchall()
                if len(found) < stop:  # nulls or NaN reach into the window: rank as usual
                    return None
                threshold = found[-1][0]
                ahead = []
                if found[0][0] != threshold:  # else every row of the window is a tie
                    ranked = self._stream_sql(snap.rows, snap.rows_schema, "top", positions=True)
                    ahead = self._con.execute(
                        f"SELECT __weave_nb_pos FROM ({ranked}) "
                        f"WHERE {usable} AND {key} {before} ? "
                        f"ORDER BY {key} {order}, __weave_nb_pos",
                        [threshold],
                    ).fetchall()
                ties = self._ties(snap, name, threshold, stop - len(ahead))
            except duckdb.Error as error:
                raise ValueError(f"query failed: {error}") from None
            finally:
                self._unregister(mark)
        positions = np.array([p for (p,) in ahead], dtype=np.int64)
        return np.concatenate([positions, ties])[offset:stop]

    def _ties(self, snap: Snapshot, name: str, value: Any, wanted: int) -> np.ndarray[Any, Any]:
        """Positions of the first ``wanted`` rows (log order) whose ``name`` equals ``value``."""
        want = snap.schema.field(name).type
        found: list[np.ndarray[Any, Any]] = []
        start = 0
        for source in [*snap.rows.segments, *snap.rows.memory]:
            if wanted <= 0:
                break
            if isinstance(source, Segment) and _reads_as_is(source, snap.rows_schema):
                # No ORDER BY: DuckDB keeps a file's row order (preserve_insertion_order is
                # on by default) and can stop at the LIMIT, where a sort would scan the file.
                local = self._con.execute(
                    f"SELECT file_row_number FROM read_parquet({_literal(str(source.path))}, "
                    f"file_row_number = true) WHERE {quote(name)} = ? LIMIT {wanted}",
                    [value],
                ).fetchall()
                hits = np.sort(np.array([r for (r,) in local], dtype=np.int64))
            else:
                if isinstance(source, Segment):
                    column = self._cache.column(source, name, want)
                elif name in source.column_names:
                    column = conform_column(source.column(name), want)
                else:
                    column = pa.chunked_array([pa.nulls(source.num_rows, want)])
                equal = pc.fill_null(pc.equal(column, pa.scalar(value, want)), False)
                hits = np.flatnonzero(np.asarray(equal.to_numpy(zero_copy_only=False)))[:wanted]
            found.append(hits + start)
            wanted -= len(hits)
            start += source.num_rows
        return np.concatenate(found) if found else np.empty(0, dtype=np.int64)

    def _column(self, snap: Snapshot, name: str) -> pa.ChunkedArray:
        """One column of the merged view, whole, in log order (cached per segment)."""
        want = snap.schema.field(name).type
        chunks = []
        for segment in snap.rows.segments:
            chunks.extend(self._cache.column(segment, name, want).chunks)
        for table in snap.rows.memory:
            column = (
                table.column(name) if name in table.column_names else pa.nulls(len(table), want)
            )
            chunks.extend(conform_column(column, want).chunks)
        column = pa.chunked_array(chunks, type=want)
        if name in snap.annotation_fields:
            ids = pa.chunked_array(
                [c for s in snap.rows.segments for c in self._cache.column(s, "_id", None).chunks]
                + [c for t in snap.rows.memory for c in t.column("_id").chunks]
            )
            merged = _merge_annotations(self, snap, pa.table({"_id": ids, name: column}), [name])
            column = merged.column(0)
        return column

    def _filtered_positions(self, snap: Snapshot, filter: str) -> np.ndarray[Any, Any]:
        """Positions (in log order) of the rows matching ``filter``."""
        result = self.sql(
            snap,
            f"SELECT __weave_nb_pos FROM __weave_nb_view WHERE ({filter}) ORDER BY __weave_nb_pos",
            positions=True,
        )
        return np.asarray(result.column(0).to_numpy(), dtype=np.int64)

    def _take(self, snap: Snapshot, positions: np.ndarray[Any, Any]) -> pa.Table:
        """Rows at ``positions`` (any order) of the unannotated rows, conformed."""
        sources: list[Any] = [*snap.rows.segments, *snap.rows.memory]
        if len(positions) == 0 or not sources:
            return snap.rows_schema.empty_table()
        ends = np.cumsum([s.num_rows for s in sources])
        which = np.searchsorted(ends, positions, side="right")
        touched = np.unique(which)
        segments = [s for s in (sources[i] for i in touched) if isinstance(s, Segment)]
        # Decoded whole, the segments serve later windows of a sorted view with a `take`;
        # the first request asks DuckDB for just its rows while they decode in the background.
        cached = self._cache.fits(segments) and self._cache.holds(segments)
        if not cached and self._cache.fits(segments):
            self._cache.warm(segments)
        pieces, order = [], []
        for i in touched:
            picked = np.flatnonzero(which == i)
            local = positions[picked] - (ends[i] - sources[i].num_rows)
            source = sources[i]
            if isinstance(source, pa.Table):
                piece = source.take(_indices(local))
            else:
                piece = self._fetch_rows(source, local, cached)
            pieces.append(conform(piece, snap.rows_schema))
            order.append(picked)
        table = pa.concat_tables(pieces)
        return table.take(_indices(np.argsort(np.concatenate(order), kind="stable")))

    def _fetch_rows(self, segment: Segment, local: np.ndarray[Any, Any], cached: bool) -> pa.Table:
        """Rows of one segment by row number.

        With ``cached`` (the segment is decoded in the column cache), a ``take``;
        otherwise DuckDB decodes only the pages holding the rows.
        """
        if cached or _ROW_NUMBER in segment.schema.names:
            names = logical_schema(segment.schema).names
            columns = {n: self._cache.column(segment, n, None) for n in names}
            return pa.table(columns).take(_indices(local))
        wanted = np.unique(local)
        listed = ", ".join(map(str, wanted.tolist()))
        with self._lock:
            try:
                fetched = self._con.sql(
                    f"SELECT * FROM read_parquet({_literal(str(segment.path))}, "
                    f"file_row_number = true) "
                    f"WHERE file_row_number IN ({listed}) ORDER BY file_row_number"
                ).to_arrow_table()
            except duckdb.IOException as error:  # e.g. compacted away: the caller may retry
                raise OSError(f"cannot read segment {segment.path}: {error}") from None
        fetched = fetched.drop_columns(["file_row_number"])
        return fetched.take(_indices(np.searchsorted(wanted, local)))

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

    def _stream_sql(
        self, stream: StreamSnapshot, schema: pa.Schema, prefix: str, positions: bool = False
    ) -> str:
        """SQL for one stream: clean files read by DuckDB, the rest conformed in memory.

        With ``positions``, each row also gets ``__weave_nb_pos``, its index in log order.
        """
        parts: list[str] = []
        start = 0
        tables: list[tuple[pa.Table, int]] = []
        files: list[tuple[Segment, int]] = []
        for segment in stream.segments:
            if _reads_as_is(segment, schema):
                files.append((segment, start))
            else:
                tables.append((conform(segment.read(), schema), start))
            start += segment.num_rows
        for table in stream.memory:
            tables.append((conform(table, schema), start))
            start += table.num_rows
        if positions:
            parts.extend(
                f"SELECT * EXCLUDE (file_row_number), file_row_number + {first} AS __weave_nb_pos "
                f"FROM read_parquet({_literal(str(s.path))}, file_row_number = true)"
                for s, first in files
            )
        elif files:
            paths = ", ".join(_literal(str(s.path)) for s, _ in files)
            parts.append(f"SELECT * FROM read_parquet([{paths}], union_by_name = true)")
        if not tables and not parts:
            tables.append((schema.empty_table(), 0))
        for table, first in tables:
            if positions:
                table = table.append_column(
                    "__weave_nb_pos",
                    _indices(np.arange(first, first + table.num_rows)),
                )
            name = f"__{prefix}_{len(self._registered)}"
            self._con.register(name, table)
            self._registered.append(name)
            parts.append(f"SELECT * FROM {name}")
        body = " UNION ALL BY NAME ".join(parts)
        cols = ", ".join(
            quote(n) for n in [*schema.names, *(["__weave_nb_pos"] if positions else [])]
        )
        return f"SELECT {cols} FROM ({body})"

    def _view_sql(self, snap: Snapshot, *, positions: bool) -> str:
        """The merged view; with ``positions``, plus a ``__weave_nb_pos`` column (log order)."""
        rows = self._stream_sql(snap.rows, snap.rows_schema, "rows", positions=positions)
        if not snap.has_annotations:
            return rows
        latest = self.latest_annotations(snap)
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
        if positions:
            select.append("r.__weave_nb_pos")
        return (
            f"SELECT {', '.join(select)} FROM ({rows}) AS r "
            f"LEFT JOIN {name} AS a ON CAST(r._id AS VARCHAR) = a.__key"
        )

    def _unregister(self, mark: int = 0) -> None:
        """Drop the Arrow tables registered since ``mark``."""
        for name in self._registered[mark:]:
            self._con.unregister(name)
        del self._registered[mark:]


_ROW_NUMBER = "file_row_number"

_TOP_RANKS = 10_000
"""Sorted windows ending within this rank are found by ``QueryEngine._top``; deeper ones
rank the key column, whose cost does not grow with the offset."""


def _indices(values: np.ndarray[Any, Any]) -> pa.Array:
    """Integers as an int64 Arrow array.

    Not ``pa.array()``: on a numpy array it imports pandas first (0.3-0.6 s in a
    process that has not), which the first sorted window would pay. Copied into
    memory Arrow owns rather than wrapping the numpy array, so that releasing it
    never needs the GIL (DuckDB may release a registered table from its own threads).
    """
    buffer = pa.allocate_buffer(len(values) * 8)
    np.frombuffer(buffer, dtype=np.int64)[:] = values
    return pa.Array.from_buffers(pa.int64(), len(values), [None, buffer])


def _check_sort(snap: Snapshot, sort: SortSpec) -> None:
    for name, direction in sort:
        if name not in snap.schema.names:
            raise KeyError(f"cannot sort by {name!r}: no such column")
        if direction not in ("asc", "desc"):
            raise ValueError(f"sort direction must be 'asc' or 'desc', got {direction!r}")


def _reads_as_is(segment: Segment, schema: pa.Schema) -> bool:
    """Whether DuckDB can read ``segment`` as the view's rows, by its file and row numbers."""
    # A logged column named like DuckDB's row-number option cannot be read with it.
    return not needs_conform(segment.schema, schema) and _ROW_NUMBER not in segment.schema.names


def _prunable(type_: pa.DataType) -> bool:
    """Key types DuckDB compares as ``rank_window`` / ``stable_order`` order them."""
    return bool(
        pa.types.is_integer(type_)
        or pa.types.is_floating(type_)
        or pa.types.is_boolean(type_)
        or pa.types.is_string(type_)
        or pa.types.is_large_string(type_)
        or pa.types.is_timestamp(type_)
        or pa.types.is_date32(type_)
    )


def _sql_type(engine: QueryEngine, type_: pa.DataType) -> str:
    """DuckDB's name for an Arrow type (asked of DuckDB itself, so nested types work)."""
    probe = pa.table({"x": pa.nulls(0, type_)})
    return str(engine._con.from_arrow(probe).types[0])


def _ts_literal(value: dt.datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    return f"TIMESTAMPTZ '{value.isoformat()}'"


def _merge_annotations(
    engine: QueryEngine, snap: Snapshot, rows: pa.Table, names: Sequence[str] | None = None
) -> pa.Table:
    """Apply the latest annotation per field to ``rows`` (order kept), conformed.

    The result has the columns ``names`` (default: the whole merged schema).
    """
    target = pa.schema([snap.schema.field(n) for n in (names or snap.schema.names)])
    if not snap.has_annotations:
        return conform(rows, target)
    latest = engine.latest_annotations(snap)
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
