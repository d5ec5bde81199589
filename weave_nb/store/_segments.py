"""Data files of one stream: the committed set (from the Delta log), writing and compacting.

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
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from . import _delta
from ._fit import fit_to_schema
from ._layout import data_file_name, parse_data_file_name
from ._location import Location

__all__ = ["Segment", "SegmentIndex", "SegmentWriter"]

_ROW_GROUP_ROWS = 64 * 1024
_COMPACT_BELOW_ROWS = 256 * 1024
_COMPACT_RUN = 8
_SIMILAR = 4
"""Files merge together while the largest has at most this many times the smallest's rows."""
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
            state = _delta.call(
                _delta.load, self._location.uri, dict(self._location.storage_options)
            )
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


def _small_runs(segments: Sequence[Segment]) -> list[list[Segment]]:
    """Runs of adjacent files under the compaction size, each of 2+ files and bounded rows."""
    runs: list[list[Segment]] = []
    run: list[Segment] = []
    rows = 0
    for segment in segments:
        small = segment.num_rows < _COMPACT_BELOW_ROWS
        if not small or rows + segment.num_rows > _COMPACT_BELOW_ROWS:
            if len(run) >= 2:
                runs.append(run)
            run, rows = [], 0
        if small:
            run.append(segment)
            rows += segment.num_rows
    if len(run) >= 2:
        runs.append(run)
    return runs


class SegmentWriter:
    """Writes one writer's data files, commits them, and compacts its small ones."""

    def __init__(self, location: Location, index: SegmentIndex, client_id: str, name: str) -> None:
        self._location = location
        self._index = index
        self._client_id = client_id
        self._table_name = name
        self._next_seq = 0
        self._own: list[Segment] = []
        self.retries = 0
        """Commit retries after conflicts with other writers, so far."""

    def write(self, table: pa.Table, first_ts_us: int) -> Segment:
        """Write ``table`` as the next data file and commit it (one append commit).

        The caller swaps the rows it holds in memory for the returned segment
        with ``SegmentIndex.add``.
        """
        seq = self._next_seq
        fitted, schema = self._fit(table)
        segment, action = self._write(
            fitted, data_file_name(first_ts_us, self._client_id, seq, seq)
        )
        self._commit(schema, action, segment, ())
        self._next_seq += 1
        self._own.append(segment)
        return segment

    def compaction_candidates(self) -> list[Segment]:
        """The newest run of 8+ own small files of similar size (within 4× of each other).

        Merging only files of similar size (size-tiered, as log-structured
        stores do) rewrites each row a logarithmic number of times; merging the
        growing result again with every few new files would rewrite it each
        time. Similar means a ratio, not fixed tiers, so flushes whose sizes
        straddle a tier boundary (1 and 2 rows, 480 and 540) still merge.
        """
        committed = set(self._index._known)
        self._own = [s for s in self._own if s.name in committed]
        run: list[Segment] = []
        low = high = 0
        for segment in reversed(self._own):
            rows = max(segment.num_rows, 1)
            if run and max(high, rows) <= _SIMILAR * min(low, rows):
                run.append(segment)
                low, high = min(low, rows), max(high, rows)
                continue
            if len(run) >= _COMPACT_RUN:
                break
            small = segment.num_rows < _COMPACT_BELOW_ROWS
            run, low, high = ([segment], rows, rows) if small else ([], 0, 0)
        return run[::-1] if len(run) >= _COMPACT_RUN else []

    def compact(self, run: list[Segment]) -> Segment:
        """Merge ``run`` (own segments, in order) into one file, committed atomically.

        Readers see either the sources or the merged file, never both, so every
        engine counts each row once before, during and after compaction.
        """
        segment = self._merge(run)
        at = self._own.index(run[0])
        self._own[at : at + len(run)] = [segment]
        return segment

    def writable(self, table: pa.Table) -> bool:
        """Whether ``table`` fits the schema and encodes as Parquet (nothing is stored)."""
        try:
            fitted, _ = fit_to_schema(table, self._index.schema or pa.schema([]))
            _write_parquet(fitted, pa.BufferOutputStream())
        except Exception:
            return False
        return True

    def compact_all(self) -> int:
        """Merge each run of adjacent small files (any writer's); returns the files merged.

        Runs are contiguous in log order and the merged file takes the first
        one's place, so the order of rows does not change.
        """
        runs = _small_runs(self._index.segments)
        for run in runs:
            self._merge(run)
        return sum(map(len, runs))

    def _merge(self, run: list[Segment]) -> Segment:
        """Write ``run``'s rows as one file named for the first one's place, and commit
        it with the removal of ``run`` (one atomic commit)."""
        table = pa.concat_tables([s.read() for s in run], promote_options="permissive")
        fitted, schema = self._fit(table)
        seq = self._next_seq
        self._next_seq += 1
        name = data_file_name(run[0].order_key[0], self._client_id, seq, seq)
        segment, action = self._write(fitted, name)
        self._commit(schema, action, segment, run)
        self._index.add([segment], run)
        return segment

    def _fit(self, table: pa.Table, attempts: int = 5) -> tuple[pa.Table, pa.Schema]:
        """``table`` cast to the Delta schema, after evolving the schema if it must grow."""
        schema = self._index.schema
        if schema is None:
            self._index.refresh()
            schema = self._index.schema
        if schema is None:
            fitted, _ = fit_to_schema(table, pa.schema([]))
            _delta.call(
                _delta.create,
                self._location.uri,
                dict(self._location.storage_options),
                fitted.schema,
                self._table_name,
            )
            self._index.refresh()
            schema = self._index.schema
            assert schema is not None
        fitted, additions = fit_to_schema(table, schema)
        if additions is not None:
            _delta.call(
                _delta.evolve, self._location.uri, dict(self._location.storage_options), additions
            )
            self._index.refresh()
            schema = self._index.schema
            assert schema is not None
            fitted, additions = fit_to_schema(table, schema)
            if additions is not None:  # another writer changed the same column meanwhile
                if attempts <= 1:
                    raise ValueError(f"the table schema does not take {additions}")
                return self._fit(table, attempts - 1)
        return fitted, schema

    def _write(self, table: pa.Table, name: str) -> tuple[Segment, tuple[str, int, int, str]]:
        """Write a data file (not yet committed: invisible until then); its add action."""
        location = self._location
        if location.local is not None:
            location.local.mkdir(parents=True, exist_ok=True)
            _write_parquet(table, location.local / name)
            size = (location.local / name).stat().st_size
        else:
            sink = pa.BufferOutputStream()
            _write_parquet(table, sink)
            data = sink.getvalue().to_pybytes()
            location.put(name, data)
            size = len(data)
        segment = Segment(location, name, table.num_rows, _time_range(table))
        return segment, (name, size, table.num_rows, _delta.file_stats(table))

    def _commit(
        self,
        schema: pa.Schema,
        action: tuple[str, int, int, str],
        segment: Segment,
        removed: Sequence[Segment],
    ) -> None:
        """Commit one written file (replacing ``removed``); the caller then ``add``s it."""
        self._index.expect(segment.name, removed)
        try:
            self.retries += _delta.call(
                _delta.commit,
                self._location.uri,
                dict(self._location.storage_options),
                schema,
                [action],
                [s.name for s in removed],
            )
        except BaseException:
            self._index.unexpect(segment.name)
            raise


def _write_parquet(table: pa.Table, where: Any) -> None:
    pq.write_table(
        table,
        where,
        compression="zstd",
        use_dictionary=False,
        row_group_size=_ROW_GROUP_ROWS,
        write_page_checksum=True,
    )


def _time_range(table: pa.Table) -> tuple[dt.datetime, dt.datetime] | None:
    if "_timestamp" not in table.column_names or not table.num_rows:
        return None
    import pyarrow.compute as pc

    bounds = pc.min_max(table.column("_timestamp").cast(pa.int64()))
    if not bounds["min"].is_valid:
        return None
    try:
        return (
            _EPOCH + dt.timedelta(microseconds=bounds["min"].as_py()),
            _EPOCH + dt.timedelta(microseconds=bounds["max"].as_py()),
        )
    except OverflowError:
        return None
