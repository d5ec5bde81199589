"""StreamTable's write path: ``log()`` is cheap, a background flusher commits.

``log()`` validates in the caller's thread and appends to the rows stream's
pending list; a row of plain values with keys already seen takes a fast path
that skips validation. The flusher thread commits both streams every
``flush_interval`` seconds (one Delta append commit each), and ``log()`` waits
only when the backlog outgrows what the flusher commits in one interval
(backpressure), so a crash loses about one interval of rows at any rate.
"""

from __future__ import annotations

import threading
import time
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from .._accel import SPEEDUPS
from .._config import SETTINGS
from ._batch import STAMP
from ._location import Location, StorageError
from ._log_front import LogFront
from ._normalize import ImageTally, normalize_row
from ._stream import Builder, Stream

__all__ = ["Intake", "TableWriter", "forget_fast_keys", "intake_of"]

_CHECKED_KEYS = frozenset({STAMP, "_timestamp", "_client_id"})
"""Keys the fast path of ``log()`` must not accept (they need ``normalize_row``)."""
_ANNOTATION_RESERVED = frozenset({"_id", "_timestamp", "_client_id", "_target_id", "_fields"})
_MAX_SHAPES = 64
"""Key orders of fast-path rows kept as tuples, per table (other rows stay dicts)."""
_MAX_BACKLOG_LIMIT = 500_000
_MIN_BACKLOG_LIMIT = 20_000
_now = time.time_ns


class PyIntake:
    """The backlog behind a deferred writer, for a hot path that appends to it itself.

    While ``len(pending) <= limit`` (there is room and the table is open),
    ``pending.append((time_ns, kind, payload))`` is what ``write(payload)`` does,
    without the cost of a call and a clock read (``time_ns`` is the row's
    ``_timestamp``: the caller's own ``time.time_ns()`` of about now). Otherwise
    call ``write``: it waits for room, or raises if the table is closed.
    """

    __slots__ = ("kind", "limit", "pending")

    def __init__(self, pending: list[Any], kind: int, limit: int) -> None:
        self.pending = pending
        self.kind = kind
        self.limit = limit
        """The backlog limit; -1 once the table refuses rows."""


if TYPE_CHECKING:
    Intake = PyIntake
elif SPEEDUPS is not None:
    Intake = SPEEDUPS.Intake
else:
    Intake = PyIntake


def intake_of(write: Callable[[Any], None]) -> Intake:
    """The intake of a writer from :meth:`TableWriter.deferred_writer` (of any other
    callable, one that never has room, so that its callers call it)."""
    intake = getattr(write, "intake", None)
    return intake if isinstance(intake, Intake) else Intake([], -1, -1)


class TableWriter(LogFront):
    """Writing to a :class:`StreamTable` (mixed into it): rows, annotations, flushes.

    ``log()`` itself is :class:`LogFront`'s (C when built): its fast path, then
    :meth:`_log_checked`.
    """

    name: str
    location: Location | None
    read_only: bool
    closed: bool
    flush_interval: float
    write_errors: int
    _rows: Stream
    _annotations: Stream
    _write_warned: set[str]

    def _start_writing(self) -> None:
        """Set up the write path (the streams exist); the flusher starts with ``_start_flusher``."""
        self._pending = self._rows.pending
        self._limit_lock = threading.Lock()
        self._intakes: list[Intake] = []
        self._accepting = not self.read_only
        # Column names seen in accepted rows (minus the ones needing checks): a
        # row of plain values with only these keys takes log()'s fast path.
        self._fast_keys: frozenset[str] = frozenset()
        self._shapes: dict[tuple[str, ...], int] = {}
        self._backlog_limit = _MAX_BACKLOG_LIMIT
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._drained = threading.Event()
        self._flusher: threading.Thread | None = None

    @property
    def _writable(self) -> bool:
        """Whether rows are accepted; closing the table sets it ``False``."""
        return self._accepting

    @_writable.setter
    def _writable(self, value: bool) -> None:
        self._set_backlog_limit(accepting=value)

    def _set_backlog_limit(self, limit: int | None = None, accepting: bool | None = None) -> None:
        """Change the backlog limit or whether rows are accepted, and the intakes' limit."""
        # One lock: a limit the flusher adapts must never reopen a closed table's intakes.
        with self._limit_lock:
            if accepting is not None:
                self._accepting = accepting
            if limit is not None:
                self._backlog_limit = limit
            for intake in self._intakes:
                intake.limit = self._backlog_limit if self._accepting else -1

    def _after_fork_writing(self) -> None:
        """In a forked child: fresh events and lock, and a flusher of its own unless closed."""
        self._limit_lock = threading.Lock()  # the parent's flusher may have held it
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._drained = threading.Event()
        if not self.closed:
            self._start_flusher()

    def _log_checked(self, row: Mapping[str, Any] | Sequence[Mapping[str, Any]]) -> None:
        """``log()`` of a row its fast path does not take: validated, normalized, redacted."""
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

    def _row_shape(self, keys: tuple[str, ...]) -> int:
        """The builder of fast-path rows with these keys in this order, kept as tuples of
        their values (``log()``'s C fast path asks); -1 to keep such rows as dicts."""
        kind = self._shapes.get(keys)
        if kind is None:
            names = list(keys)
            if len(self._shapes) >= _MAX_SHAPES or not all(map(str.isascii, names)):
                return -1  # names to escape: the rows path merges what they escape to
            kind = self._rows.add_shape(names)
            self._shapes[keys] = kind
        return kind

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
        change meanwhile and which the garbage collector does not scan. A hot
        path may append to the writer's :class:`Intake` (``intake_of(write)``)
        instead of calling it.
        """
        self._check_writable()
        kind = self._rows.add_builder(build)
        pending = self._pending
        append = pending.append
        intake = Intake(pending, kind, -1)
        with self._limit_lock:
            self._intakes.append(intake)
        self._set_backlog_limit()

        def write(payload: Any) -> None:
            if len(pending) > intake.limit:  # full, or the table is closed
                self._make_room()
            append((_now(), kind, payload))

        write.intake = intake  # type: ignore[attr-defined]
        return write

    def _make_room(self) -> None:
        """Before a deferred write: raise if the table is closed, wait while it is full."""
        self._check_writable()
        if len(self._pending) > self._backlog_limit:
            self._wait_for_room()

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

    def _check_writable(self) -> None:
        if self.closed or (not self._writable and not self.read_only):
            raise ValueError(f"table {self.name!r} is closed")
        if self.read_only:
            raise PermissionError(
                f"table {self.name!r} was opened read-only; use open_table(..., read_only=False)"
            )

    def _start_flusher(self) -> None:
        if self.location is not None and not self.read_only:
            self._flusher = threading.Thread(
                target=self._flush_loop, name=f"weave_nb-flush-{self.name}", daemon=True
            )
            self._flusher.start()

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
        self._set_backlog_limit(
            int(min(_MAX_BACKLOG_LIMIT, max(_MIN_BACKLOG_LIMIT, per_interval / 2)))
        )


def forget_fast_keys(tables: Iterable[TableWriter]) -> None:
    """The redaction settings changed: every key must be checked again once."""
    for table in tables:
        table._fast_keys = frozenset()


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
