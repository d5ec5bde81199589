"""Segment files on disk: naming, atomic writes, compaction, and an index of what is there.

A stream directory (``<table>/rows`` or ``<table>/annotations``) holds Parquet
files written by any number of writers, each file immutable once it has its name:

    <first_ts_us:016d>-<client_id>-<first_seq:08d>-<last_seq:08d>.parquet

A file is written under a hidden temporary name and renamed into place, so a
crashed writer leaves either a whole file or a hidden ``.tmp`` nobody reads.
Compaction merges a writer's small files into one whose sequence range covers
theirs; readers drop any file whose range another file of the same writer
covers, so the brief moment when both exist never double-counts a row.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import threading
import uuid
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

__all__ = ["Segment", "SegmentIndex", "SegmentWriter"]

_NAME = re.compile(r"^(\d{16})-([0-9a-z]+)-(\d{8})-(\d{8})\.parquet$")
_ROW_GROUP_ROWS = 64 * 1024
_COMPACT_BELOW_ROWS = 256 * 1024
_COMPACT_RUN = 8
_TIER_BITS = 2
"""Segments whose row counts have the same bit length // this are one size tier (×4)."""


@dataclass(frozen=True)
class Segment:
    """One immutable Parquet file of a stream and what its footer says."""

    path: Path
    first_ts_us: int
    client_id: str
    first_seq: int
    last_seq: int
    num_rows: int
    schema: pa.Schema
    row_group_rows: tuple[int, ...]
    time_range: tuple[dt.datetime, dt.datetime] | None = None
    """Earliest and latest ``_timestamp``, from the footer's statistics (if written)."""

    @property
    def order_key(self) -> tuple[int, str, int]:
        """Natural (log) order: by the time the segment's first row was logged."""
        return (self.first_ts_us, self.client_id, self.first_seq)

    def covers(self, other: Segment) -> bool:
        """Whether this (compacted) segment holds every row of ``other``."""
        return (
            self is not other
            and self.client_id == other.client_id
            and self.first_seq <= other.first_seq
            and other.last_seq <= self.last_seq
            and (self.first_seq, self.last_seq) != (other.first_seq, other.last_seq)
        )

    def read(self, columns: Sequence[str] | None = None) -> pa.Table:
        """The whole segment as a table."""
        # ParquetFile, not read_table: the latter loads pyarrow.dataset (and pandas).
        return pq.ParquetFile(self.path).read(columns=columns)

    def read_slice(self, start: int, stop: int) -> pa.Table:
        """Rows ``[start, stop)`` of this segment, reading only the row groups they span."""
        groups: list[int] = []
        first_row = row = 0
        for i, n in enumerate(self.row_group_rows):
            if row + n > start and row < stop:
                if not groups:
                    first_row = row
                groups.append(i)
            row += n
        table = pq.ParquetFile(self.path).read_row_groups(groups)
        return table.slice(start - first_row, stop - start)


def _open_segment(path: Path) -> Segment | None:
    match = _NAME.match(path.name)
    if match is None:
        return None
    try:
        meta = pq.read_metadata(path)
        schema = meta.schema.to_arrow_schema()
    except FileNotFoundError:  # compacted away by its writer since the listing
        return None
    except (OSError, pa.ArrowException) as error:
        warnings.warn(
            f"weave_nb: skipping unreadable segment {path} ({error}); "
            "rows in other segments are unaffected",
            RuntimeWarning,
            stacklevel=3,
        )
        return None
    ts, client, first, last = match.groups()
    return Segment(
        path=path,
        first_ts_us=int(ts),
        client_id=client,
        first_seq=int(first),
        last_seq=int(last),
        num_rows=meta.num_rows,
        schema=schema,
        row_group_rows=tuple(meta.row_group(i).num_rows for i in range(meta.num_row_groups)),
        time_range=_time_range(meta, schema),
    )


def _time_range(meta: pq.FileMetaData, schema: pa.Schema) -> tuple[dt.datetime, dt.datetime] | None:
    """``_timestamp``'s min and max over the row groups, read from their statistics.

    Raw (integer) statistics: converting them to datetimes through pyarrow would
    import pandas on the first open of a table.
    """
    field = schema.field("_timestamp") if "_timestamp" in schema.names else None
    if field is None or field.type != _TIMESTAMP_US or meta.num_row_groups == 0:
        return None
    column = schema.get_field_index("_timestamp")
    lows, highs = [], []
    for i in range(meta.num_row_groups):
        stats = meta.row_group(i).column(column).statistics
        if stats is None or not stats.has_min_max:
            return None
        lows.append(stats.min_raw)
        highs.append(stats.max_raw)
    return _EPOCH + dt.timedelta(microseconds=min(lows)), _EPOCH + dt.timedelta(
        microseconds=max(highs)
    )


_TIMESTAMP_US = pa.timestamp("us", tz="UTC")
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)


class SegmentIndex:
    """The live set of segments in one stream directory, in natural order.

    ``refresh()`` lists the directory and reads the footers of files it has not
    seen (files never change once named, so a footer is read once); files that
    were compacted away disappear. Segments a writer of this process produced are
    ``add``-ed directly so its own rows never wait for a listing.
    """

    def __init__(self, directory: Path | None) -> None:
        self._directory = directory
        self._known: dict[str, Segment] = {}
        self._bad: set[str] = set()
        self._visible: list[Segment] = []
        self._total = 0
        self._lock = threading.Lock()

    @property
    def segments(self) -> list[Segment]:
        """Visible segments (covered ones dropped) in natural order."""
        return self._visible

    @property
    def total_rows(self) -> int:
        """Rows in the visible segments."""
        return self._total

    def refresh(self) -> bool:
        """Pick up segments added or removed by any writer; returns whether anything changed."""
        if self._directory is None:
            return False
        names, opened, vanished = self._scan()
        with self._lock:
            known = list(self._known)
        if vanished or any(n not in names for n in known):
            # A writer creates its merged file before deleting the files it covers; a
            # listing taken meanwhile may hold neither, so list once more, afterwards.
            names, more, _ = self._scan()
            opened = {n: s for n, s in {**opened, **more}.items() if n in names}
        with self._lock:
            # A file named after the listing (this process's own writer) is not gone.
            gone = [n for n in self._known if n not in names and not (self._directory / n).exists()]
            if not opened and not gone:
                return False
            for name in gone:
                del self._known[name]
            self._known.update(opened)
            self._recompute()
        return True

    def _scan(self) -> tuple[set[str], dict[str, Segment], bool]:
        """Segment names now, the footers of unseen ones, and whether one vanished meanwhile."""
        assert self._directory is not None
        try:
            names = {
                entry.name
                for entry in os.scandir(self._directory)
                if entry.name.endswith(".parquet") and not entry.name.startswith(".")
            }
        except FileNotFoundError:
            names = set()
        opened: dict[str, Segment] = {}
        vanished = False
        for name in names:
            if name in self._known or name in self._bad:
                continue
            path = self._directory / name
            segment = _open_segment(path)
            if segment is not None:
                opened[name] = segment
            elif path.exists():
                self._bad.add(name)
            else:
                vanished = True
        return names, opened, vanished

    def add(self, segment: Segment) -> None:
        """Register a segment this process just wrote."""
        with self._lock:
            self._known[segment.path.name] = segment
            self._recompute()

    def remove(self, segments: Sequence[Segment]) -> None:
        """Forget segments this process just compacted away."""
        with self._lock:
            for segment in segments:
                self._known.pop(segment.path.name, None)
            self._recompute()

    def _recompute(self) -> None:
        by_client: dict[str, list[Segment]] = {}
        for segment in self._known.values():
            by_client.setdefault(segment.client_id, []).append(segment)
        visible = [
            s
            for group in by_client.values()
            for s in group
            if not any(other.covers(s) for other in group)
        ]
        visible.sort(key=lambda s: s.order_key)
        self._visible = visible
        self._total = sum(s.num_rows for s in visible)


def _tier(segment: Segment) -> int:
    return segment.num_rows.bit_length() // _TIER_BITS


class SegmentWriter:
    """Writes one writer's segments into a stream directory and compacts its small ones."""

    def __init__(self, directory: Path, client_id: str) -> None:
        self._directory = directory
        self._client_id = client_id
        self._next_seq = 0
        self._own: list[Segment] = []

    def write(self, table: pa.Table, first_ts_us: int) -> Segment:
        """Write ``table`` as the next segment, atomically; returns it."""
        seq = self._next_seq
        segment = self._write(table, first_ts_us, seq, seq)
        self._next_seq += 1
        self._own.append(segment)
        return segment

    def compaction_candidates(self) -> list[Segment]:
        """The newest run of own small segments of one size tier, once it is long enough.

        Merging only segments of similar size (size-tiered, as log-structured
        stores do) rewrites each row a logarithmic number of times; merging the
        growing result again with every few new files would rewrite it each time.
        A run also stops at segments whose column types conflict (str vs dict):
        those files keep their own types and stay apart.
        """
        run: list[Segment] = []
        schema: pa.Schema | None = None
        for segment in reversed(self._own):
            if run and _tier(segment) == _tier(run[-1]):
                try:
                    schema = pa.unify_schemas(
                        [segment.schema, schema], promote_options="permissive"
                    )
                    run.append(segment)
                    continue
                except (pa.ArrowInvalid, pa.ArrowTypeError):
                    pass
            if len(run) >= _COMPACT_RUN:
                break
            small = segment.num_rows < _COMPACT_BELOW_ROWS
            run, schema = ([segment], segment.schema) if small else ([], None)
        return run[::-1] if len(run) >= _COMPACT_RUN else []

    def compact(self, run: list[Segment], merged: pa.Table) -> Segment:
        """Write ``merged`` (the rows of ``run``, in order) as one covering segment."""
        segment = self._write(merged, run[0].first_ts_us, run[0].first_seq, run[-1].last_seq)
        at = self._own.index(run[0])
        self._own[at : at + len(run)] = [segment]
        return segment

    def _write(self, table: pa.Table, first_ts_us: int, first: int, last: int) -> Segment:
        self._directory.mkdir(parents=True, exist_ok=True)
        name = f"{first_ts_us:016d}-{self._client_id}-{first:08d}-{last:08d}.parquet"
        path = self._directory / name
        tmp = self._directory / f".{name}.{uuid.uuid4().hex[:8]}.tmp"
        try:
            pq.write_table(
                table, tmp, compression="zstd", use_dictionary=False, row_group_size=_ROW_GROUP_ROWS
            )
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
        segment = _open_segment(path)
        if segment is None:
            raise OSError(f"weave_nb: segment {path} was written but cannot be read back")
        return segment
