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
``drain``. Neither form costs the garbage collector anything while it waits: a
dict of plain values and a tuple of plain values are not tracked, whereas a
``(time, row)`` pair would be, and a long queue of tracked objects makes every
full collection slower.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from itertools import groupby
from operator import itemgetter
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ._segments import Segment, SegmentIndex, SegmentWriter
from ._values import column_to_arrow, rows_to_columns

__all__ = ["STAMP", "Builder", "Stream", "StreamSnapshot"]

TIMESTAMP_TYPE = pa.timestamp("us", tz="UTC")

STAMP = ""
"""Key of a pending row's log time (ns); ``log()`` refuses an empty column name."""

Builder = Callable[[list[Any]], Mapping[str, "Sequence[Any] | pa.Array"]]
"""Turns the payloads of deferred items into columns, one value per payload each."""


@dataclass(frozen=True)
class StreamSnapshot:
    """What a query reads: segments on disk plus tables still in memory, in log order."""

    segments: tuple[Segment, ...]
    memory: tuple[pa.Table, ...]

    @property
    def num_rows(self) -> int:
        """Rows in the snapshot."""
        return sum(s.num_rows for s in self.segments) + sum(int(t.num_rows) for t in self.memory)


class Stream:
    """Buffer, converter and segment writer of one stream (see module docstring)."""

    def __init__(
        self,
        directory: Path | None,
        client_id: str,
        *,
        key_column: str,
        generate_ids: bool,
        writable: bool,
    ) -> None:
        self.pending: list[dict[str, Any] | tuple[int, int, Any]] = []
        self.lock = threading.Lock()
        self.convert_lock = threading.RLock()
        self.write_lock = threading.Lock()
        self.index = SegmentIndex(directory)
        self._unwritten: list[tuple[pa.Table, int]] = []
        self._unwritten_rows = 0
        self._converting = 0
        self._client_id = client_id
        self._key_column = key_column
        self._generate_ids = generate_ids
        self._next_id = 0
        self._writer = (
            SegmentWriter(directory, client_id) if directory is not None and writable else None
        )
        self.write_error: BaseException | None = None
        self.may_have_images = False
        self._builders: list[Builder] = []

    def __len__(self) -> int:
        return self.index.total_rows + self._unwritten_rows + self._converting + len(self.pending)

    @property
    def has_unsaved(self) -> bool:
        """Whether rows accepted by this process are not yet in a segment."""
        return bool(self.pending or self._converting or (self._writer and self._unwritten))

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

    def drain(self) -> None:
        """Convert every pending item to Arrow (caller holds ``convert_lock``)."""
        count = len(self.pending)
        if not count:
            return
        items = self.pending[:count]
        with self.lock:
            self._converting = count
            del self.pending[:count]  # rows appended meanwhile stay for the next drain
        try:
            if self._builders:
                tables = [self._run_to_arrow(list(run)) for _, run in groupby(items, _run_kind)]
            else:
                tables = [self._rows_to_arrow(items)]  # type: ignore[arg-type]
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

    def _run_to_arrow(self, run: list[Any]) -> tuple[pa.Table, int]:
        """A run of items of one kind as a table, and its first log time (µs)."""
        if type(run[0]) is dict:
            return self._rows_to_arrow(run)
        build = self._builders[run[0][1]]
        payloads = list(map(itemgetter(2), run))
        stamps = list(map(itemgetter(0), run))
        try:
            columns = dict(build(payloads))
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
        return self._to_arrow(columns, stamps, images=True), stamps[0] // 1000

    def _rows_to_arrow(self, rows: list[dict[str, Any]]) -> tuple[pa.Table, int]:
        values = rows_to_columns(rows)
        stamps = values.pop(STAMP)
        return self._to_arrow(values, stamps, images=self.may_have_images), stamps[0] // 1000

    def snapshot(self) -> StreamSnapshot:
        """Everything visible now; converts pending rows first."""
        with self.convert_lock:
            self.drain()
            with self.lock:
                return StreamSnapshot(
                    tuple(self.index.segments), tuple(t for t, _ in self._unwritten)
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
            with self.convert_lock:
                self.drain()
                pending = list(self._unwritten)
            while pending:
                tables = [t for t, _ in pending]
                try:
                    merged = pa.concat_tables(tables, promote_options="permissive")
                    count = len(tables)
                except (pa.ArrowInvalid, pa.ArrowTypeError):
                    merged, count = tables[0], 1
                segment = self._writer.write(merged, pending[0][1])
                with self.lock:
                    self.index.add(segment)
                    del self._unwritten[:count]
                    self._unwritten_rows -= merged.num_rows
                del pending[:count]
                wrote = True
            if wrote:
                self._compact()
        return wrote

    def _compact(self) -> None:
        assert self._writer is not None
        run = self._writer.compaction_candidates()
        if not run:
            return
        merged = pa.concat_tables([s.read() for s in run], promote_options="permissive")
        segment = self._writer.compact(run, merged)
        with self.lock:
            self.index.add(segment)
            self.index.remove(run)
        for old in run:
            old.path.unlink(missing_ok=True)

    # -- conversion --------------------------------------------------------

    def _to_arrow(self, values: Mapping[str, Any], stamps: list[int], *, images: bool) -> pa.Table:
        """Columns (lists or Arrow arrays) plus the automatic ones, as one table."""
        n = len(stamps)
        columns: dict[str, pa.Array] = {}
        key = self._key_column
        if self._generate_ids:
            columns[key] = self._ids(values.get(key), n)
        elif key in values:
            columns[key] = column_to_arrow(values[key], images)
        timestamps = np.asarray(stamps, dtype=np.int64) // 1000
        if "_timestamp" in values:
            columns["_timestamp"] = _user_timestamps(values["_timestamp"], timestamps)
        else:
            columns["_timestamp"] = pa.array(timestamps, type=pa.int64()).cast(TIMESTAMP_TYPE)
        columns["_client_id"] = pa.array([self._client_id] * n, type=pa.string())
        for name, column in values.items():
            if name not in columns:
                columns[name] = (
                    column if isinstance(column, pa.Array) else column_to_arrow(column, images)
                )
        return pa.table(columns)

    def _ids(self, given: list[Any] | None, n: int) -> pa.Array:
        """User ids where given, else ``<client_id>-<n>``: unique across writers and runs."""
        prefix, start = f"{self._client_id}-", self._next_id
        if given is None or given.count(None) == n:
            self._next_id += n
            numbers = pa.array(np.arange(start, start + n, dtype=np.int64)).cast(pa.string())
            return pc.binary_join_element_wise(prefix, numbers, "")
        ids: list[Any] = []
        for value in given:
            if value is None:
                value = f"{prefix}{self._next_id}"
                self._next_id += 1
            ids.append(value)
        return column_to_arrow(ids, images=False)


def _run_kind(item: dict[str, Any] | tuple[int, int, Any]) -> int:
    """Rows are kind -1, deferred items the number of their builder."""
    return -1 if type(item) is dict else item[1]  # type: ignore[index]


def _user_timestamps(values: list[Any], logged_us: np.ndarray[Any, Any]) -> pa.Array:
    """``_timestamp`` given by the user (backfill) where present, log time elsewhere."""
    epoch = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
    out = []
    for value, fallback in zip(values, logged_us.tolist(), strict=True):
        if value is None:
            out.append(fallback)
        else:
            if value.tzinfo is None:
                value = value.replace(tzinfo=dt.timezone.utc)
            out.append((value - epoch) // dt.timedelta(microseconds=1))
    return pa.array(out, type=pa.int64()).cast(TIMESTAMP_TYPE)
