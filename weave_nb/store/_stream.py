"""One append-only stream of a table: accepted rows → Arrow tables → segments.

A table has two streams, its rows and its annotations. Each keeps three stages:
``pending`` (items accepted by ``log()``; appending to a list is atomic, so
``log()`` takes no lock, and ``drain`` removes exactly the items it read with one
``del pending[:n]``),
``unwritten`` (converted to Arrow, not yet in a segment — for an in-memory table
this is where the data lives), and the segment index (on disk, every writer).
Conversion and writing happen under ``convert_lock``, never under the lock
``log()`` takes, so a caller is never held up by Arrow or by the disk.

A pending item is either a row — a dict holding its log time in nanoseconds
under the key ``""``, which no accepted row has — or a deferred item
``(time_ns, builder, payload)`` that a registered builder turns into columns in
``drain``. A row of a registered shape (:mod:`._shapes`) is the item
``(time_ns, kind, values)``. Neither form costs the garbage collector anything while it waits: a
dict of plain values and a tuple of plain values are not tracked, whereas a
``(time, row)`` pair would be (a tuple holding a dict stays tracked), and a
long queue of tracked objects makes every full collection slower.

``drain`` converts in runs of at most ``CHUNK_ROWS`` items: a batch of a few
thousand rows stays in the CPU's cache for the passes that turn it into
columns, where a batch of a whole interval (hundreds of thousands) does not.
"""

from __future__ import annotations

import datetime as dt
import functools
import threading
import time
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

import numpy as np
import pyarrow as pa

from . import _delta
from ._batch import (
    STAMP,
    Item,
    cut_oversized,
    joined,
    numbered_ids,
    runs,
    user_timestamps,
    without_empty_columns,
)
from ._convert import column_to_arrow, values_to_columns
from ._delta_worker import call
from ._layout import TIMESTAMP_TYPE
from ._location import Location
from ._segments import Segment, SegmentIndex
from ._shapes import RowShapes
from ._writer import SegmentWriter

__all__ = ["Builder", "Stream", "StreamSnapshot"]

CHUNK_ROWS = 8192
"""Items converted to Arrow together (see the module docstring)."""
PART_ITEMS = 64 * 1024
"""Items a large write converts while the previous part is encoded (see ``_write_pipelined``)."""

_STORAGE_ERRORS: tuple[type[BaseException], ...] = (OSError,)
"""Failures of the storage (kept rows are retried); anything else is blamed on the data."""

Builder = Callable[[list[Any]], Mapping[str, "Sequence[Any] | pa.Array"]]
"""Turns the payloads of deferred items into columns, one value per payload each."""


@dataclass(frozen=True)
class StreamSnapshot:
    """What a query reads: segments on disk plus tables still in memory, in log order."""

    segments: tuple[Segment, ...]
    memory: tuple[pa.Table, ...]
    schema: pa.Schema | None = None
    """The Delta table's physical schema (companion columns included), if it exists."""

    @property
    def num_rows(self) -> int:
        """Rows in the snapshot."""
        return sum(s.num_rows for s in self.segments) + sum(int(t.num_rows) for t in self.memory)


class Stream:
    """Buffer, converter and segment writer of one stream (see module docstring)."""

    def __init__(
        self,
        location: Location | None,
        client_id: str,
        *,
        table_name: str,
        key_column: str,
        generate_ids: bool,
        writable: bool,
    ) -> None:
        self.pending: list[Item] = []
        self.index = SegmentIndex(location)
        self._location = location
        self._table_name = table_name
        self._writable = writable
        self._key_column = key_column
        self._generate_ids = generate_ids
        self.may_have_images = False
        self.rejected_rows = 0
        """Rows replaced by their ``_log_error`` because no file could hold them."""
        self._builders: list[Builder] = []
        self.shapes = RowShapes()
        """The row shapes of this stream's pending items."""
        self._reset(client_id)

    def _reset(self, client_id: str) -> None:
        """Start as a new writer named ``client_id`` with nothing of its own in memory."""
        self.lock = threading.Lock()
        self.convert_lock = threading.RLock()
        self.write_lock = threading.Lock()
        self._unwritten: list[tuple[pa.Table, int]] = []
        self._unwritten_rows = 0
        self._converting = 0
        self._client_id = client_id
        self._client_column: pa.Array | None = None
        self._next_id = 0
        location = self._location
        self._writer = (
            SegmentWriter(location, self.index, client_id, self._table_name)
            if location is not None and self._writable
            else None
        )

    def after_fork(self, client_id: str) -> None:
        """In a forked child: the rows inherited from the parent are the parent's to write."""
        del self.pending[:]  # same list object: deferred writers hold its append
        self.index.after_fork()
        self._reset(client_id)

    @property
    def uri(self) -> str | None:
        """Where this stream's Delta table lives."""
        return self._location.uri if self._location is not None else None

    def create(self, schema: pa.Schema) -> None:
        """Create the Delta table with ``schema`` unless it exists."""
        assert self._location is not None
        call(
            _delta.create,
            self._location.uri,
            dict(self._location.storage_options),
            schema,
            self._table_name,
        )

    @property
    def backlog(self) -> int:
        """Accepted rows not yet committed by this writer."""
        return len(self.pending) + self._converting + self._unwritten_rows

    @property
    def commit_retries(self) -> int:
        """Commits this writer retried after conflicts with other writers."""
        return self._writer.retries if self._writer is not None else 0

    def __len__(self) -> int:
        return self.index.total_rows + self._unwritten_rows + self._converting + len(self.pending)

    def extend(self, rows: Sequence[dict[str, Any]], *, images: bool = False) -> None:
        """Accept already-validated rows (this stream's own copies), stamped now.

        ``images`` says the rows may hold :class:`Image` values (sticky: once a
        stream has seen one, conversion looks for them in nested values).
        """
        if images:
            self.may_have_images = True
        now = time.time_ns()
        for row in rows:
            row[STAMP] = now
        self.pending.extend(rows)

    def add_builder(self, build: Builder) -> int:
        """Register ``build`` for deferred items; returns the number that names it."""
        with self.lock:
            self._builders.append(build)
            return len(self._builders) - 1

    def drain(self, limit: int | None = None) -> int:
        """Convert the pending items, or the first ``limit``, to Arrow (caller holds
        ``convert_lock``); returns how many."""
        count = len(self.pending) if limit is None else min(limit, len(self.pending))
        if not count:
            return 0
        items = self.pending[:count]
        with self.lock:
            self._converting = count
            del self.pending[:count]  # rows appended meanwhile stay for the next drain
        try:
            tables = joined(
                [
                    self._run_to_arrow(items[start : min(start + CHUNK_ROWS, run.stop)])
                    for run in self.shapes.joined_runs(runs(items), items)
                    for start in range(run.start, run.stop, CHUNK_ROWS)
                ]
            )
        except BaseException:
            with self.lock:  # never drop accepted rows: put them back in front
                self.pending[:0] = items
                self._converting = 0
            raise
        with self.lock:
            for table, first_us in tables:
                self._unwritten.append((table, first_us))
                self._unwritten_rows += table.num_rows
            self._converting = 0
        return count

    def add_shape(self, names: list[str]) -> int:
        """Register a row shape (see :mod:`._shapes`): rows kept as ``(time_ns, kind,
        values)``, the values in the order of ``names``; returns the kind that names it."""
        kind = self.add_builder(functools.partial(values_to_columns, names))
        self.shapes.add(kind, names)
        return kind

    def _run_to_arrow(self, run: list[Item]) -> tuple[pa.Table, int]:
        """A run of items of one kind as a table, and its first log time (µs)."""
        if self.shapes.is_row(run[0]):
            stamps, values = self.shapes.columns(run)
            table = self._to_arrow(values, stamps, images=self.may_have_images)
            return cut_oversized(table), int(stamps[0]) // 1000
        stamps = np.fromiter(map(itemgetter(0), run), np.int64, len(run))
        payloads = list(map(itemgetter(2), run))
        try:
            columns = dict(self._builders[run[0][1]](payloads))  # type: ignore[index]
            if any(len(column) != len(run) for column in columns.values()):
                raise ValueError(f"built columns of other lengths than {len(run)} items")
        except Exception as error:
            warnings.warn(
                f"weave_nb: {len(run)} deferred rows could not be built ({error!r}); "
                "stored rows with only their '_log_error'",
                RuntimeWarning,
                stacklevel=1,
            )
            columns = {"_log_error": [f"{type(error).__name__}: {error}"] * len(run)}
        # Built values were not normalized, so images are looked for in every run.
        return self._to_arrow(columns, stamps, images=True), int(stamps[0]) // 1000

    def snapshot(self) -> StreamSnapshot:
        """Everything visible now; converts pending rows first."""
        with self.convert_lock:
            self.drain()
            with self.lock:
                return StreamSnapshot(
                    tuple(self.index.segments),
                    tuple(t for t, _ in self._unwritten),
                    self.index.schema,
                )

    def write(self) -> bool:
        """Move converted rows into segments; returns whether anything was written.

        Only the conversion holds ``convert_lock``; encoding and writing the file
        happen outside it (the batch stays visible in memory meanwhile), so
        readers wait for Arrow, never for the disk. ``write_lock`` keeps the
        flusher and an explicit ``flush()`` from writing the same batch twice.
        """
        if self._writer is None:
            return False
        wrote = False
        with self.write_lock:
            if len(self.pending) + self._unwritten_rows >= 2 * PART_ITEMS:
                wrote = self._write_pipelined()
            with self.convert_lock:
                self.drain()
                pending = list(self._unwritten)
            while pending:
                tables = [t for t, _ in pending]
                try:
                    # No type promotion: Arrow would make a str batch next to a bytes one
                    # bytes. Batches of other types are written one by one, each fitted
                    # to the table's schema under the conflict rule.
                    merged = pa.concat_tables(tables, promote_options="default")
                    count = len(tables)
                except (pa.ArrowInvalid, pa.ArrowTypeError):
                    merged, count = tables[0], 1
                try:
                    segment = self._writer.write(merged, pending[0][1])
                except _STORAGE_ERRORS:
                    raise
                except Exception as error:  # a value no check caught: keep the others
                    segment = self._writer.write(self._isolate(merged, error), pending[0][1])
                with self.lock:
                    self.index.add([segment])
                    del self._unwritten[:count]
                    self._unwritten_rows -= merged.num_rows
                del pending[:count]
                wrote = True
            if wrote:
                self._compact()
        return wrote

    def _write_pipelined(self) -> bool:
        """Write what is pending now as one file, converting each part while the
        previous one is encoded (see :mod:`._encoder`); returns whether it did.

        Anything this cannot write (columns that differ between parts, a value no
        check caught) stays converted in memory for :meth:`write`'s own path.
        """
        assert self._writer is not None
        left = len(self.pending)
        taken = 0

        def parts() -> Iterator[tuple[pa.Table, int]]:
            nonlocal left, taken
            while True:
                with self.convert_lock:
                    with self.lock:
                        ready = self._unwritten[taken:]
                    if not ready and left > 0:
                        converted = self.drain(limit=min(left, PART_ITEMS))
                        left = left - converted if converted else 0  # a reader took the rest
                        with self.lock:
                            ready = self._unwritten[taken:]
                if not ready:
                    return
                taken += len(ready)
                yield from ready

        try:
            written = self._writer.write_parts(parts())
        except _STORAGE_ERRORS:
            raise
        except Exception:  # e.g. a value no check caught: write() isolates it
            return False
        if written is None:
            return False
        segment, count = written
        with self.lock:
            self.index.add([segment])
            self._unwritten_rows -= sum(t.num_rows for t, _ in self._unwritten[:count])
            del self._unwritten[:count]
        return True

    def _isolate(self, batch: pa.Table, error: Exception) -> pa.Table:
        """``batch`` with each row that cannot be written replaced by its ``_log_error``.

        The second line of defence behind ``log()``'s checks: a value that slips
        through must cost its own row's data, never the rows logged after it.
        """
        assert self._writer is not None
        writable = self._writer.writable

        def bad_rows(part: pa.Table, start: int) -> list[int]:  # bisect: O(bad · log n) checks
            if writable(without_empty_columns(part)):
                return []
            if part.num_rows == 1:
                return [start]
            half = part.num_rows // 2
            return bad_rows(part.slice(0, half), start) + bad_rows(part.slice(half), start + half)

        bad = bad_rows(batch, 0)
        if not bad:
            raise error
        mask = np.ones(batch.num_rows, dtype=bool)
        mask[bad] = False
        # Columns only the bad rows had values in may be what cannot be written: drop them.
        kept = without_empty_columns(batch.filter(pa.array(mask)))
        keep = [kept] if kept.num_rows else []
        self.rejected_rows += len(bad)
        warnings.warn(
            f"weave_nb: {len(bad)} row(s) of {self.uri} could not be written ({error!r}); "
            "stored with only their key, time and '_log_error'",
            RuntimeWarning,
            stacklevel=1,
        )
        key = self._key_column
        stubs = batch.take(pa.array(bad)).select(
            [n for n in (key, "_timestamp", "_client_id") if n in batch.column_names]
        )
        stubs = stubs.append_column(
            "_log_error", pa.array([f"{type(error).__name__}: {error}"] * len(bad), pa.string())
        )
        return pa.concat_tables([*keep, stubs], promote_options="permissive")

    def compact_all(self) -> int:
        """Merge runs of small committed files of any writer; returns the files merged."""
        if self._writer is None:
            return 0
        with self.write_lock:
            return self._writer.compact_all()

    def delete(self, predicate: str) -> int:
        """Delete the committed rows matching a Delta SQL predicate; returns how many."""
        assert self._location is not None
        with self.write_lock:
            deleted = call(
                _delta.delete_rows,
                self._location.uri,
                dict(self._location.storage_options),
                predicate,
            )
            self.index.refresh()
        return deleted

    def vacuum(self, retention: dt.timedelta) -> int:
        """Remove files no version younger than ``retention`` references; returns how many."""
        assert self._location is not None
        removed = call(
            _delta.vacuum,
            self._location.uri,
            dict(self._location.storage_options),
            retention.total_seconds() / 3600,
        )
        return len(removed)

    def _compact(self) -> None:
        assert self._writer is not None
        run = self._writer.compaction_candidates()
        if run:
            self._writer.compact(run)

    # -- conversion --------------------------------------------------------

    def _to_arrow(
        self, values: Mapping[str, Any], stamps: np.ndarray[Any, Any], *, images: bool
    ) -> pa.Table:
        """Columns (lists or Arrow arrays) plus the automatic ones, as one table."""
        n = len(stamps)
        columns: dict[str, pa.Array] = {}
        key = self._key_column
        if self._generate_ids:
            columns[key] = self._ids(values.get(key), n)
        elif key in values:
            columns[key] = _as_array(values[key], images)
        timestamps = stamps // 1000
        if "_timestamp" in values:
            columns["_timestamp"] = user_timestamps(values["_timestamp"], timestamps)
        else:
            columns["_timestamp"] = pa.array(timestamps, type=pa.int64()).cast(TIMESTAMP_TYPE)
        columns["_client_id"] = self._client_ids(n)
        for name, column in values.items():
            if name not in columns:
                columns[name] = _as_array(column, images)
        return pa.table(columns)

    def _client_ids(self, n: int) -> pa.Array:
        """The ``_client_id`` column of ``n`` rows: this writer's id, repeated.

        Arrays are immutable, so the one of the usual batch size is made once.
        """
        column = self._client_column
        if column is None or len(column) < n:  # _reset clears it with the client id
            column = pa.repeat(pa.scalar(self._client_id, pa.string()), max(n, CHUNK_ROWS))
            self._client_column = column
        return column.slice(0, n)

    def _ids(self, given: list[Any] | pa.Array | None, n: int) -> pa.Array:
        """User ids where given, else ``<client_id>-<n>``: unique across writers and runs."""
        if isinstance(given, pa.Array):  # ids of one plain type
            if not given.null_count:
                return given
            given = given.to_pylist()
        prefix, start = f"{self._client_id}-", self._next_id
        if given is None or given.count(None) == n:
            self._next_id += n
            return numbered_ids(prefix, start, n)
        ids: list[Any] = []
        for value in given:
            if value is None:
                value = f"{prefix}{self._next_id}"
                self._next_id += 1
            ids.append(value)
        return column_to_arrow(ids, images=False)


def _as_array(column: Sequence[Any] | pa.Array, images: bool) -> pa.Array:
    """A built column (a list, or already an Arrow array) as an Arrow array."""
    if isinstance(column, pa.Array):
        return column
    return column_to_arrow(column if type(column) is list else list(column), images)
