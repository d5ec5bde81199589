"""SQL text for DuckDB filters built from Python values (quoting, literals, conjunctions)."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable

__all__ = ["and_all", "column_expr", "equals", "literal", "quote_ident", "time_range"]


def quote_ident(name: str) -> str:
    """A DuckDB identifier for ``name``, quoted so any column name is safe."""
    return '"' + name.replace('"', '""') + '"'


def column_expr(column: str, names: Iterable[str]) -> str:
    """``column`` as SQL: a quoted identifier when it names a column, else the expression itself.

    Chart options accept either a column name (``"latency_ms"``, ``"model version"``) or a SQL
    expression over the table (``"tokens.output"``, ``"CASE WHEN ... END"``).
    """
    return quote_ident(column) if column in set(names) else column


def literal(value: object) -> str:
    """``value`` as a DuckDB literal (NULL, booleans, numbers, timestamps, text)."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "'NaN'::DOUBLE"
        if math.isinf(value):
            return "'Infinity'::DOUBLE" if value > 0 else "'-Infinity'::DOUBLE"
        return repr(value)
    if isinstance(value, dt.datetime):
        stamp = value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)
        return f"TIMESTAMPTZ '{stamp.astimezone(dt.timezone.utc).isoformat()}'"
    return "'" + str(value).replace("'", "''") + "'"


def equals(expr: str, value: object) -> str:
    """``expr = value``, or ``expr IS NULL`` for a missing value."""
    return f"{expr} IS NULL" if value is None else f"{expr} = {literal(value)}"


def time_range(
    start: dt.datetime | None, end: dt.datetime | None, column: str = "_timestamp"
) -> str | None:
    """``start <= column < end`` as SQL (either bound may be open); None when both are."""
    parts = []
    if start is not None:
        parts.append(f"{quote_ident(column)} >= {literal(start)}")
    if end is not None:
        parts.append(f"{quote_ident(column)} < {literal(end)}")
    return and_all(parts)


def and_all(conditions: Iterable[str | None]) -> str | None:
    """The conjunction of the given conditions (each parenthesised), None when there are none."""
    present = [c.strip() for c in conditions if c and c.strip()]
    if not present:
        return None
    if len(present) == 1:
        return present[0]
    return " AND ".join(f"({c})" for c in present)
