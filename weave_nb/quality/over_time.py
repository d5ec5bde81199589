"""Drift per time bucket: each bucket's rows against a fixed reference window, by PSI.

The reference is binned once (quantile bins for numbers, its categories otherwise, the
same bins ``drift()`` uses), then one DuckDB query counts every bucket's rows per bin;
PSI per bucket is computed from those counts. Buckets with fewer than
:data:`MIN_BUCKET_ROWS` rows are left out: PSI over a handful of rows is noise.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pyarrow as pa

from weave_nb.quality._categorical import category_value, reference_categories
from weave_nb.quality._columns import Column, columns_to_compare
from weave_nb.quality._numeric import numeric_value, reference_bins
from weave_nb.quality._tests import psi

if TYPE_CHECKING:
    from weave_nb.store import StreamTable

__all__ = [
    "MIN_BUCKET_ROWS",
    "Binning",
    "drift_over_time",
    "over_time_columns",
    "reference_binning",
]

#: Fewest rows a bucket needs for its PSI to be drawn.
MIN_BUCKET_ROWS = 30

SCHEMA = pa.schema(
    [
        ("bucket", pa.timestamp("us", "UTC")),
        ("bucket_end", pa.timestamp("us", "UTC")),
        ("series", pa.string()),
        ("value", pa.float64()),
        ("rows", pa.int64()),
    ]
)


def over_time_columns(
    table: StreamTable, reference: str, names: Sequence[str] | None
) -> list[Column]:
    """The numeric and categorical columns among ``names`` (default: all)."""
    columns = columns_to_compare(table, reference, names)
    return [c for c in columns if c.kind in ("numeric", "categorical")]


@dataclass(frozen=True)
class Binning:
    """How to bin a column like its reference window did, and the reference's counts."""

    column: Column
    value_sql: str
    """SQL of the column's value as compared (a number or a category)."""
    key_sql: str
    """SQL giving each ``v`` (the value) its bin (numbers) or category (other kinds)."""
    expected: dict[object, int]
    """Reference rows per bin or category (nulls included)."""


def reference_binning(table: StreamTable, column: Column, reference: str) -> Binning:
    """The bins of ``column`` over the rows matching ``reference`` (one query)."""
    if column.kind == "numeric":
        bins = reference_bins(table.sql, column.sql, reference)
        return Binning(column, numeric_value(column.sql), bins.key_sql("v"), bins.counts)
    expected = reference_categories(table.sql, column.sql, reference)
    return Binning(column, category_value(column.sql), "v", expected)


def drift_over_time(
    table: StreamTable, binnings: Sequence[Binning], where: str, every: dt.timedelta
) -> pa.Table:
    """PSI of each binned column per ``every``-wide bucket of the rows matching ``where``.

    Rows ``bucket``, ``bucket_end``, ``series`` (the column), ``value`` (PSI), ``rows``.
    """
    micros = every // dt.timedelta(microseconds=1)
    bucket = f"time_bucket(INTERVAL '{micros} microseconds', _timestamp)"
    out: dict[str, list[object]] = {name: [] for name in SCHEMA.names}
    for binning in binnings:
        counts = table.sql(
            f"SELECT bucket, {binning.key_sql} AS k, count(*) AS n FROM ("
            f"SELECT {bucket} AS bucket, {binning.value_sql} AS v FROM t WHERE {where}"
            ") GROUP BY ALL ORDER BY 1"
        ).to_pydict()
        per_bucket: dict[dt.datetime, dict[object, int]] = defaultdict(dict)
        for start, k, n in zip(counts["bucket"], counts["k"], counts["n"], strict=True):
            per_bucket[start][k] = n
        expected = binning.expected
        for start, observed in per_bucket.items():
            rows = sum(observed.values())
            if rows < MIN_BUCKET_ROWS:
                continue
            keys = list(expected.keys() | observed.keys())
            score = psi([expected.get(k, 0) for k in keys], [observed.get(k, 0) for k in keys])
            out["bucket"].append(start)
            out["bucket_end"].append(start + every)
            out["series"].append(binning.column.name)
            out["value"].append(score)
            out["rows"].append(rows)
    return pa.table(out, schema=SCHEMA)
