"""Quality and drift panels a seeded board gets once the table has what they need.

* a quality-over-time panel per feedback field that exists (the 👍/👎 field, once someone
  gave feedback) and per boolean ``correct``-like column (``correct``, ``is_correct``,
  ``output.correct``...);
* one drift panel once the table holds :data:`MIN_DRIFT_ROWS` rows: PSI over time of
  the inputs and outputs of a monitor table (of the other columns otherwise), at most
  :data:`MAX_DRIFT_COLUMNS`, against the first half of the rows' time span at that
  moment (a fixed reference: later rows are compared with it); its y axis says PSI.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import TYPE_CHECKING

import pyarrow as pa

from weave_nb.charts.drift import Drift
from weave_nb.charts.quality import Quality
from weave_nb.monitor.schema import INPUTS, OUTPUT, is_monitor_schema
from weave_nb.quality import field_paths
from weave_nb.quality.over_time import over_time_columns
from weave_nb.query import time_range

if TYPE_CHECKING:
    from weave_nb.charts._kind import ChartKind
    from weave_nb.store import StreamTable

__all__ = ["MAX_DRIFT_COLUMNS", "MIN_DRIFT_ROWS", "drift_panel", "quality_panels"]

#: Rows a table needs before a board gets a drift panel.
MIN_DRIFT_ROWS = 200

#: Columns a seeded drift panel draws at most.
MAX_DRIFT_COLUMNS = 6

_CORRECT = re.compile(r"^(is_)?(correct|accurate|right)$", re.I)
_MONITORED = (f"{INPUTS}.", f"{OUTPUT}.")


def quality_panels(table: StreamTable, thumbs: str | None) -> list[ChartKind]:
    """Quality-over-time panels for the feedback and correctness columns present."""
    schema = table.schema
    fields = [] if thumbs is None or thumbs not in schema.names else [thumbs]
    fields += [
        name
        for name, _, kind in field_paths(schema)
        if pa.types.is_boolean(kind) and _CORRECT.match(name.rsplit(".", 1)[-1])
    ]
    return [Quality(field) for field in fields]


def drift_panel(table: StreamTable) -> Drift | None:
    """The drift panel of a seeded board, or None while rows are too few (or nothing to draw)."""
    span = table.sql("SELECT min(_timestamp), max(_timestamp), count(*) FROM t").to_pylist()[0]
    low, high, rows = span.values()
    if rows < MIN_DRIFT_ROWS or low is None or high <= low:
        return None
    middle: dt.datetime = low + (high - low) / 2
    reference = (None, middle)
    columns = over_time_columns(table, time_range(None, middle) or "TRUE", None)
    names = [c.name for c in columns]
    if is_monitor_schema(table.schema):
        names = [n for n in names if n.startswith(_MONITORED)]
    if not names:
        return None
    shown = names[:MAX_DRIFT_COLUMNS]
    title = "Drift of inputs and outputs" if is_monitor_schema(table.schema) else "Drift"
    return Drift(shown, reference=reference, title=title)
