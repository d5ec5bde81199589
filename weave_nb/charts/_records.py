"""Aggregated Arrow results as JSON-ready rows for a vega view."""

from __future__ import annotations

import math
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["to_records"]


def to_records(table: pa.Table) -> list[dict[str, Any]]:
    """Rows of a small (aggregated) table as plain dicts vega can read.

    Timestamps become epoch milliseconds (what vega-lite's temporal fields
    take), decimals become floats and NaN becomes null, since JSON has no NaN.
    """
    columns = []
    for field, column in zip(table.schema, table.columns, strict=True):
        if pa.types.is_timestamp(field.type):
            micros = column.cast(pa.timestamp("us", tz=field.type.tz)).cast(pa.int64())
            column = pc.divide(micros.cast(pa.float64()), 1000.0)
        elif pa.types.is_decimal(field.type):
            column = column.cast(pa.float64())
        columns.append(column)
    rows: list[dict[str, Any]] = pa.Table.from_arrays(columns, names=table.column_names).to_pylist()
    for row in rows:
        for key, value in row.items():
            if isinstance(value, float) and not math.isfinite(value):
                row[key] = None
    return rows
