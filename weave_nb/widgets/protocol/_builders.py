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
    return Outgoing(
        RowsReply(
            type="rows",
            request=request,
            offset=offset,
            total=total,
            matched=matched,
            version=version,
        ),
        [window],
    )


def tick(
    *, total: int, version: int, matched: int | None, sort: Sequence[SortKey], filter: str
) -> Outgoing:
    """The table changed; ``matched`` counts the rows of ``sort`` and ``filter``."""
    return Outgoing(
        Tick(
            type="tick",
            total=total,
            version=version,
            matched=matched,
            query={"sort": list(sort), "filter": filter},
        ),
        [],
    )


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
    return Outgoing(
        TailTick(
            type="tick",
            total=total,
            version=version,
            matched=matched,
            query={"sort": list(sort), "filter": filter},
            offset=offset,
        ),
        [rows],
    )


def image_reply(request: int, *, column: str, width: int, height: int, png: bytes) -> Outgoing:
    """Reply to an ``image`` request with the full-size ``png``."""
    return Outgoing(
        ImageReply(type="image", request=request, column=column, width=width, height=height), [png]
    )


def image_missing(request: int, *, column: str, message: str) -> Outgoing:
    """Reply to an ``image`` request that found no image."""
    return Outgoing(ImageMissing(type="image", request=request, column=column, message=message), [])


def cell_reply(request: int, *, column: str, row: bytes) -> Outgoing:
    """Reply to a ``cell`` request with ``row``, a one-row Arrow IPC table."""
    return Outgoing(CellReply(type="cell", request=request, column=column), [row])


def cell_missing(request: int, *, column: str, message: str) -> Outgoing:
    """Reply to a ``cell`` request that found no row."""
    return Outgoing(CellMissing(type="cell", request=request, column=column, message=message), [])


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
    return Outgoing(
        TraceReply(
            type="trace",
            request=request,
            trace_id=trace_id,
            offset=offset,
            total=total,
            total_ms=total_ms,
            version=version,
            index=index,
        ),
        [spans],
    )


def trace_missing(request: int, *, message: str) -> Outgoing:
    """Reply to a ``trace`` request whose row belongs to no trace."""
    return Outgoing(TraceMissing(type="trace", request=request, message=message), [])


def span_reply(request: int, *, columns: list[ColumnInfo], row: bytes) -> Outgoing:
    """Reply to a ``span`` request with ``row``, a one-row Arrow IPC table of ``columns``."""
    return Outgoing(SpanReply(type="span", request=request, columns=columns), [row])


def span_missing(request: int, *, message: str) -> Outgoing:
    """Reply to a ``span`` request that found no span."""
    return Outgoing(SpanMissing(type="span", request=request, message=message), [])


def error_reply(request: int | None, message: str) -> Outgoing:
    """A request failed (``request`` is ``None`` for refused feedback)."""
    return Outgoing(ErrorReply(type="error", request=request, message=message), [])
