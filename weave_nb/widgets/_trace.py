"""The kernel side of the table widget's trace view: a trace's outline in windows, one span whole.

Opening a row's trace reads that trace's rows once — only the few columns the
outline needs (:data:`OUTLINE_COLUMNS`), filtered on ``trace_id`` in SQL — and
keeps the ordered outline until the table changes; the browser then asks for
windows of it as the user scrolls, so a trace of thousands of spans never
travels whole. The selected span's whole row travels on its own request.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc

from ..query import quote_ident as quote
from ..tracing import trace_rows
from ._arrow import sql_value

if TYPE_CHECKING:
    from ..store import StreamTable

__all__ = ["MAX_SPANS_WINDOW", "OUTLINE_COLUMNS", "TraceOutlines"]

MAX_SPANS_WINDOW = 500
"""Most spans of a trace sent in one reply."""

OUTLINE_COLUMNS = ("_id", "parent_id", "name", "status", "latency_ms", "start_time")
"""Columns read for a trace's outline (plus ``depth``, ``offset_ms``, ``duration_ms``)."""


class Outline:
    """One trace's spans in tree order, with times relative to the trace's start."""

    def __init__(self, trace_id: str, spans: pa.Table, version: int) -> None:
        self.trace_id = trace_id
        self.version = version
        starts = spans.column("start_time") if "start_time" in spans.column_names else None
        latency = spans.column("latency_ms") if "latency_ms" in spans.column_names else None
        n = spans.num_rows
        if starts is not None and n and starts.null_count < n:
            first = pc.min(starts)
            offset = pc.divide(pc.cast(pc.subtract(starts, first), pa.int64()), 1000.0)
        else:
            offset = pa.array([0.0] * n)
        duration = latency if latency is not None else pa.array([None] * n, pa.float64())
        ends = pc.add(offset, pc.fill_null(duration, 0.0))
        self.total_ms = float(pc.max(ends).as_py() or 0.0) if n else 0.0
        names = [
            c for c in ("_id", "parent_id", "name", "status", "depth") if c in spans.column_names
        ]
        self.spans = (
            spans.select(names)
            .append_column("offset_ms", offset)
            .append_column("duration_ms", pc.cast(duration, pa.float64()))
        )

    def index_of(self, span_id: Any) -> int | None:
        """Position of the span ``span_id`` in the outline, or ``None``."""
        try:
            found = pc.index(self.spans.column("_id"), span_id).as_py()
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, TypeError):  # an id of another type
            return None
        return None if found < 0 else int(found)

    def window(self, offset: int, limit: int) -> pa.Table:
        """Spans ``[offset, offset + limit)`` of the outline."""
        return self.spans.slice(offset, limit)


class TraceOutlines:
    """Outlines of the traces a widget shows, reread when the table changed."""

    def __init__(self, table: StreamTable) -> None:
        self._table = table
        self._latest: Outline | None = None

    def trace_of(self, row_id: Any) -> str | None:
        """The ``trace_id`` of the row ``row_id`` (``None`` when it has none)."""
        if "trace_id" not in self._table.schema.names:
            return None
        found = self._table.sql(
            f"SELECT {quote('trace_id')} FROM t WHERE {quote('_id')} = {sql_value(row_id)} LIMIT 1"
        )
        value = found.column(0)[0].as_py() if found.num_rows else None
        return None if value is None else str(value)

    def outline(self, trace_id: str) -> Outline:
        """The outline of ``trace_id``, read again only if the table changed since."""
        version = self._table.version
        latest = self._latest
        if latest is None or latest.trace_id != trace_id or latest.version != version:
            spans = trace_rows(self._table, trace_id, OUTLINE_COLUMNS)
            latest = self._latest = Outline(trace_id, spans, version)
        return latest
