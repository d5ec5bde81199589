"""StreamTable: the public face of the store.

Writing lives in ``_writing`` (``log()``, annotations, the flusher) and the
shortcuts into higher layers in ``_shortcuts``; both are mixed in here, where a
table is set up, read and maintained.
"""

from __future__ import annotations

import atexit

# pyarrow imports pandas on its first conversion, and pandas imports
# concurrent.futures.thread, which raises if first imported while the interpreter
# shuts down: load it now, so a table whose first flush is the atexit one still writes.
import concurrent.futures.thread  # noqa: F401
import datetime as dt
import os
import threading
import time
import uuid
import warnings
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar, cast

import pyarrow as pa

from .._config import SETTINGS
from ..query import parse_every
from . import _lifecycle
from ._aggregate import aggregate, count
from ._engine import QueryEngine
from ._image import Image, is_image_type
from ._layout import ANNOTATIONS, ANNOTATIONS_BASE, ROWS, ROWS_BASE
from ._location import (
    Location,
    StorageError,
    check_name,
    refuse_legacy,
    resolve,
    table_location,
)
from ._shortcuts import TableShortcuts
from ._snapshot import Snapshot
from ._stream import Stream
from ._subscriptions import Subscriptions
from ._windows import SortSpec, WindowReader
from ._writing import TableWriter, forget_fast_keys

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["StreamTable", "open_table"]

_REFRESH_SECONDS = 0.2
_T = TypeVar("_T")


class StreamTable(TableWriter, TableShortcuts):
    """A columnar, append-only table of logged rows, persisted as Delta Lake tables.

    ``log()`` is cheap: it validates in the caller's thread and buffers; a
    background thread converts batches to Arrow and commits them every
    ``flush_interval`` seconds (one Delta append commit per flush). Any number
    of processes, on any number of machines, may write the same table at once;
    every reader sees all of them (tailed within ``flush_interval`` plus
    ~0.2 s). Annotations (feedback, data added after the fact) are appended as
    their own rows and merged on read.

    Args:
        name: table name (letters, digits, ``_ - .``); stored at ``root/name``.
        root: a local directory or ``s3://bucket/prefix``; default
            ``wnb.init(root=...)``, else ``$WEAVE_NB_ROOT``, else ``./weave_nb_data``.
        persist: ``False`` keeps the table in this process's memory only.
        flush_interval: seconds between background commits (the most a crash can lose).
        storage_options: S3 settings (``AWS_ENDPOINT_URL``, ``AWS_ACCESS_KEY_ID``, ...)
            overriding the ``AWS_*`` environment variables.
    """

    def __init__(
        self,
        name: str,
        *,
        root: str | os.PathLike[str] | None = None,
        persist: bool = True,
        flush_interval: float = 1.0,
        storage_options: Mapping[str, str] | None = None,
    ) -> None:
        self.name = check_name(name)
        location = table_location(name, root, storage_options) if persist else None
        self._setup(location, read_only=False, flush_interval=flush_interval)

    @classmethod
    def _open(cls, location: Location, *, read_only: bool, flush_interval: float) -> StreamTable:
        table = cls.__new__(cls)
        table.name = location.name
        table._setup(location, read_only=read_only, flush_interval=flush_interval)
        return table

    def _setup(self, location: Location | None, *, read_only: bool, flush_interval: float) -> None:
        if flush_interval <= 0:
            raise ValueError(f"flush_interval must be > 0 seconds, got {flush_interval}")
        if location is not None:
            refuse_legacy(location)
        self.location = location
        self.path = location.local if location is not None else None
        """The table's local directory (``None`` in memory or on object storage)."""
        self.uri = location.uri if location is not None else None
        """Where the table lives: a local path or an ``s3://`` URI (``None`` in memory)."""
        self.read_only = read_only
        self.client_id = uuid.uuid4().hex[:16]
        self.flush_interval = float(flush_interval)
        self.closed = False
        self.write_errors = 0
        """Flushes that failed so far (the rows stay in memory and are retried)."""
        self._rows = Stream(
            location.child(ROWS) if location else None,
            self.client_id,
            table_name=self.name,
            key_column="_id",
            generate_ids=True,
            writable=not read_only,
        )
        self._annotations = Stream(
            location.child(ANNOTATIONS) if location else None,
            self.client_id,
            table_name=self.name,
            key_column="_target_id",
            generate_ids=False,
            writable=not read_only,
        )
        self._start_writing()
        self._engine = QueryEngine()
        self._windows = WindowReader(self._engine)
        self._last_refresh = 0.0
        self._refresh_lock = threading.Lock()
        self._subscriptions = Subscriptions(self)
        self._write_warned: set[str] = set()
        if location is not None and not read_only:
            self._create()
        self.refresh()
        self._start_flusher()
        _lifecycle.track(self)
        if location is not None and not read_only:
            _lifecycle.install_signal_flush()

    def _create(self) -> None:
        """Create both Delta tables unless they exist; fails here if storage is unreachable."""
        for stream, schema in (
            (self._rows, ROWS_BASE),
            (self._annotations, ANNOTATIONS_BASE),
        ):
            try:
                stream.create(schema)
            except Exception as error:
                raise StorageError(f"cannot create table at {stream.uri}: {error}") from error

    def _after_fork(self) -> None:
        """In a forked child: a new writer of the same table, with nothing in flight.

        Rows the parent had not written yet stay the parent's to write; the child
        gets its own writer id (so its files and generated ids never collide with
        the parent's) and its own flusher.
        """
        self.client_id = uuid.uuid4().hex[:16]
        self._rows.after_fork(self.client_id)
        self._annotations.after_fork(self.client_id)
        self._refresh_lock = threading.Lock()
        self._engine = QueryEngine()
        self._windows = WindowReader(self._engine)
        self._subscriptions = Subscriptions(self)
        self._after_fork_writing()

    def close(self) -> None:
        """Flush, stop background threads and release the table. Idempotent."""
        if self.closed:
            return
        self._writable = False  # refuse rows from now on, so that the flush gets all
        self._fast_keys = frozenset()
        try:
            if not self.read_only:
                self.flush()
        finally:
            self.closed = True
            self._stop.set()
            self._wake.set()  # the flusher sleeps on it
            self._subscriptions.close()
            if self._flusher is not None and self._flusher is not threading.current_thread():
                self._flusher.join(timeout=5)
            self._engine.close()
            _lifecycle.untrack(self)

    def __enter__(self) -> StreamTable:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- maintenance -----------------------------------------------------------------

    def compact(self) -> int:
        """Merge small data files (of every writer) into larger ones; returns files merged.

        Each merge is one commit that adds the merged file and removes its
        sources, so every reader — weave_nb, polars, DuckDB, Spark — counts each
        row once before, during and after; writers are never blocked. Writers
        also merge their own small files in the background (size-tiered, a run
        of 8 files of similar size at a time).
        """
        self._check_writable()
        self.flush()
        return self._rows.compact_all() + self._annotations.compact_all()

    def delete(self, *, before: dt.datetime) -> int:
        """Delete rows (and annotations) logged before ``before`` (UTC if naive); returns rows.

        For retention: the rows leave every later version of the table at once;
        their files stay on storage for time travel until :meth:`vacuum` removes
        them.
        """
        self._check_writable()
        if not isinstance(before, dt.datetime):
            raise TypeError(f"before= takes a datetime, got {type(before).__name__}")
        if before.tzinfo is None:
            before = before.replace(tzinfo=dt.timezone.utc)
        moment = before.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        self.flush()
        deleted = self._rows.delete(f"_timestamp < '{moment}'")
        self._annotations.delete(f"_timestamp < '{moment}'")
        self.refresh()
        return deleted

    def vacuum(self, *, retention: dt.timedelta = dt.timedelta(days=7)) -> int:
        """Remove data files no version younger than ``retention`` needs; returns how many.

        That covers files of deleted rows and of compacted sources, and files a
        crashed writer wrote but never committed. Readers of versions older
        than ``retention`` (time travel) lose them; weave_nb never needs them.
        """
        self._check_writable()
        return self._rows.vacuum(retention) + self._annotations.vacuum(retention)

    @property
    def rejected_rows(self) -> int:
        """Rows stored with only their ``_log_error`` because no data file could hold them."""
        return self._rows.rejected_rows + self._annotations.rejected_rows

    @property
    def commit_retries(self) -> int:
        """Commits this process retried after conflicts with other writers."""
        return self._rows.commit_retries + self._annotations.commit_retries

    # -- reading ---------------------------------------------------------------------

    def refresh(self) -> bool:
        """Read commits made by other writers now; returns whether any data changed.

        Only the new entries of the transaction log are read, and only new files
        are fetched (when a query needs them). Raises :class:`StorageError`
        naming the URI when the storage cannot be reached.
        """
        with self._refresh_lock:
            self._last_refresh = time.monotonic()
            try:
                changed = self._rows.index.refresh()
                return self._annotations.index.refresh() or changed
            except Exception as error:
                raise StorageError(
                    f"cannot read table {self.name!r} at {self.uri}: {error}"
                ) from error

    def _tail(self) -> None:
        """Refresh if the last one is older than a moment; during an outage, keep what we have.

        Reads then still answer from the last version read plus the rows in
        memory; the failure is reported once per error type.
        """
        if time.monotonic() - self._last_refresh <= _REFRESH_SECONDS:
            return
        try:
            self.refresh()
        except StorageError as error:
            key = f"read:{type(error.__cause__).__name__}"
            if key not in self._write_warned:
                self._write_warned.add(key)
                warnings.warn(f"weave_nb: {error}; showing the last version read", stacklevel=3)

    def _snapshot(self) -> Snapshot:
        if self.closed:
            raise ValueError(f"table {self.name!r} is closed")
        self._tail()
        return Snapshot(self._rows.snapshot(), self._annotations.snapshot())

    def _read(self, query: Callable[[Snapshot], _T]) -> _T:
        """Run ``query`` on a fresh snapshot (committed files never vanish under it)."""
        return query(self._snapshot())

    def __len__(self) -> int:
        if not self.closed:
            self._tail()
        return len(self._rows)

    @property
    def version(self) -> int:
        """Grows with every visible change: rows or annotations from any writer."""
        return len(self._rows) + len(self._annotations)

    @property
    def schema(self) -> pa.Schema:
        """Schema of the merged view (rows with annotation fields)."""
        return self._snapshot().schema

    def to_arrow(self) -> pa.Table:
        """The merged view as a ``pyarrow.Table``, in log order."""
        return self._read(self._windows.read_all)

    def to_pandas(self) -> pd.DataFrame:
        """The merged view as a DataFrame; image cells become :class:`weave_nb.Image`."""
        table = self.to_arrow()
        frame = table.to_pandas()
        for field in table.schema:
            if is_image_type(field.type):
                frame[field.name] = [_image_or_none(v) for v in frame[field.name]]
        return cast("pd.DataFrame", frame)

    def annotations(self) -> pa.Table:
        """Every annotation ever made, oldest first (``_target_id``, ``_timestamp``, fields...)."""
        return self._read(Snapshot.annotation_history)

    def window(
        self,
        offset: int,
        limit: int,
        *,
        sort: SortSpec | None = None,
        filter: str | None = None,
        columns: Sequence[str] | None = None,
    ) -> pa.Table:
        """Rows ``[offset, offset + limit)`` of the merged view.

        ``sort`` is a list of ``(column, "asc" | "desc")``; ``filter`` a DuckDB SQL
        boolean expression over the columns (``"latency_ms > 500 and status = 'error'"``);
        a bad expression raises ``ValueError`` with DuckDB's message. Only the
        rows asked for are read into memory.
        """
        return self._read(
            lambda snap: self._windows.window(snap, offset, limit, sort, filter, columns)
        )

    def count(self, filter: str | None = None) -> int:
        """Number of rows matching ``filter`` (all rows when ``None``)."""
        return self._read(lambda snap: count(self._engine, snap, filter))

    def aggregate(
        self,
        stats: Sequence[str] = ("count",),
        *,
        column: str | None = None,
        every: str | dt.timedelta | None = None,
        group_by: str | None = None,
        filter: str | None = None,
        start: dt.datetime | None = None,
        end: dt.datetime | None = None,
    ) -> pa.Table:
        """Statistics per time bucket of ``_timestamp`` (and per group).

        ``stats`` from ``count, mean, min, max, sum, stddev, p50, p90, p95, p99``;
        ``column`` is a SQL expression over the merged view (``"latency_ms"``, or
        ``"CASE WHEN status = 'error' THEN 1.0 ELSE 0.0 END"`` for an error rate).
        ``every`` is a width (``"5min"``, ``"1h"``, a timedelta) or ``None`` to pick
        one giving at most ~60 buckets. Returns ``bucket`` (bucket start, UTC),
        the ``group_by`` column if any, and one column per statistic; the width
        is in ``schema.metadata[b"every_seconds"]``.
        """
        width = parse_every(every) if isinstance(every, str) else every
        return self._read(
            lambda snap: aggregate(
                self._engine, snap, stats, column, width, group_by, filter, start, end
            )
        )

    def sql(self, query: str) -> pa.Table:
        """Run DuckDB SQL over the merged view, available as the relation ``t``."""
        return self._read(lambda snap: self._engine.sql(snap, query))

    def subscribe(
        self, callback: Callable[[int], None], *, interval: float = 0.25
    ) -> Callable[[], None]:
        """Call ``callback(len(table))`` after changes, at most once per ``interval`` seconds.

        Rows from any writer and annotations count as changes. The callback runs
        in a background thread; its exceptions are reported as warnings. Returns
        a function that unsubscribes.
        """
        return self._subscriptions.add(callback, interval)

    def __repr__(self) -> str:
        where = self.uri if self.uri is not None else "memory"
        state = "closed" if self.closed else f"{len(self)} rows"
        return f"StreamTable({self.name!r}, {state}, {where})"


def _image_or_none(value: Any) -> Image | None:
    if value is None:
        return None
    return Image.from_png(value["png"], value["width"], value["height"])


def open_table(
    name_or_path: str | os.PathLike[str],
    root: str | os.PathLike[str] | None = None,
    *,
    read_only: bool = True,
    flush_interval: float = 1.0,
    storage_options: Mapping[str, str] | None = None,
) -> StreamTable:
    """Reopen a persisted table by name (under ``root``) or by its location.

    ``name_or_path`` is a table name, or (without ``root``) the table's directory
    or ``s3://`` URI (the folder holding ``rows/`` and ``annotations/``). Read-only by default;
    ``read_only=False`` opens it for appending as a new writer. Raises
    ``FileNotFoundError`` naming the location when no table is there, and
    :class:`StorageError` when the storage cannot be reached.
    """
    text = os.fspath(name_or_path)
    looks_like_path = "://" in text or "/" in text or os.sep in text or Path(text, ROWS).is_dir()
    if root is None and looks_like_path:
        location = resolve(text, storage_options)
    else:
        location = table_location(check_name(text), root, storage_options)
    refuse_legacy(location)
    table = StreamTable._open(location, read_only=True, flush_interval=flush_interval)
    if table._rows.index.version < 0:
        table.close()
        raise FileNotFoundError(f"no weave_nb table at {location}")
    if read_only:
        return table
    table.close()
    return StreamTable._open(location, read_only=False, flush_interval=flush_interval)


SETTINGS.listeners.append(lambda: forget_fast_keys(_lifecycle.open_tables()))
# Registered once every store module is imported, after their own hooks: a forked
# child's tables restart once delta-rs handles are reset, and at exit the tables
# are closed (atexit runs last-registered first) before background decoding stops.
os.register_at_fork(after_in_child=_lifecycle.after_fork_in_child)
atexit.register(_lifecycle.close_at_exit)
