"""The DuckDB connection of one table, over which the merged view is the relation ``t``.

Every table of a process queries one in-memory DuckDB database, each through
its own cursor (a connection of its own: registered tables, temporary views and
settings stay the table's), because opening a database costs ~15 ms, each
time, where a cursor costs microseconds: a table's first sorted window paid it.
A forked child opens a database of its own and never touches, nor frees, the
parent's.

DuckDB scans the committed Parquet files itself (projection and predicate
push-down); only files that need converting, and rows still in memory, are
handed over as registered Arrow tables, which are dropped when the query ends.
Nothing is materialised in pandas and the table is never copied per request.
"""

from __future__ import annotations

import os
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa

from ..query import literal, quote_ident
from ._annotated import latest_sql, view_sql
from ._schema import conform, needs_conform
from ._segments import Segment
from ._snapshot import Snapshot
from ._stream import StreamSnapshot

__all__ = ["ROW_NUMBER", "QueryEngine", "indices", "reads_as_is"]

ROW_NUMBER = "file_row_number"
"""DuckDB's ``read_parquet`` option, and the column it adds: a row's number in its file."""


_database: duckdb.DuckDBPyConnection | None = None
_database_lock = threading.Lock()
_engines: weakref.WeakSet[QueryEngine] = weakref.WeakSet()
_inherited: list[duckdb.DuckDBPyConnection] = []
"""A forked child's copies of the parent's connections, kept so that they are never freed:
freeing one would wait on locks and threads of the parent's DuckDB, which the child lacks."""


def _cursor() -> duckdb.DuckDBPyConnection:
    """A new connection to this process's database (opened on first use)."""
    global _database
    with _database_lock:
        if _database is None:
            _database = duckdb.connect(":memory:")
            _database.execute("SET GLOBAL TimeZone = 'UTC'")
        return _database.cursor()


def _after_fork_in_child() -> None:
    global _database, _database_lock
    _database_lock = threading.Lock()
    if _database is not None:
        _inherited.append(_database)
        _database = None
    for engine in list(_engines):
        engine._abandon()


# Registered when this module is imported, so before the tables' own hook (``_table``
# imports this module first), which replaces each table's engine: the parent's
# cursors must be set aside before that would free them.
os.register_at_fork(after_in_child=_after_fork_in_child)


class QueryEngine:
    """DuckDB connection of one table; every call holds its lock for its duration."""

    def __init__(self) -> None:
        self._connection: duckdb.DuckDBPyConnection | None = None
        self._lock = threading.RLock()
        self._registered: list[str] = []
        self._latest_cache: tuple[tuple[Any, ...], pa.Table] | None = None
        _engines.add(self)

    @property
    def _con(self) -> duckdb.DuckDBPyConnection:
        # Opened on first use: plain windows never need it.
        if self._connection is None:
            self._connection = _cursor()
        return self._connection

    def close(self) -> None:
        """Release the connection (the database stays, for the process's other tables)."""
        with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None

    def _abandon(self) -> None:
        """In a forked child: set the parent's connection aside; the next query opens one."""
        self._lock = threading.RLock()
        if self._connection is not None:
            _inherited.append(self._connection)
            self._connection = None
        self._registered.clear()

    @contextmanager
    def connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """The connection, locked; Arrow tables registered meanwhile are dropped after."""
        with self._lock:
            mark = len(self._registered)
            try:
                yield self._con
            finally:
                self._unregister(mark)

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

    def latest_annotations(self, snap: Snapshot) -> pa.Table | None:
        """Per target key: the latest value of each field, and the set of fields ever set.

        ``None`` when the snapshot has no annotation.
        """
        if not snap.has_annotations:
            return None
        with self._lock:
            key = snap.annotations_key
            if self._latest_cache is not None and self._latest_cache[0] == key:
                return self._latest_cache[1]
            mark = len(self._registered)
            try:
                source = self.stream_sql(snap.annotations, snap.ann_schema, "ann")
                query = latest_sql(snap.annotation_fields, source)
                latest = self._con.sql(query).to_arrow_table()
            finally:
                self._unregister(mark)
            self._latest_cache = (key, latest)
            return latest

    def stream_sql(
        self, stream: StreamSnapshot, schema: pa.Schema, prefix: str, positions: bool = False
    ) -> str:
        """SQL for one stream: clean files read by DuckDB, the rest conformed in memory.

        With ``positions``, each row also gets ``__weave_nb_pos``, its index in log
        order. Call it inside ``connection()`` (or ``sql``), which drops what it registers.
        """
        parts: list[str] = []
        start = 0
        tables: list[tuple[pa.Table, int]] = []
        files: list[tuple[Segment, int]] = []
        for segment in stream.segments:
            if reads_as_is(segment, schema):
                files.append((segment, start))
            else:
                tables.append((conform(segment.read(), schema), start))
            start += segment.num_rows
        for table in stream.memory:
            tables.append((conform(table, schema), start))
            start += table.num_rows
        if positions:
            parts.extend(
                f"SELECT * EXCLUDE ({ROW_NUMBER}), {ROW_NUMBER} + {first} AS __weave_nb_pos "
                f"FROM read_parquet({literal(str(s.path))}, {ROW_NUMBER} = true)"
                for s, first in files
            )
        elif files:
            paths = ", ".join(literal(str(s.path)) for s, _ in files)
            first = files[0][0].footer.schema
            # Files of one schema need no union by name, which reads every footer before
            # the scan starts (a third of a top-100 query that prunes all but one file).
            same = all(s.footer.schema.equals(first) for s, _ in files[1:])
            union = "" if same else ", union_by_name = true"
            parts.append(f"SELECT * FROM read_parquet([{paths}]{union})")
        if not tables and not parts:
            tables.append((schema.empty_table(), 0))
        for table, first in tables:
            if positions:
                table = table.append_column(
                    "__weave_nb_pos",
                    indices(np.arange(first, first + table.num_rows)),
                )
            parts.append(f"SELECT * FROM {self._register(prefix, table)}")
        body = " UNION ALL BY NAME ".join(parts)
        cols = ", ".join(
            quote_ident(n) for n in [*schema.names, *(["__weave_nb_pos"] if positions else [])]
        )
        return f"SELECT {cols} FROM ({body})"

    def _view_sql(self, snap: Snapshot, *, positions: bool) -> str:
        """The merged view; with ``positions``, plus a ``__weave_nb_pos`` column (log order)."""
        rows = self.stream_sql(snap.rows, snap.rows_schema, "rows", positions=positions)
        latest = self.latest_annotations(snap)
        if latest is None:
            return rows
        name = self._register("latest", latest)
        return view_sql(snap, rows, name, self._sql_type, positions=positions)

    def _sql_type(self, type_: pa.DataType) -> str:
        """DuckDB's name for an Arrow type (asked of DuckDB itself, so nested types work)."""
        probe = pa.table({"x": pa.nulls(0, type_)})
        return str(self._con.from_arrow(probe).types[0])

    def _register(self, prefix: str, table: pa.Table) -> str:
        """Hand ``table`` to DuckDB under a fresh name (dropped by ``_unregister``)."""
        name = f"__{prefix}_{len(self._registered)}"
        self._con.register(name, table)
        self._registered.append(name)
        return name

    def _unregister(self, mark: int = 0) -> None:
        """Drop the Arrow tables registered since ``mark``."""
        for name in self._registered[mark:]:
            self._con.unregister(name)
        del self._registered[mark:]


def reads_as_is(segment: Segment, schema: pa.Schema) -> bool:
    """Whether DuckDB can read ``segment`` as the view's rows, by its file and row numbers."""
    # A logged column named like DuckDB's row-number option cannot be read with it.
    return not needs_conform(segment.schema, schema) and ROW_NUMBER not in segment.schema.names


def indices(values: np.ndarray[Any, Any]) -> pa.Array:
    """Integers as an int64 Arrow array.

    Not ``pa.array()``: on a numpy array it imports pandas first (0.3-0.6 s in a
    process that has not), which the first sorted window would pay. Copied into
    memory Arrow owns rather than wrapping the numpy array, so that releasing it
    never needs the GIL (DuckDB may release a registered table from its own threads).
    """
    buffer = pa.allocate_buffer(len(values) * 8)
    np.frombuffer(buffer, dtype=np.int64)[:] = values
    return pa.Array.from_buffers(pa.int64(), len(values), [None, buffer])
