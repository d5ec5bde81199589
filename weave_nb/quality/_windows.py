"""The two windows a drift comparison looks at, as SQL conditions over the table."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, TypeAlias

from weave_nb.query import time_range

if TYPE_CHECKING:
    from weave_nb.store import StreamTable

__all__ = ["Window", "count_windows", "current_sql", "window_sql"]

Window: TypeAlias = "tuple[dt.datetime | None, dt.datetime | None] | str"
"""A ``(start, end)`` pair over ``_timestamp`` (half-open, either end open) or a SQL filter."""


def window_sql(window: Window, role: str) -> str:
    """``window`` as a SQL boolean expression; ``role`` names it in errors."""
    if isinstance(window, str):
        if not window.strip():
            raise ValueError(f"{role} window is an empty filter")
        return window.strip()
    if isinstance(window, tuple) and len(window) == 2:
        start, end = window
        if all(v is None or isinstance(v, dt.datetime) for v in window):
            return time_range(_utc(start), _utc(end)) or "TRUE"
    raise ValueError(
        f"{role} window must be a (start, end) pair of datetimes or a SQL filter, got {window!r}"
    )


def current_sql(reference: Window, current: Window | None) -> str:
    """The current window: given, else the rows after a time reference, else the rest."""
    if current is not None:
        return window_sql(current, "current")
    if isinstance(reference, tuple) and len(reference) == 2 and reference[1] is not None:
        return time_range(_utc(reference[1]), None) or "TRUE"
    return f"NOT coalesce(({window_sql(reference, 'reference')}), FALSE)"


def count_windows(table: StreamTable, reference: str, current: str) -> tuple[int, int]:
    """Rows in each window, checking that each is valid SQL and holds rows.

    Raises ``ValueError`` naming the window that is not valid SQL or is empty.
    """
    counts = []
    for role, condition in (("reference", reference), ("current", current)):
        try:
            n = table.count(condition)
        except ValueError as error:
            raise ValueError(
                f"{role} window {condition!r} is not a valid condition: {error}"
            ) from None
        if n == 0:
            raise ValueError(f"{role} window {condition!r} has no rows in table {table.name!r}")
        counts.append(n)
    return counts[0], counts[1]


def _utc(value: dt.datetime | None) -> dt.datetime | None:
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=dt.timezone.utc)
