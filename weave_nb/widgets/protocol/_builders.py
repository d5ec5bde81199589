"""The kernel's messages to the browser, each built with its buffers by one typed function."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from ._messages import (
    CellMissing,
    CellReply,
    ColumnInfo,
    ErrorReply,
    ImageMissing,
    ImageReply,
    KernelMessage,
    RowsReply,
    SortKey,
    SpanMissing,
    SpanReply,
    TailTick,
    Tick,
    TraceMissing,
    TraceReply,
)

__all__ = [
    "Outgoing",
    "cell_missing",
    "cell_reply",
    "error_reply",
    "image_missing",
    "image_reply",
    "rows_reply",
    "span_missing",
    "span_reply",
    "tail_tick",
    "tick",
    "trace_missing",
    "trace_reply",
]


class Outgoing(NamedTuple):
    """A kernel → browser message and its buffers, as ``widget.send(*outgoing)`` takes them."""

    content: KernelMessage
    buffers: list[bytes]


def rows_reply(
    request: int, *, offset: int, total: int, matched: int, version: int, window: bytes
) -> Outgoing:
    """Reply to a ``window`` request with ``window``, Arrow IPC rows from ``offset``."""
    content: RowsReply = {
        "type": "rows",
        "request": request,
        "offset": offset,
        "total": total,
        "matched": matched,
        "version": version,
    }
    return Outgoing(content, [window])


def tick(
    *, total: int, version: int, matched: int | None, sort: Sequence[SortKey], filter: str
) -> Outgoing:
    """The table changed; ``matched`` counts the rows of ``sort`` and ``filter``."""
    content: Tick = {
        "type": "tick",
        "total": total,
        "version": version,
        "matched": matched,
        "query": {"sort": list(sort), "filter": filter},
    }
    return Outgoing(content, [])


def tail_tick(
    *,
    total: int,
    version: int,
    matched: int,
    sort: Sequence[SortKey],
    filter: str,
    offset: int,
    rows: bytes,
) -> Outgoing:
    """The table changed, with ``rows`` (Arrow IPC) from ``offset``: the newest of the query."""
    content: TailTick = {
        "type": "tick",
        "total": total,
        "version": version,
        "matched": matched,
        "query": {"sort": list(sort), "filter": filter},
        "offset": offset,
    }
    return Outgoing(content, [rows])


def image_reply(request: int, *, column: str, width: int, height: int, png: bytes) -> Outgoing:
    """Reply to an ``image`` request with the full-size ``png``."""
    content: ImageReply = {
        "type": "image",
        "request": request,
        "column": column,
        "width": width,
        "height": height,
    }
    return Outgoing(content, [png])


def image_missing(request: int, *, column: str, message: str) -> Outgoing:
    """Reply to an ``image`` request that found no image."""
    content: ImageMissing = {
        "type": "image",
        "request": request,
        "column": column,
        "message": message,
    }
    return Outgoing(content, [])


def cell_reply(request: int, *, column: str, row: bytes) -> Outgoing:
    """Reply to a ``cell`` request with ``row``, a one-row Arrow IPC table."""
    content: CellReply = {"type": "cell", "request": request, "column": column}
    return Outgoing(content, [row])


def cell_missing(request: int, *, column: str, message: str) -> Outgoing:
    """Reply to a ``cell`` request that found no row."""
    content: CellMissing = {
        "type": "cell",
        "request": request,
        "column": column,
        "message": message,
    }
    return Outgoing(content, [])


def trace_reply(
    request: int,
    *,
    trace_id: str,
    offset: int,
    total: int,
    total_ms: float,
    version: int,
    index: int | None,
    spans: bytes,
) -> Outgoing:
    """Reply to a ``trace`` request with ``spans``, Arrow IPC outline rows from ``offset``."""
    content: TraceReply = {
        "type": "trace",
        "request": request,
        "trace_id": trace_id,
        "offset": offset,
        "total": total,
        "total_ms": total_ms,
        "version": version,
        "index": index,
    }
    return Outgoing(content, [spans])


def trace_missing(request: int, *, message: str) -> Outgoing:
    """Reply to a ``trace`` request whose row belongs to no trace."""
    content: TraceMissing = {"type": "trace", "request": request, "message": message}
    return Outgoing(content, [])


def span_reply(request: int, *, columns: list[ColumnInfo], row: bytes) -> Outgoing:
    """Reply to a ``span`` request with ``row``, a one-row Arrow IPC table of ``columns``."""
    content: SpanReply = {"type": "span", "request": request, "columns": columns}
    return Outgoing(content, [row])


def span_missing(request: int, *, message: str) -> Outgoing:
    """Reply to a ``span`` request that found no span."""
    content: SpanMissing = {"type": "span", "request": request, "message": message}
    return Outgoing(content, [])


def error_reply(request: int | None, message: str) -> Outgoing:
    """A request failed (``request`` is ``None`` for refused feedback)."""
    content: ErrorReply = {"type": "error", "request": request, "message": message}
    return Outgoing(content, [])
