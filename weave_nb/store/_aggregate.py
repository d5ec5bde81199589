"""Counts and time-bucketed statistics of the merged view, computed by DuckDB."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import pyarrow as pa

from ..query import and_all, choose_bucket, quote_ident, time_range
from ._engine import QueryEngine
from ._snapshot import Snapshot

__all__ = ["STATS", "aggregate", "count"]

STATS: dict[str, str] = {
    "count": "count(*)",
    "mean": "avg({x})",
    "min": "min({x})",
    "max": "max({x})",
    "sum": "sum({x})",
    "stddev": "stddev_samp({x})",
    "p50": "quantile_cont({x}, 0.5)",
    "p90": "quantile_cont({x}, 0.9)",
    "p95": "quantile_cont({x}, 0.95)",
    "p99": "quantile_cont({x}, 0.99)",
}
"""Aggregate statistics by name; ``{x}`` is the column expression."""


def count(engine: QueryEngine, snap: Snapshot, filter: str | None) -> int:
    """Rows of the merged view matching ``filter``."""
    if not filter:
        return snap.rows.num_rows
    result = engine.sql(snap, f"SELECT count(*) AS n FROM t WHERE ({filter})")
    return int(result.column(0)[0].as_py())


def aggregate(
    engine: QueryEngine,
    snap: Snapshot,
    stats: Sequence[str],
    column: str | None,
    every: dt.timedelta | None,
    group_by: str | None,
    filter: str | None,
    start: dt.datetime | None,
    end: dt.datetime | None,
) -> pa.Table:
    """Time-bucketed statistics (see ``StreamTable.aggregate``)."""
    unknown = [s for s in stats if s not in STATS]
    if unknown:
        raise ValueError(f"unknown statistic(s) {unknown}; choose from {sorted(STATS)}")
    if column is None and any(s != "count" for s in stats):
        raise ValueError(f"statistics {[s for s in stats if s != 'count']} need column=")
    condition = and_all([f"({filter})" if filter else None, time_range(start, end)])
    where = f"WHERE {condition}" if condition else ""
    if every is None:
        known = None if condition else snap.time_span()
        if known is None:
            span = engine.sql(snap, f"SELECT min(_timestamp), max(_timestamp) FROM t {where}")
            known = (span.column(0)[0].as_py(), span.column(1)[0].as_py())
        lo, hi = known
        every = choose_bucket((hi - lo) if lo is not None and hi is not None else dt.timedelta())
    micros = every // dt.timedelta(microseconds=1)
    if micros <= 0:
        raise ValueError(f"every= must be a positive duration, got {every}")
    bucket = f"time_bucket(INTERVAL '{micros} microseconds', _timestamp) AS bucket"
    group = f", {quote_ident(group_by)}" if group_by else ""
    values = ", ".join(STATS[s].format(x=f"({column})") + f" AS {quote_ident(s)}" for s in stats)
    sql = f"SELECT {bucket}{group}, {values} FROM t {where} GROUP BY ALL ORDER BY bucket{group}"
    result = engine.sql(snap, sql)
    meta = {b"every_seconds": str(every.total_seconds()).encode()}
    return result.replace_schema_metadata(meta)
