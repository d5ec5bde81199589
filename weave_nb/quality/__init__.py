"""Data drift and quality over time: compare windows of a table, watch conditions.

``t.drift(reference=..., current=...)`` compares every column between two windows (KS and
PSI for numbers, chi-square and PSI for categories, image statistics for images), in
DuckDB over the stored files; ``t.watch(condition, callback)`` evaluates a SQL condition
over the newest rows in a background thread and calls back when it turns true or clears.

The drift charts draw from the same pieces: the windows as SQL (:func:`window_sql`,
:func:`current_sql`), the columns compared (:func:`columns_to_compare`,
:func:`field_paths`) and each row's value as binned (:func:`numeric_value`,
:func:`category_value`).
"""

from weave_nb.quality._categorical import category_value
from weave_nb.quality._columns import columns_to_compare, field_paths
from weave_nb.quality._numeric import numeric_value
from weave_nb.quality._watch import (
    Watch,
    WatchEvent,
    active_watches,
    drift_condition,
    on_watch_change,
)
from weave_nb.quality._windows import Window, current_sql, window_sql
from weave_nb.quality.drift import RESULT_COLUMNS, Thresholds, drift

__all__ = [
    "RESULT_COLUMNS",
    "Thresholds",
    "Watch",
    "WatchEvent",
    "Window",
    "active_watches",
    "category_value",
    "columns_to_compare",
    "current_sql",
    "drift",
    "drift_condition",
    "field_paths",
    "numeric_value",
    "on_watch_change",
    "window_sql",
]
