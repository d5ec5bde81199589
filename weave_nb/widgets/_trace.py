"""The kernel side of the table widget's trace view: a trace's outline in windows, one span whole.

Opening a row's trace reads that trace's rows once — only the few columns the
outline needs (:data:`OUTLINE_COLUMNS`, named by ``weave_nb.monitor.schema``),
filtered on ``trace_id`` in SQL — and keeps the ordered outline until the table
changes; the browser then asks for
windows of it as the user scrolls, so a trace of thousands of spans never
travels whole. The selected span's whole row travels on its own request.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc

from ..monitor.schema import ERROR, LATENCY_MS, NAME, PARENT_ID, START_TIME, STATUS, TRACE_ID
from ..query import quote_ident
from ..tracing import trace_rows
from ._arrow import sql_value

if TYPE_CHECKING:
    from ..store import StreamTable

__all__ = ["FAILED", "MAX_SPANS_WINDOW", "OUTLINE_COLUMNS", "TraceOutlines"]

MAX_SPANS_WINDOW = 500
"""Most spans of a trace sent in one reply."""

OUTLINE_COLUMNS = ("_id", PARENT_ID, NAME, STATUS, LATENCY_MS, START_TIME)
"""Columns read for a trace's outline."""

FAILED = "failed"
"""The outline's boolean column marking the spans whose status is the monitor's
:data:`~weave_nb.monitor.schema.ERROR`, so the browser need not know status values."""


class Outline:
    """One trace's spans in tree order, with times relative to the trace's start."""

    def __init__(self, trace_id: str, spans: pa.Table, version: int) -> None:
        self.trace_id = trace_id
        self.version = version
        names = spans.column_names
        starts = spans.column(START_TIME) if START_TIME in names else None
        latency = spans.column(LATENCY_MS) if LATENCY_MS in names else None
        n = spans.num_rows
        if starts is not None and n and starts.null_count < n:
            first = pc.min(starts)
            offset = pc.divide(pc.cast(pc.subtract(starts, first), pa.int64()), 1000.0)
        else:
            offset = pa.array([0.0] * n)
        duration = latency if latency is not None else pa.array([None] * n, pa.float64())
        ends = pc.add(offset, pc.fill_null(duration, 0.0))
        self.total_ms = float(pc.max(ends).as_py() or 0.0) if n else 0.0
        kept = [c for c in ("_id", PARENT_ID, NAME, STATUS, "depth") if c in names]
        self.spans = (
            spans.select(kept)
            .append_column(FAILED, _failed(spans))
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


def _failed(spans: pa.Table) -> pa.ChunkedArray | pa.Array:
    """Whether each span failed: its status is :data:`ERROR` (never when it has none)."""
    if STATUS in spans.column_names:
        try:
            return pc.fill_null(pc.equal(spans.column(STATUS), ERROR), False)
        except pa.ArrowNotImplementedError:  # a status column that is not text
            pass
    return pa.array([False] * spans.num_rows)


class TraceOutlines:
    """Outlines of the traces a widget shows, reread when the table changed."""

    def __init__(self, table: StreamTable) -> None:
        self._table = table
        self._latest: Outline | None = None

    def trace_of(self, row_id: Any) -> str | None:
        """The ``trace_id`` of the row ``row_id`` (``None`` when it has none)."""
        if TRACE_ID not in self._table.schema.names:
            return None
        found = self._table.sql(
            f"SELECT {quote_ident(TRACE_ID)} FROM t"
            f" WHERE {quote_ident('_id')} = {sql_value(row_id)} LIMIT 1"
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
