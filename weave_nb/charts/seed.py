"""Which panels a new board starts with, chosen from the table's schema.

* ``@monitor`` tables: volume, latency percentiles, error rate, and feedback over time for
  each feedback field of the table widget (👍/👎 and each label field); a feedback panel
  says how to give feedback until the first arrives.
* Any other table: volume, then one panel per numeric column (percentiles over time for
  durations, the mean over time otherwise; never a sum, which is meaningless for
  latencies) and per low-cardinality text column (counts of each value), up to
  :data:`MAX_PANELS` panels.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

import pyarrow as pa

from weave_nb.charts._kind import ChartKind
from weave_nb.charts.distribution import Counts
from weave_nb.charts.seed_tokens import token_panels
from weave_nb.charts.timeseries import ErrorRate, Feedback, Latency, Mean, Volume
from weave_nb.monitor.schema import LATENCY_MS, is_monitor_schema
from weave_nb.query import quote_ident

if TYPE_CHECKING:
    from weave_nb.store import StreamTable

__all__ = ["MAX_CATEGORIES", "MAX_PANELS", "seed_panels"]

#: Most panels a generic table is seeded with (volume included).
MAX_PANELS = 8

#: A text column with at most this many distinct values gets a counts panel.
MAX_CATEGORIES = 20

# Numeric columns whose name says they hold durations get percentiles, not means.
_DURATION = re.compile(r"(latency|duration|elapsed|runtime|_ms$|_us$|_s$|_sec$|seconds$)", re.I)


def seed_panels(
    table: StreamTable, *, thumbs: str | None = None, labels: Sequence[str] = ()
) -> list[ChartKind]:
    """The chart kinds a board over ``table`` starts with.

    ``thumbs`` and ``labels`` are the annotation fields the feedback controls of the
    board's table widget write (👍/👎, and a choice box per label field); monitor boards
    chart each of them over time.
    """
    from weave_nb.charts.seed_quality import quality_panels  # which imports this module

    schema = table.schema
    if is_monitor_schema(schema):
        panels: list[ChartKind] = [Volume(title="Calls"), Latency(LATENCY_MS), ErrorRate()]
        panels += token_panels(schema)  # tokens and cost of LLM calls, when logged
        if thumbs is not None:
            hint = "No feedback yet — use 👍/👎 in the table below"
            panels.append(Feedback(thumbs, title="Feedback over time", empty_text=hint))
        panels += [
            Feedback(field, empty_text=f"No {field} yet — choose one in the table below")
            for field in labels
        ]
        return panels + quality_panels(table, thumbs)
    panels = [Volume()]
    user = [f for f in schema if not f.name.startswith("_")]
    for field in user:
        if _is_number(field.type):
            duration = _DURATION.search(field.name)
            panels.append(Latency(field.name) if duration else Mean(field.name))
    panels += [Counts(name) for name in _categorical(table, user)]
    return panels[:MAX_PANELS] + quality_panels(table, thumbs)


def _is_number(kind: pa.DataType) -> bool:
    return bool(
        pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_decimal(kind)
    )


def _categorical(table: StreamTable, fields: Sequence[pa.Field]) -> list[str]:
    """Text columns with between 1 and MAX_CATEGORIES distinct values (one query for all)."""
    text = [
        f.name for f in fields if pa.types.is_string(f.type) or pa.types.is_large_string(f.type)
    ]
    if not text:
        return []
    counts = ", ".join(f"approx_count_distinct({quote_ident(name)})" for name in text)
    distinct = table.sql(f"SELECT {counts} FROM t").to_pylist()[0].values()
    return [name for name, n in zip(text, distinct, strict=True) if 1 <= n <= MAX_CATEGORIES]
