"""Windows of the merged view: rows ``[offset, offset + limit)``, sorted and filtered.

Unsorted, unfiltered windows are served straight from the segments that hold
them (row-group reads, no scan). With a filter, DuckDB finds the matching
positions; with a sort, the key column (cached per immutable segment) is ranked
without a full sort, or DuckDB finds a window near the top by pruning row
groups; then only the rows of the window are fetched.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..query import literal, quote_ident
from ._annotated import merge_annotations
from ._columns import ColumnCache
from ._engine import ROW_NUMBER, QueryEngine, indices, reads_as_is
from ._ranking import rank_window, stable_order
from ._schema import conform, conform_column, logical_schema
from ._segments import Segment
from ._snapshot import Snapshot

__all__ = ["SortSpec", "WindowReader"]

SortSpec = Sequence[tuple[str, Literal["asc", "desc"]]]
_Sort = list[tuple[str, Literal["asc", "desc"]]]

_TOP_RANKS = 10_000
"""Sorted windows ending within this rank are found by ``WindowReader._top``; deeper ones
rank the key column, whose cost does not grow with the offset."""


class WindowReader:
    """Reads windows of one table's merged view (key columns cached across requests)."""

    def __init__(self, engine: QueryEngine) -> None:
        self._engine = engine
        self._cache = ColumnCache()

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
        names = _columns(snap, columns)
        if not sort and not filter:
            table = self._slice(snap, offset, limit)
            return self._merged(snap, table).select(names)
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
        rows = self._take(snap, positions, warm=top is None)
        return self._merged(snap, rows).select(names)

    def read_all(self, snap: Snapshot) -> pa.Table:
        """The whole merged view in log order (for ``to_arrow``)."""
        return self._merged(snap, self._slice(snap, 0, snap.rows.num_rows))

    def _merged(
        self, snap: Snapshot, rows: pa.Table, names: Sequence[str] | None = None
    ) -> pa.Table:
        return merge_annotations(snap, rows, self._engine.latest_annotations(snap), names)

    # -- sorted windows ---------------------------------------------------------------

    def _rank(
        self,
        snap: Snapshot,
        sort: _Sort,
        base: np.ndarray[Any, Any] | None,
        offset: int,
        limit: int,
    ) -> np.ndarray[Any, Any]:
        keys = {name: self._column(snap, name) for name, _ in sort}
        if base is not None:
            keys = {name: column.take(indices(base)) for name, column in keys.items()}
        if len(sort) == 1:
            ((name, direction),) = sort
            return rank_window(keys[name], offset, limit, direction, name=name)
        return stable_order(pa.table(keys), sort)[offset : offset + limit]

    def _top(
        self, snap: Snapshot, sort: _Sort, offset: int, limit: int
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
        key = quote_ident(name)
        usable = f"{key} IS NOT NULL"
        if pa.types.is_floating(type_):  # DuckDB orders NaN above every number
            usable += f" AND NOT isnan({key})"
        order, before = ("DESC", ">") if direction == "desc" else ("ASC", "<")
        engine = self._engine
        with engine.connection() as con:
            try:
                values = engine.stream_sql(snap.rows, snap.rows_schema, "top")
                found = con.execute(
                    f"SELECT {key} FROM ({values}) WHERE {usable} "
                    f"ORDER BY {key} {order} LIMIT {stop}"
                ).fetchall()
                if len(found) < stop:  # nulls or NaN reach into the window: rank as usual
                    return None
                threshold = found[-1][0]
                ahead = []
                if found[0][0] != threshold:  # else every row of the window is a tie
                    ranked = engine.stream_sql(snap.rows, snap.rows_schema, "top", positions=True)
                    ahead = con.execute(
                        f"SELECT __weave_nb_pos FROM ({ranked}) "
                        f"WHERE {usable} AND {key} {before} ? "
                        f"ORDER BY {key} {order}, __weave_nb_pos",
                        [threshold],
                    ).fetchall()
                ties = self._ties(con, snap, name, threshold, stop - len(ahead))
            except duckdb.Error as error:
                raise ValueError(f"query failed: {error}") from None
        positions = np.array([p for (p,) in ahead], dtype=np.int64)
        return np.concatenate([positions, ties])[offset:stop]

    def _ties(
        self, con: duckdb.DuckDBPyConnection, snap: Snapshot, name: str, value: Any, wanted: int
    ) -> np.ndarray[Any, Any]:
        """Positions of the first ``wanted`` rows (log order) whose ``name`` equals ``value``."""
        want = snap.schema.field(name).type
        found: list[np.ndarray[Any, Any]] = []
        start = 0
        for source in [*snap.rows.segments, *snap.rows.memory]:
            if wanted <= 0:
                break
            if isinstance(source, Segment) and reads_as_is(source, snap.rows_schema):
                # No ORDER BY: DuckDB keeps a file's row order (preserve_insertion_order is
                # on by default) and can stop at the LIMIT, where a sort would scan the file.
                local = con.execute(
                    f"SELECT {ROW_NUMBER} FROM read_parquet({literal(str(source.path))}, "
                    f"{ROW_NUMBER} = true) WHERE {quote_ident(name)} = ? LIMIT {wanted}",
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
            merged = self._merged(snap, pa.table({"_id": ids, name: column}), [name])
            column = merged.column(0)
        return column

    # -- rows by position ---------------------------------------------------------------

    def _filtered_positions(self, snap: Snapshot, filter: str) -> np.ndarray[Any, Any]:
        """Positions (in log order) of the rows matching ``filter``."""
        result = self._engine.sql(
            snap,
            f"SELECT __weave_nb_pos FROM __weave_nb_view WHERE ({filter}) ORDER BY __weave_nb_pos",
            positions=True,
        )
        return np.asarray(result.column(0).to_numpy(), dtype=np.int64)

    def _take(self, snap: Snapshot, positions: np.ndarray[Any, Any], warm: bool) -> pa.Table:
        """Rows at ``positions`` (any order) of the unannotated rows, conformed.

        With ``warm``, the segments they are in are decoded whole in the background
        (if they fit the cache), for the next windows of the same view. Windows near
        the top of a sort do not warm: each asks DuckDB for its ranks anyway, and on
        two cores a decoding under way slows the next one more than a ``take`` saves.
        """
        sources: list[Any] = [*snap.rows.segments, *snap.rows.memory]
        if len(positions) == 0 or not sources:
            return snap.rows_schema.empty_table()
        ends = np.cumsum([s.num_rows for s in sources])
        which = np.searchsorted(ends, positions, side="right")
        touched = _distinct(which)
        segments = [s for s in (sources[i] for i in touched) if isinstance(s, Segment)]
        # Decoded whole, the segments serve later windows of a sorted view with a `take`;
        # the first request asks DuckDB for just its rows while they decode in the background.
        cached = self._cache.fits(segments) and self._cache.holds(segments)
        if warm and not cached and self._cache.fits(segments):
            self._cache.warm(segments)
        pieces, order = [], []
        for i in touched:
            picked = np.flatnonzero(which == i)
            local = positions[picked] - (ends[i] - sources[i].num_rows)
            source = sources[i]
            if isinstance(source, pa.Table):
                piece = source.take(indices(local))
            else:
                piece = self._fetch_rows(source, local, cached)
            pieces.append(conform(piece, snap.rows_schema))
            order.append(picked)
        table = pa.concat_tables(pieces)
        return table.take(indices(np.argsort(np.concatenate(order), kind="stable")))

    def _fetch_rows(self, segment: Segment, local: np.ndarray[Any, Any], cached: bool) -> pa.Table:
        """Rows of one segment by row number.

        With ``cached`` (the segment is decoded in the column cache), a ``take``;
        otherwise DuckDB decodes only the pages holding the rows.
        """
        if cached or ROW_NUMBER in segment.schema.names:
            names = logical_schema(segment.schema).names
            columns = {n: self._cache.column(segment, n, None) for n in names}
            return pa.table(columns).take(indices(local))
        wanted = _distinct(local)
        listed = ", ".join(map(str, wanted.tolist()))
        with self._engine.connection() as con:
            try:
                fetched = con.sql(
                    f"SELECT * FROM read_parquet({literal(str(segment.path))}, "
                    f"{ROW_NUMBER} = true) "
                    f"WHERE {ROW_NUMBER} IN ({listed}) ORDER BY {ROW_NUMBER}"
                ).to_arrow_table()
            except duckdb.IOException as error:  # e.g. compacted away: the caller may retry
                raise OSError(f"cannot read segment {segment.path}: {error}") from None
        fetched = fetched.drop_columns([ROW_NUMBER])
        return fetched.take(indices(np.searchsorted(wanted, local)))

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


def _columns(snap: Snapshot, columns: Sequence[str] | None) -> list[str]:
    if columns is None:
        return list(snap.schema.names)
    missing = [c for c in columns if c not in snap.schema.names]
    if missing:
        raise KeyError(f"no column(s) {missing}; the table has {snap.schema.names}")
    return list(columns)


def _check_sort(snap: Snapshot, sort: SortSpec) -> None:
    for name, direction in sort:
        if name not in snap.schema.names:
            raise KeyError(f"cannot sort by {name!r}: no such column")
        if direction not in ("asc", "desc"):
            raise ValueError(f"sort direction must be 'asc' or 'desc', got {direction!r}")


def _distinct(values: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """The sorted distinct values (``np.unique`` imports ``numpy.ma`` on first use: ~15 ms)."""
    ordered = np.sort(values)
    first = np.ones(len(ordered), dtype=bool)
    first[1:] = ordered[1:] != ordered[:-1]
    return ordered[first]


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
