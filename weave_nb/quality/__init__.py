"""Data drift and quality over time: compare windows of a table, watch conditions.

``t.drift(reference=..., current=...)`` compares every column between two windows (KS and
PSI for numbers, chi-square and PSI for categories, image statistics for images), in
DuckDB over the stored files; ``t.watch(condition, callback)`` evaluates a SQL condition
over the newest rows in a background thread and calls back when it turns true or clears.
"""

from weave_nb.quality._watch import (
    Watch,
    WatchEvent,
    active_watches,
    drift_condition,
    on_watch_change,
)
from weave_nb.quality.drift import RESULT_COLUMNS, Thresholds, drift

__all__ = [
    "RESULT_COLUMNS",
    "Thresholds",
    "Watch",
    "WatchEvent",
    "active_watches",
    "drift",
    "drift_condition",
    "on_watch_change",
]
