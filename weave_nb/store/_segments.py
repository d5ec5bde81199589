"""Data files of one stream: each committed file, and the committed set (from the Delta log).

Only files the Delta log has committed are ever read, so a file written by a
writer that crashed before committing, or a foreign file dropped into the
directory, is invisible (and removed by vacuum). Files never change once
committed: their footers and columns are cached by name, and a remote file is
downloaded once into a local cache and read from there.
"""

from __future__ import annotations

import datetime as dt
import threading
import warnings
from collections.abc import Sequence
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from . import _delta
from ._delta_worker import call
from ._layout import parse_data_file_name
from ._location import Location

__all__ = ["Segment", "SegmentIndex"]

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)


class Segment:
    """One committed, immutable Parquet data file of a stream."""

    __slots__ = ("_footer", "_lock", "_path", "location", "name", "num_rows", "time_range")

    def __init__(
        self,
        location: Location,
        name: str,
        num_rows: int,
        time_range: tuple[dt.datetime, dt.datetime] | None,
    ) -> None:
        self.location = location
        self.name = name
        self.num_rows = num_rows
        self.time_range = time_range
        """Earliest and latest ``_timestamp`` (from the Delta statistics), if known."""
        self._path: Path | None = location.local / name if location.local is not None else None
        self._footer: pq.FileMetaData | None = None
        self._lock = threading.Lock()

    @property
    def order_key(self) -> tuple[int, str, int]:
        """Natural (log) order: by the log time of the file's first row."""
        parsed = parse_data_file_name(self.name)
        if parsed is not None:
            return (parsed[0], parsed[1], parsed[2])
        first = self.time_range[0] if self.time_range else _EPOCH
        return ((first - _EPOCH) // dt.timedelta(microseconds=1), self.name, 0)

    @property
    def path(self) -> Path:
        """A local path of the file (downloaded into the cache first if remote)."""
        if self._path is None or not self._path.exists():
            with self._lock:
                if self._path is None or not self._path.exists():
                    self._path = _download(self.location, self.name)
        return self._path

    @property
    def footer(self) -> pq.FileMetaData:
        """The file's Parquet footer."""
        if self._footer is None:
            self._footer = pq.read_metadata(self.path)
        return self._footer

    @property
    def schema(self) -> pa.Schema:
        """The file's Arrow schema."""
        return self.footer.schema.to_arrow_schema()

    @property
    def row_group_rows(self) -> tuple[int, ...]:
        """Rows of each row group."""
        meta = self.footer
        return tuple(meta.row_group(i).num_rows for i in range(meta.num_row_groups))

    def read(self, columns: Sequence[str] | None = None) -> pa.Table:
        """The whole segment as a table."""
        # ParquetFile, not read_table: the latter loads pyarrow.dataset (and pandas).
        return pq.ParquetFile(self.path, page_checksum_verification=True).read(columns=columns)

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
        file = pq.ParquetFile(self.path, page_checksum_verification=True)
        return file.read_row_groups(groups).slice(start - first_row, stop - start)

    def __repr__(self) -> str:
        return f"Segment({self.name!r}, {self.num_rows} rows)"


def _download(location: Location, name: str) -> Path:
    """Copy a remote data file into the local cache (once) and return its path."""
    cache = location.cache_dir()
    cache.mkdir(parents=True, exist_ok=True)
    target = cache / name
    if not target.exists():
        location.download(name, target)
    return target


class SegmentIndex:
    """The committed data files of one stream, in natural order.

    ``refresh()`` reads the Delta log's new entries and keeps ``Segment`` objects
    of files it already knew (their footers and cached columns stay valid).
    A writer of this process ``add``s what it just committed, so its own rows
    never wait for a refresh; both happen under one lock, so a refresh that
    read an older version cannot hide a file added meanwhile.
    """

    def __init__(self, location: Location | None) -> None:
        self._location = location
        self._known: dict[str, Segment] = {}
        self._visible: list[Segment] = []
        self._total = 0
        self._schema: pa.Schema | None = None
        self._version = -1
        self._expected: dict[str, tuple[Segment, ...]] = {}
        self._bad: set[str] = set()
        self._lock = threading.Lock()

    @property
    def segments(self) -> list[Segment]:
        """Committed segments in natural order."""
        return self._visible

    @property
    def total_rows(self) -> int:
        """Rows in the committed segments."""
        return self._total

    @property
    def schema(self) -> pa.Schema | None:
        """The Delta table's (physical) schema, if the table exists."""
        return self._schema

    @property
    def version(self) -> int:
        """The Delta version last read (-1 before the table exists)."""
        return self._version

    def refresh(self) -> bool:
        """Read new commits of any writer; returns whether the set of files changed."""
        if self._location is None:
            return False
        with self._lock:
            state = call(_delta.load, self._location.uri, dict(self._location.storage_options))
            if state is None or state.version == self._version:
                return False
            self._version = state.version
            self._schema = state.schema
            known: dict[str, Segment] = {}
            for file in state.files:
                if file.path in self._expected:
                    # Committed by this process, not yet swapped for its rows in memory
                    # (or for the files it replaces): keep counting those instead.
                    known.update((s.name, s) for s in self._expected[file.path])
                    continue
                segment = self._known.get(file.path)
                if segment is None:
                    if file.path in self._bad:
                        continue
                    segment = Segment(self._location, file.path, file.num_rows, _range(file))
                    if not _readable(segment):
                        self._bad.add(file.path)
                        continue
                known[file.path] = segment
            changed = known.keys() != self._known.keys()
            gone = [s for n, s in self._known.items() if n not in known]
            self._known = known
            self._recompute()
        _forget(gone)
        return changed

    def expect(self, name: str, replaces: Sequence[Segment] = ()) -> None:
        """A file this process is committing: until ``add``, refreshes leave it out
        (its rows are still counted in memory, or in the files it ``replaces``)."""
        with self._lock:
            self._expected[name] = tuple(replaces)

    def after_fork(self) -> None:
        """In a forked child: fresh lock (the parent's may have been held), no commits under way."""
        self._lock = threading.Lock()
        self._expected = {}

    def unexpect(self, name: str) -> None:
        """The commit of ``name`` failed."""
        with self._lock:
            self._expected.pop(name, None)

    def add(self, segments: Sequence[Segment], removed: Sequence[Segment] = ()) -> None:
        """Register what this process just committed: new files, and files it removed."""
        with self._lock:
            for segment in segments:
                self._expected.pop(segment.name, None)
                self._known[segment.name] = segment
            for segment in removed:
                self._known.pop(segment.name, None)
            self._recompute()
        _forget(removed)

    def _recompute(self) -> None:
        visible = sorted(self._known.values(), key=lambda s: s.order_key)
        if any(s.num_rows < 0 for s in visible):  # a foreign file without statistics
            for segment in visible:
                if segment.num_rows < 0:
                    segment.num_rows = segment.footer.num_rows
        self._visible = visible
        self._total = sum(s.num_rows for s in visible)


def _range(file: _delta.DataFile) -> tuple[dt.datetime, dt.datetime] | None:
    if file.min_ts_us is None or file.max_ts_us is None:
        return None
    return (
        _EPOCH + dt.timedelta(microseconds=file.min_ts_us),
        _EPOCH + dt.timedelta(microseconds=file.max_ts_us),
    )


def _readable(segment: Segment) -> bool:
    """Whether a committed local file's footer reads (storage damage is reported once).

    Remote files are checked when first downloaded, not at every refresh.
    """
    if segment.location.is_remote:
        return True
    try:
        segment.footer  # noqa: B018 - reading it is the check
    except (OSError, pa.ArrowException) as error:
        warnings.warn(
            f"weave_nb: skipping unreadable data file {segment.location}/{segment.name} "
            f"({error}); rows in other files are unaffected",
            RuntimeWarning,
            stacklevel=4,
        )
        return False
    return True


def _forget(segments: Sequence[Segment]) -> None:
    """Drop cached copies of remote files that are no longer committed."""
    for segment in segments:
        if segment.location.is_remote and segment._path is not None:
            segment._path.unlink(missing_ok=True)
