"""Time-bucket aggregates kept up to date by re-aggregating only the newest bucket.

A live chart of a large table is refreshed every time rows arrive. Rows are appended with
the current time, so only the newest time bucket changes: instead of aggregating the whole
table again, an update aggregates the rows from the start of the last bucket on (DuckDB
skips the older Parquet row groups by their timestamp statistics) and splices the result
onto the buckets computed before.

Everything is aggregated again when that shortcut could be wrong or stale:

* the query changed (another filter, date range or statistic; a relative date range
  changes its start on every update, so it is always aggregated in full);
* the table changed without new rows: annotations (feedback) may have changed any bucket;
* the adaptive bucket width would change as the data's span grows;
* :data:`FULL_REFRESH_SECONDS` passed since the last full aggregate, which bounds how long
  rows logged with an older timestamp (backfills, writers with a lagging clock) or
  annotations arriving together with new rows can be missing from older buckets.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.compute as pc

if TYPE_CHECKING:
    from weave_nb.store import StreamTable

__all__ = ["FULL_REFRESH_SECONDS", "AggregateQuery", "BucketCache"]

FULL_REFRESH_SECONDS = 10.0
"""Longest time a chart goes on re-aggregating only its newest bucket."""


@dataclass(frozen=True)
class AggregateQuery:
    """The arguments of one ``StreamTable.aggregate`` call (``every=None``: adaptive width)."""

    stats: tuple[str, ...]
    column: str | None
    every: str | dt.timedelta | None
    group_by: str | None
    filter: str | None
    start: dt.datetime | None
    end: dt.datetime | None

    def run(self, table: StreamTable, **changes: object) -> pa.Table:
        """``table.aggregate`` with these arguments, some of them replaced by ``changes``."""
        args: dict[str, object] = {
            "column": self.column,
            "every": self.every,
            "group_by": self.group_by,
            "filter": self.filter,
            "start": self.start,
            "end": self.end,
            **changes,
        }
        return table.aggregate(self.stats, **args)  # type: ignore[arg-type]


@dataclass
class _Computed:
    query: AggregateQuery
    result: pa.Table
    width: dt.timedelta
    rows: int
    version: int
    full_at: float
    # Bucket width the data's span calls for, estimated from the buckets themselves.
    estimate: dt.timedelta | None


class BucketCache:
    """The latest result of one chart's aggregate query, updated incrementally."""

    def __init__(self) -> None:
        self._computed: _Computed | None = None
        self._lock = threading.Lock()

    def aggregate(self, table: StreamTable, query: AggregateQuery) -> pa.Table:
        """The result of ``query`` over ``table`` now (bucket width in its metadata)."""
        with self._lock:
            rows, version = len(table), table.version
            known = self._computed
            if known is not None and known.query == query and known.version == version:
                return known.result
            if (
                known is None
                or known.query != query
                or known.result.num_rows == 0
                or rows <= known.rows
                or time.monotonic() - known.full_at > FULL_REFRESH_SECONDS
            ):
                return self._full(table, query, rows, version)
            result = self._with_new_rows(table, known)
            estimate = _estimate(result, known.width) if query.every is None else None
            if estimate != known.estimate:
                return self._full(table, query, rows, version)
            known.result, known.rows, known.version = result, rows, version
            return result

    def _full(self, table: StreamTable, query: AggregateQuery, rows: int, version: int) -> pa.Table:
        result = query.run(table)
        width = bucket_width(result)
        estimate = _estimate(result, width) if query.every is None else None
        self._computed = _Computed(query, result, width, rows, version, time.monotonic(), estimate)
        return result

    def _with_new_rows(self, table: StreamTable, known: _Computed) -> pa.Table:
        """The known buckets before the last one, then the last ones aggregated again."""
        buckets = known.result.column(0)
        last = buckets[-1]
        since = last.as_py()
        if known.query.start is not None:
            since = max(since, known.query.start)
        newest = known.query.run(table, every=known.width, start=since)
        older = known.result.filter(pc.less(buckets, last))
        merged = pa.concat_tables([older, newest.cast(older.schema)])
        return merged.replace_schema_metadata(known.result.schema.metadata)


def bucket_width(result: pa.Table) -> dt.timedelta:
    """The bucket width ``aggregate()`` used (from the result's metadata)."""
    metadata = result.schema.metadata or {}
    return dt.timedelta(seconds=float(metadata.get(b"every_seconds", b"0")))


def _estimate(result: pa.Table, width: dt.timedelta) -> dt.timedelta | None:
    from weave_nb.query import choose_bucket

    if result.num_rows == 0:
        return None
    buckets: Sequence[dt.datetime] = result.column(0).to_pylist()
    return choose_bucket(max(buckets) + width - min(buckets))
