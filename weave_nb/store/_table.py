"""StreamTable: the public face of the store."""

from __future__ import annotations

import atexit

# pyarrow imports pandas on its first conversion, and pandas imports
# concurrent.futures.thread, which raises if first imported while the interpreter
# shuts down: load it now, so a table whose first flush is the atexit one still writes.
import concurrent.futures.thread  # noqa: F401
import datetime as dt
import os
import re
import threading
import time
import uuid
import warnings
import weakref
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar, cast

import pyarrow as pa

from .._config import SETTINGS, default_root, default_storage_options
from ..query import parse_every
from . import _lifecycle
from ._aggregate import aggregate, count
from ._engine import QueryEngine
from ._image import Image, is_image_type
from ._layout import ANNOTATIONS, LEGACY_MARKER, ROWS, TIMESTAMP_TYPE
from ._location import Location, resolve
from ._normalize import PLAIN_TYPES, ImageTally, normalize_row
from ._snapshot import Snapshot
from ._stream import STAMP, Builder, Stream
from ._subscriptions import Subscriptions
from ._windows import SortSpec, WindowReader

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["StorageError", "StreamTable", "open_table"]

_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]{0,199}$")
_WINDOWS_RESERVED = re.compile(r"^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\..*)?$", re.IGNORECASE)
_CHECKED_KEYS = frozenset({STAMP, "_timestamp", "_client_id"})
"""Keys the fast path of ``log()`` must not accept (they need ``normalize_row``)."""
_ANNOTATION_RESERVED = frozenset({"_id", "_timestamp", "_client_id", "_target_id", "_fields"})
_REFRESH_SECONDS = 0.2
_MAX_BACKLOG_LIMIT = 500_000
_MIN_BACKLOG_LIMIT = 20_000
_T = TypeVar("_T")
_now = time.time_ns


class StorageError(OSError):
    """The table's storage cannot be read or written (the message names its URI)."""


def _check_name(name: object) -> str:
    if not isinstance(name, str) or not _NAME.match(name) or ".." in name:
        raise ValueError(
            f"invalid table name {name!r}: use letters, digits, '_', '-' and '.', "
            "1 to 200 characters, no '..', no path separators"
        )
    if _WINDOWS_RESERVED.match(name):
        raise ValueError(
            f"invalid table name {name!r}: reserved on Windows (CON, PRN, AUX, NUL, COM1-9, "
            "LPT1-9); tables stay portable, so pick another"
        )
    return name


def _location(
    name: str, root: str | os.PathLike[str] | None, storage_options: Mapping[str, str] | None
) -> Location:
    if root is None:
        root = default_root()
        if storage_options is None:
            storage_options = default_storage_options() or None
    return resolve(root, storage_options).child(name)


class StreamTable:
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
        self.name = _check_name(name)
        location = _location(name, root, storage_options) if persist else None
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
            _refuse_legacy(location)
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
        self._pending = self._rows.pending
        self._append = self._pending.append
        self._writable = not read_only
        # Column names seen in accepted rows (minus the ones needing checks): a
        # row of plain values with only these keys takes log()'s fast path.
        self._fast_keys: frozenset[str] = frozenset()
        self._backlog_limit = _MAX_BACKLOG_LIMIT
        self._engine = QueryEngine()
        self._windows = WindowReader(self._engine)
        self._last_refresh = 0.0
        self._refresh_lock = threading.Lock()
        self._subscriptions = Subscriptions(self)
        self._write_warned: set[str] = set()
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._drained = threading.Event()
        self._flusher: threading.Thread | None = None
        if location is not None and not read_only:
            self._create()
        self.refresh()
        self._start_flusher()
        _OPEN_TABLES.add(self)
        if location is not None and not read_only:
            _lifecycle.install_signal_flush()

    def _create(self) -> None:
        """Create both Delta tables unless they exist; fails here if storage is unreachable."""
        for stream, schema in (
            (self._rows, _ROWS_BASE),
            (self._annotations, _ANNOTATIONS_BASE),
        ):
            try:
                stream.create(schema)
            except Exception as error:
                raise StorageError(f"cannot create table at {stream.uri}: {error}") from error

    def _start_flusher(self) -> None:
        if self.location is not None and not self.read_only:
            self._flusher = threading.Thread(
                target=self._flush_loop, name=f"weave_nb-flush-{self.name}", daemon=True
            )
            self._flusher.start()

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
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._drained = threading.Event()
        if not self.closed:
            self._start_flusher()

    # -- writing -------------------------------------------------------------------

    def log(self, row: Mapping[str, Any] | Sequence[Mapping[str, Any]]) -> None:
        """Append one row (a mapping) or many (a list of mappings).

        Keys are column names; values may be scalars, ``None``, ``str``, ``bytes``,
        nested dicts and lists, datetimes, numpy scalars and arrays, pandas
        timestamps, dataclasses, PIL images or :class:`weave_nb.Image`. ``_id`` is
        kept if given (else generated), ``_timestamp`` is the time of this call.
        A value that cannot be stored raises ``TypeError``/``ValueError`` here,
        naming the column and the type; for a list, no row of it is accepted.
        """
        if (
            type(row) is dict
            and self._fast_keys.issuperset(row)
            and PLAIN_TYPES.issuperset(map(type, row.values()))
        ):
            row = row.copy()
            row[STAMP] = _now()
            self._append(row)
            if len(self._pending) > self._backlog_limit:
                self._wait_for_room()
            return
        self._check_writable()
        seen = ImageTally.count
        rows = _validated(row)
        redactor = SETTINGS.redactor
        if redactor.active:  # after validation: a circular value is refused, not replaced
            rows = [redactor.row(r) for r in rows]
        keys = set().union(*rows)
        self._rows.extend(rows, images=ImageTally.count != seen)
        if not keys.issubset(self._fast_keys) and self._writable:
            # Rows of plain values with only these keys skip the checks above: never
            # admit a key whose values are redacted (oversized values are cut by the
            # flusher, see Stream).
            plain = {k for k in keys if not redactor.secret(k)}
            self._fast_keys = self._fast_keys.union(plain).difference(_CHECKED_KEYS)
        if len(self._pending) > self._backlog_limit:
            self._wait_for_room()

    def _wait_for_room(self) -> None:
        """Backpressure: hold the caller while the backlog exceeds one flush interval.

        The limit is what the flusher committed per interval lately, so a crash
        loses about one interval of rows at any logging rate, and memory stays
        bounded. Tables that are not persisted (nothing to wait for) and the
        flusher's own thread never wait.
        """
        flusher = self._flusher
        if flusher is None or flusher is threading.current_thread() or not flusher.is_alive():
            return
        self._wake.set()
        while len(self._pending) > self._backlog_limit and not self._stop.is_set():
            self._drained.wait(self.flush_interval)
            self._drained.clear()

    def deferred_writer(self, build: Builder) -> Callable[[Any], None]:
        """A function appending rows that ``build`` makes later, off the caller's thread.

        For instrumentation, where each call of the returned ``write(payload)``
        costs one append and its row's ``_timestamp`` is the time of that call.
        The flusher (or the next read) calls ``build(payloads)`` with the payloads
        of consecutive calls; it returns columns (``{name: list or Arrow array}``,
        one value per payload) of plain values, datetimes, dicts, lists and
        :class:`Image` (not normalized like ``log()``'s rows), and handles
        its own failures: if it raises, rows with only the error text (column
        ``_log_error``) are stored instead, with a warning, so no row is lost.
        Payloads are read later: make them tuples of plain values, which cannot
        change meanwhile and which the garbage collector does not scan.
        """
        self._check_writable()
        kind = self._rows.add_builder(build)
        append = self._append

        pending = self._pending

        def write(payload: Any) -> None:
            if not self._writable:
                self._check_writable()
            append((_now(), kind, payload))
            if len(pending) > self._backlog_limit:
                self._wait_for_room()

        return write

    def annotate(self, row_id: Any, data: Mapping[str, Any]) -> None:
        """Attach data to the row whose ``_id`` is ``row_id`` (feedback, labels, notes...).

        Stored as its own append-only row; the merged view shows the latest value
        of each field, ``annotations()`` the full history. Setting a field to
        ``None`` clears it in the merged view.
        """
        self._check_writable()
        if not isinstance(data, Mapping) or not data:
            raise TypeError(f"annotate() takes a non-empty mapping of fields, got {data!r}")
        if row_id is None or not isinstance(row_id, str | int):
            raise TypeError(f"row_id must be a str or int _id, got {type(row_id).__name__}")
        reserved = _ANNOTATION_RESERVED.intersection(data)
        if reserved:
            raise ValueError(f"annotation fields {sorted(reserved)} are reserved")
        seen = ImageTally.count
        fields = normalize_row(data)
        redactor = SETTINGS.redactor
        if redactor.active:
            fields = redactor.row(fields)
        self._annotations.extend(
            [{"_target_id": row_id, "_fields": list(fields), **fields}],
            images=ImageTally.count != seen,
        )

    def flush(self) -> None:
        """Return once every row and annotation accepted so far is committed (or queryable).

        Raises :class:`StorageError` naming the URI while the storage cannot be
        written; the rows stay in memory and a later flush writes them.
        """
        for stream in (self._rows, self._annotations):
            if self.location is None or self.read_only:
                with stream.convert_lock:
                    stream.drain()
                continue
            try:
                stream.write()
            except (TypeError, ValueError):
                raise
            except Exception as error:
                self.write_errors += 1
                raise StorageError(
                    f"cannot write table {self.name!r} to {stream.uri}: {error}; "
                    f"{stream.backlog} rows stay in memory and are retried"
                ) from error

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
            _OPEN_TABLES.discard(self)

    def __enter__(self) -> StreamTable:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _check_writable(self) -> None:
        if self.closed or (not self._writable and not self.read_only):
            raise ValueError(f"table {self.name!r} is closed")
        if self.read_only:
            raise PermissionError(
                f"table {self.name!r} was opened read-only; use open_table(..., read_only=False)"
            )

    def _flush_loop(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.flush_interval)
            self._wake.clear()
            if self._stop.is_set():
                break  # close() writes the rest itself
            started, backlog = time.monotonic(), self._rows.backlog
            for stream in (self._rows, self._annotations):
                try:
                    stream.write()
                except Exception as error:  # keep the rows in memory; retry next interval
                    self.write_errors += 1
                    key = type(error).__name__
                    if key not in self._write_warned:
                        self._write_warned.add(key)
                        warnings.warn(
                            f"weave_nb: writing table {self.name!r} to {stream.uri} failed "
                            f"({error}); {stream.backlog} rows stay in memory and writing "
                            "is retried",
                            RuntimeWarning,
                            stacklevel=1,
                        )
            self._adapt_backlog_limit(backlog, time.monotonic() - started)
            self._drained.set()

    def _adapt_backlog_limit(self, rows: int, seconds: float) -> None:
        """Backlog limit: half of what the flusher commits in one interval at its recent rate.

        Half, because a crash loses the backlog plus the batch being committed
        (at most as large): together about one interval. Capped, so memory
        stays bounded (~200 MB of small rows) however fast the disk.
        """
        if rows < _MIN_BACKLOG_LIMIT or seconds <= 0:
            return
        per_interval = rows / seconds * self.flush_interval
        self._backlog_limit = int(
            min(_MAX_BACKLOG_LIMIT, max(_MIN_BACKLOG_LIMIT, per_interval / 2))
        )

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

    def trace(self, trace_id: str) -> pd.DataFrame:
        """Every call of one trace: root first, then depth-first in start order, with ``depth``.

        Only that trace's rows are read (filtered on ``trace_id`` in SQL).
        """
        from ..tracing import trace_frame  # tracing builds on the store, not the reverse

        return trace_frame(self, trace_id)

    def session(self, session_id: str) -> pd.DataFrame:
        """Every call tagged with ``session_id`` (see :func:`weave_nb.session`), in start order."""
        from ..tracing import session_frame

        return session_frame(self, session_id)

    def subscribe(
        self, callback: Callable[[int], None], *, interval: float = 0.25
    ) -> Callable[[], None]:
        """Call ``callback(len(table))`` after changes, at most once per ``interval`` seconds.

        Rows from any writer and annotations count as changes. The callback runs
        in a background thread; its exceptions are reported as warnings. Returns
        a function that unsubscribes.
        """
        return self._subscriptions.add(callback, interval)

    # -- drift and watches (weave_nb.quality, imported on first use) ----------------------

    def drift(
        self,
        reference: Any,
        current: Any = None,
        columns: Sequence[str] | None = None,
        **options: Any,
    ) -> pd.DataFrame:
        """Compare columns between two windows: one row per column (KS/chi-square, PSI).

        ``reference`` / ``current`` are ``(start, end)`` datetimes over ``_timestamp`` or
        SQL filters (see ``weave_nb.quality.drift``, which takes ``thresholds=``).
        """
        from ..quality import drift

        return drift(self, reference, current, columns, **options)

    def watch(
        self,
        condition: Any,
        callback: Callable[[Any], object],
        *,
        every: str | dt.timedelta | float = "1min",
        window: str | dt.timedelta | float | None = None,
    ) -> Any:
        """Call ``callback`` when a SQL condition over the last ``window`` turns true or clears.

        Evaluated every ``every`` in a background thread; returns a handle with ``stop()``
        (see ``weave_nb.quality.Watch``).
        """
        from ..quality import Watch

        return Watch(self, condition, callback, every=every, window=window)

    # -- display ------------------------------------------------------------------------

    def widget(self, **kwargs: Any) -> Any:
        """A live table widget over this table (see ``weave_nb.widgets.TableWidget``)."""
        from ..widgets import TableWidget

        return TableWidget(self, **kwargs)

    def chart(self, kind: Any = "volume", **kwargs: Any) -> Any:
        """A live chart of this table (see ``weave_nb.widgets.Chart``)."""
        from ..widgets import Chart

        return Chart(self, kind, **kwargs)

    def board(self, **kwargs: Any) -> Any:
        """A live board seeded from this table's columns (see ``weave_nb.widgets.Board``)."""
        from ..widgets import Board

        return Board(self, **kwargs)

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget()._repr_mimebundle_(**kwargs)

    def __repr__(self) -> str:
        where = self.uri if self.uri is not None else "memory"
        state = "closed" if self.closed else f"{len(self)} rows"
        return f"StreamTable({self.name!r}, {state}, {where})"


def _validated(rows: Mapping[str, Any] | Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    if type(rows) is dict or isinstance(rows, Mapping):
        return [normalize_row(rows)]
    import dataclasses

    if dataclasses.is_dataclass(rows) and not isinstance(rows, type):
        return [normalize_row({f.name: getattr(rows, f.name) for f in dataclasses.fields(rows)})]
    if isinstance(rows, Sequence) and not isinstance(rows, str | bytes):
        out = []
        for i, row in enumerate(rows):
            if not isinstance(row, Mapping):
                raise TypeError(f"row {i}: expected a mapping, got {type(row).__name__}")
            try:
                out.append(normalize_row(row))
            except (TypeError, ValueError) as error:
                raise type(error)(f"row {i}: {error}") from None
        return out
    raise TypeError(f"log() takes a mapping or a list of mappings, got {type(rows).__name__}")


def _reset_fast_keys() -> None:
    """The redaction settings changed: every key must be checked again once."""
    for table in _open_tables():
        table._fast_keys = frozenset()


SETTINGS.listeners.append(_reset_fast_keys)


def _image_or_none(value: Any) -> Image | None:
    if value is None:
        return None
    return Image.from_png(value["png"], value["width"], value["height"])


_ROWS_BASE = pa.schema([("_timestamp", TIMESTAMP_TYPE), ("_client_id", pa.string())])
_ANNOTATIONS_BASE = pa.schema(
    [
        ("_timestamp", TIMESTAMP_TYPE),
        ("_client_id", pa.string()),
        ("_fields", pa.list_(pa.string())),
    ]
)


def _refuse_legacy(location: Location) -> None:
    """A table in the pre-release segment layout is not read (no release wrote it)."""
    local = location.local
    legacy = local is not None and (local / LEGACY_MARKER).exists()
    if legacy and local is not None and not (local / ROWS / "_delta_log").exists():
        raise ValueError(
            f"{local} holds a table in weave_nb's pre-release segment layout (format 1), "
            "which this version does not read. Its files are plain Parquet: re-log them "
            f"into a new table, e.g. wnb.StreamTable('new').log(pandas.read_parquet("
            f"'{local / ROWS}').to_dict('records'))"
        )


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
        location = _location(_check_name(text), root, storage_options)
    _refuse_legacy(location)
    table = StreamTable._open(location, read_only=True, flush_interval=flush_interval)
    if table._rows.index.version < 0:
        table.close()
        raise FileNotFoundError(f"no weave_nb table at {location}")
    if read_only:
        return table
    table.close()
    return StreamTable._open(location, read_only=False, flush_interval=flush_interval)


_OPEN_TABLES: weakref.WeakSet[StreamTable] = weakref.WeakSet()


def _open_tables() -> Iterator[StreamTable]:
    return iter(list(_OPEN_TABLES))


@atexit.register
def _flush_at_exit() -> None:
    for table in _open_tables():
        try:
            table.close()
        except Exception as error:  # report, and keep closing the others
            warnings.warn(f"weave_nb: could not flush {table!r} at exit: {error}", stacklevel=1)


def _flush_open_tables() -> None:
    """Make every open table's accepted rows durable (signal handlers, forked children's exit)."""
    for table in _open_tables():
        if table.location is not None and not table.read_only and not table.closed:
            try:
                table.flush()
            except Exception as error:  # report, and keep flushing the others
                warnings.warn(f"weave_nb: could not flush {table!r}: {error}", stacklevel=1)


def _after_fork_in_child() -> None:
    for table in _open_tables():
        table._after_fork()
    _lifecycle.after_fork_in_child(_flush_open_tables)


os.register_at_fork(after_in_child=_after_fork_in_child)
_lifecycle.set_flush(_flush_open_tables)
