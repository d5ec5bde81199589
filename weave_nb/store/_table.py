"""StreamTable: the public face of the store."""

from __future__ import annotations

import atexit

# pyarrow imports pandas on its first conversion, and pandas imports
# concurrent.futures.thread, which raises if first imported while the interpreter
# shuts down: load it now, so a table whose first flush is the atexit one still writes.
import concurrent.futures.thread  # noqa: F401
import datetime as dt
import json
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

from .._config import default_root
from ._image import Image, is_image_type
from ._query import QueryEngine, Snapshot, SortSpec
from ._schema import conform
from ._stream import STAMP, Builder, Stream
from ._subscriptions import Subscriptions
from ._values import PLAIN_TYPES, ImageTally, normalize_row

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["StreamTable", "open_table"]

_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]{0,199}$")
_MARKER = "_table.json"
_CHECKED_KEYS = frozenset({STAMP, "_timestamp", "_client_id"})
"""Keys the fast path of ``log()`` must not accept (they need ``normalize_row``)."""
_ANNOTATION_RESERVED = frozenset({"_id", "_timestamp", "_client_id", "_target_id", "_fields"})
_REFRESH_SECONDS = 0.2
_READ_ATTEMPTS = 3
_T = TypeVar("_T")
_now = time.time_ns


def _check_name(name: object) -> str:
    if not isinstance(name, str) or not _NAME.match(name) or ".." in name:
        raise ValueError(
            f"invalid table name {name!r}: use letters, digits, '_', '-' and '.', "
            "not empty, no '..', no path separators"
        )
    return name


class StreamTable:
    """A columnar, append-only table of logged rows, persisted as Parquet segments.

    ``log()`` is cheap: it validates in the caller's thread and buffers; a
    background thread converts batches to Arrow and writes them every
    ``flush_interval`` seconds. Several processes may write the same table at
    once, each into its own segments; every reader sees all of them (tailed
    within ``flush_interval`` plus ~0.2 s). Annotations (feedback, data added
    after the fact) are appended as their own rows and merged on read.

    Args:
        name: table name (letters, digits, ``_ - .``); its directory is ``root/name``.
        root: directory holding tables; default ``wnb.init(root=...)``, else
            ``$WEAVE_NB_ROOT``, else ``./weave_nb_data``.
        persist: ``False`` keeps the table in this process's memory only.
        flush_interval: seconds between background writes (the most a crash can lose).
    """

    def __init__(
        self,
        name: str,
        *,
        root: str | os.PathLike[str] | None = None,
        persist: bool = True,
        flush_interval: float = 1.0,
    ) -> None:
        self.name = _check_name(name)
        directory = (Path(root) if root is not None else default_root()) / name if persist else None
        self._setup(directory, read_only=False, flush_interval=flush_interval)

    @classmethod
    def _open(cls, directory: Path, *, read_only: bool, flush_interval: float) -> StreamTable:
        table = cls.__new__(cls)
        table.name = directory.name
        table._setup(directory, read_only=read_only, flush_interval=flush_interval)
        return table

    def _setup(self, directory: Path | None, *, read_only: bool, flush_interval: float) -> None:
        if flush_interval <= 0:
            raise ValueError(f"flush_interval must be > 0 seconds, got {flush_interval}")
        self.path = directory
        self.read_only = read_only
        self.client_id = uuid.uuid4().hex[:16]
        self.flush_interval = float(flush_interval)
        self.closed = False
        if directory is not None and not read_only:
            _write_marker(directory, self.name)
        self._rows = Stream(
            directory / "rows" if directory else None,
            self.client_id,
            key_column="_id",
            generate_ids=True,
            writable=not read_only,
        )
        self._annotations = Stream(
            directory / "annotations" if directory else None,
            self.client_id,
            key_column="_target_id",
            generate_ids=False,
            writable=not read_only,
        )
        self._append = self._rows.pending.append
        self._writable = not read_only
        # Column names seen in accepted rows (minus the ones needing checks): a
        # row of plain values with only these keys takes log()'s fast path.
        self._fast_keys: frozenset[str] = frozenset()
        self._engine = QueryEngine()
        self._last_refresh = 0.0
        self._refresh_lock = threading.Lock()
        self._subscriptions = Subscriptions(self)
        self._write_warned: set[str] = set()
        self._stop = threading.Event()
        self._flusher: threading.Thread | None = None
        self.refresh()
        if directory is not None and not read_only:
            self._flusher = threading.Thread(
                target=self._flush_loop, name=f"weave_nb-flush-{self.name}", daemon=True
            )
            self._flusher.start()
        _OPEN_TABLES.add(self)

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
            return
        self._check_writable()
        seen = ImageTally.count
        rows = _validated(row)
        keys = set().union(*rows)
        self._rows.extend(rows, images=ImageTally.count != seen)
        if not keys.issubset(self._fast_keys) and self._writable:
            self._fast_keys = self._fast_keys.union(keys).difference(_CHECKED_KEYS)

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

        def write(payload: Any) -> None:
            if not self._writable:
                self._check_writable()
            append((_now(), kind, payload))

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
        self._annotations.extend(
            [{"_target_id": row_id, "_fields": list(fields), **fields}],
            images=ImageTally.count != seen,
        )

    def flush(self) -> None:
        """Return once every row and annotation accepted so far is on disk (or queryable)."""
        for stream in (self._rows, self._annotations):
            if self.path is None or self.read_only:
                with stream.convert_lock:
                    stream.drain()
            else:
                stream.write()

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
        while not self._stop.wait(self.flush_interval):
            for stream in (self._rows, self._annotations):
                try:
                    stream.write()
                except Exception as error:  # keep the rows in memory; retry next interval
                    key = type(error).__name__
                    if key not in self._write_warned:
                        self._write_warned.add(key)
                        warnings.warn(
                            f"weave_nb: writing table {self.name!r} to {self.path} failed "
                            f"({error}); rows stay in memory and writing is retried",
                            RuntimeWarning,
                            stacklevel=1,
                        )

    # -- reading ---------------------------------------------------------------------

    def refresh(self) -> bool:
        """Pick up segments written by other processes now; returns whether any changed."""
        with self._refresh_lock:
            self._last_refresh = time.monotonic()
            changed = self._rows.index.refresh()
            return self._annotations.index.refresh() or changed

    def _snapshot(self) -> Snapshot:
        if self.closed:
            raise ValueError(f"table {self.name!r} is closed")
        if time.monotonic() - self._last_refresh > _REFRESH_SECONDS:
            self.refresh()
        return Snapshot(self._rows.snapshot(), self._annotations.snapshot())

    def _read(self, query: Callable[[Snapshot], _T]) -> _T:
        """Run ``query`` on a fresh snapshot, retaken if a writer compacted a segment away.

        Another process may delete the files it just merged between our snapshot
        and the read; the merged file is then already there, so a refresh and a
        second read see every row once.
        """
        for attempt in range(_READ_ATTEMPTS):
            snap = self._snapshot()
            try:
                return query(snap)
            except (OSError, ValueError):
                segments = snap.rows.segments + snap.annotations.segments
                if attempt == _READ_ATTEMPTS - 1 or all(s.path.exists() for s in segments):
                    raise
                self.refresh()
        raise AssertionError("unreachable")

    def __len__(self) -> int:
        if time.monotonic() - self._last_refresh > _REFRESH_SECONDS and not self.closed:
            self.refresh()
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
        return self._read(self._engine.read_all)

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
        return self._read(_annotation_history)

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
            lambda snap: self._engine.window(snap, offset, limit, sort, filter, columns)
        )

    def count(self, filter: str | None = None) -> int:
        """Number of rows matching ``filter`` (all rows when ``None``)."""
        return self._read(lambda snap: self._engine.count(snap, filter))

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
            lambda snap: self._engine.aggregate(
                snap, stats, column, width, group_by, filter, start, end
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
        where = str(self.path) if self.path is not None else "memory"
        state = "closed" if self.closed else f"{len(self)} rows"
        return f"StreamTable({self.name!r}, {state}, {where})"


def parse_every(text: str) -> dt.timedelta:
    """``"30s"``, ``"5min"``, ``"1h"``, ``"1d"``, ``"2w"`` → timedelta."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(ms|s|sec|m|min|h|d|w)\s*", text)
    if match is None:
        raise ValueError(f"cannot read bucket width {text!r}; use e.g. '30s', '5min', '1h', '1d'")
    amount, unit = float(match.group(1)), match.group(2)
    seconds = {
        "ms": 0.001,
        "s": 1,
        "sec": 1,
        "m": 60,
        "min": 60,
        "h": 3600,
        "d": 86400,
        "w": 604800,
    }[unit]
    return dt.timedelta(seconds=amount * seconds)


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


def _annotation_history(snap: Snapshot) -> pa.Table:
    """Every annotation of ``snap``, oldest first, conformed to one schema."""
    tables = [s.read() for s in snap.annotations.segments] + list(snap.annotations.memory)
    if not tables:
        return pa.schema(
            [
                ("_target_id", pa.string()),
                ("_timestamp", pa.timestamp("us", tz="UTC")),
                ("_client_id", pa.string()),
                ("_fields", pa.list_(pa.string())),
            ]
        ).empty_table()
    return pa.concat_tables([conform(t, snap.ann_schema) for t in tables]).sort_by("_timestamp")


def _image_or_none(value: Any) -> Image | None:
    if value is None:
        return None
    return Image.from_png(value["png"], value["width"], value["height"])


def _write_marker(directory: Path, name: str) -> None:
    marker = directory / _MARKER
    if marker.exists():
        return
    directory.mkdir(parents=True, exist_ok=True)
    content = {
        "format": "weave_nb.StreamTable",
        "version": 1,
        "name": name,
        "created": dt.datetime.now(dt.timezone.utc).isoformat(),
    }
    tmp = directory / f".{_MARKER}.{uuid.uuid4().hex[:8]}.tmp"
    tmp.write_text(json.dumps(content, indent=2))
    os.replace(tmp, marker)


def open_table(
    name_or_path: str | os.PathLike[str],
    root: str | os.PathLike[str] | None = None,
    *,
    read_only: bool = True,
    flush_interval: float = 1.0,
) -> StreamTable:
    """Reopen a persisted table by name (under ``root``) or by its directory path.

    Read-only by default; ``read_only=False`` opens it for appending as a new writer.
    Raises ``FileNotFoundError`` naming the path when no table is there.
    """
    candidate = Path(name_or_path)
    if (candidate / _MARKER).exists() or (candidate / "rows").is_dir():
        directory = candidate
    else:
        name = _check_name(os.fspath(name_or_path))
        directory = (Path(root) if root is not None else default_root()) / name
        if not (directory / _MARKER).exists() and not (directory / "rows").is_dir():
            raise FileNotFoundError(f"no weave_nb table at {directory}")
    return StreamTable._open(directory, read_only=read_only, flush_interval=flush_interval)


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
