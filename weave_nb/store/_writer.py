"""Writing one writer's data files: write, commit, and compact its small ones.

A file is written first (invisible: no reader lists it) and then committed by
one Delta append commit; a compaction writes the merged file and commits it
with the removal of its sources, atomically, so every engine counts each row
once before, during and after.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from . import _delta
from ._delta_worker import call
from ._encoder import PARQUET_OPTIONS, ROW_GROUP_ROWS, Encoder
from ._fit import fit_to_schema
from ._layout import data_file_name
from ._location import Location
from ._segments import Segment, SegmentIndex

__all__ = ["SegmentWriter"]

_COMPACT_BELOW_ROWS = 256 * 1024
_COMPACT_RUN = 8
_SIMILAR = 4
"""Files merge together while the largest has at most this many times the smallest's rows."""
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)


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

    def write_parts(self, parts: Iterable[tuple[pa.Table, int]]) -> tuple[Segment, int] | None:
        """Write the tables ``parts`` yields (with their first log times, µs) as one data
        file and commit it; returns the segment and how many tables it holds.

        Each table is encoded in a thread while the caller's iterator converts the
        next one. Returns ``None``, having committed nothing, if there was no table
        or if a table's columns differ from the first one's (write those with
        :meth:`write`).
        """
        encoder: Encoder | None = None
        schema: pa.Schema | None = None
        fitted_parts: list[pa.Table] = []
        try:
            for table, first_ts_us in parts:
                fitted, schema = self._fit(table)
                if encoder is None:
                    seq = self._next_seq
                    name = data_file_name(first_ts_us, self._client_id, seq, seq)
                    encoder = Encoder(self._location, name, fitted.schema)
                elif fitted.schema != encoder.schema:
                    encoder.stop()
                    return None
                encoder.add(fitted)
                fitted_parts.append(fitted)
            if encoder is None or schema is None:
                return None
            size = encoder.finish()
        except BaseException:
            if encoder is not None:
                encoder.stop()
            raise
        table = pa.concat_tables(fitted_parts)
        segment = Segment(self._location, encoder.name, table.num_rows, _time_range(table))
        action = (encoder.name, size, table.num_rows, _delta.file_stats(table))
        self._commit(schema, action, segment, ())
        self._next_seq += 1
        self._own.append(segment)
        return segment, len(fitted_parts)

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
            call(
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
            call(_delta.evolve, self._location.uri, dict(self._location.storage_options), additions)
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
            self.retries += call(
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
    pq.write_table(table, where, row_group_size=ROW_GROUP_ROWS, **PARQUET_OPTIONS)


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
