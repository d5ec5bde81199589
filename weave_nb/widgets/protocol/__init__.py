"""The kernel ⇄ browser protocol of the table, chart and board widgets, kernel side.

The browser twin is ``js/shared/protocol.js``; the example messages both sides
validate against their own declarations are in ``tests/fixtures/protocol_messages.json``.
Change :data:`PROTOCOL_VERSION` on both sides together.

Every widget sends the version in its ``protocol`` trait; a front-end that
speaks another one refuses to draw (a stale bundle after an upgrade). Custom
messages travel over the widget's comm (``model.send`` / ``on_msg``) as JSON
objects with a ``type``, plus binary buffers: rows always travel as Arrow IPC
stream bytes (never JSON), images as PNG. ``request`` is an id the browser
chose, echoed in the reply.

Table, browser → kernel
    ``window {request, offset, limit, sort, filter}`` (a negative offset counts
    from the end); ``annotate {row_id, field, value}``; ``image {request,
    row_id, column}``; ``cell {request, row_id, column}``; ``trace {request,
    row_id | trace_id, offset, limit}`` (a window of a trace's outline);
    ``span {request, row_id}`` (one span's whole row, for the trace view).
Table, kernel → browser
    ``rows {request, offset, total, matched, version}`` + one Arrow IPC window;
    ``tick {total, version, matched, query {sort, filter}}`` (+ ``offset`` and an
    Arrow IPC window of the tail while the browser follows it); ``image
    {request, column, width, height}`` + the PNG, or ``message`` without a
    buffer; ``cell {request, column}`` + a one-row Arrow IPC table holding the
    whole cell, or ``message`` without a buffer; ``trace {request, trace_id,
    offset, total, total_ms, version, index}`` + an Arrow IPC window of the
    outline (``_id, parent_id, name, status, depth, failed, offset_ms,
    duration_ms`` in tree order; ``failed`` is true where the status is the
    monitor's error; ``index`` is the asked row's place in it), or ``message``;
    ``span {request, columns}`` + a one-row Arrow IPC table, or ``message``;
    ``error {request, message}`` (``request`` is null for refused feedback).
Chart, browser → kernel
    ``select {datum}``: the fields of the clicked mark's row, or null.
Board, browser → kernel
    ``clear_selection {}``: the ✕ next to the chart selection.
Kernel → chart and board
    Only their synced traits (:class:`ChartState`, :class:`BoardState`).
Window metadata
    ``weave_nb.truncated``: JSON ``{column: {row index: full size | null}}`` of
    the cells cut short (see ``_cells.py``); absent when none is.

A message type takes one or more shapes (a reply, and its form with a
``message`` and no buffer), each a TypedDict, all listed in :data:`MESSAGE_SHAPES`
with their widget, direction and buffer count; the browser side names its
shapes the same. Kernel → browser messages are made by the builders
(:func:`rows_reply`, :func:`tick`, ...), which return the content with its
buffers. Browser → kernel messages are checked by :func:`parse_table_request`,
:func:`parse_chart_message` and :func:`parse_board_message`, which raise a
:class:`ProtocolError` naming the message type and the field at fault.

Each private module has one job: the messages and the values their fields hold
(``_messages``), the widgets' synced state (``_traits``), the catalogue of
shapes and the version (``_shapes``), checking a value against its declared
type (``_check``), parsing what the browser sends (``_parse``), building what
the kernel sends (``_builders``).
"""

from ._builders import (
    Outgoing,
    cell_missing,
    cell_reply,
    error_reply,
    image_missing,
    image_reply,
    rows_reply,
    span_missing,
    span_reply,
    tail_tick,
    tick,
    trace_missing,
    trace_reply,
)
from ._check import ProtocolError, check_fields
from ._messages import (
    AnnotateRequest,
    BoardMessage,
    CellMissing,
    CellReply,
    CellRequest,
    ChartMessage,
    ClearSelectionMessage,
    ColumnInfo,
    ColumnKind,
    ErrorReply,
    ImageMissing,
    ImageReply,
    ImageRequest,
    KernelMessage,
    RowId,
    RowsReply,
    SelectMessage,
    SortKey,
    SpanMissing,
    SpanReply,
    SpanRequest,
    TableRequest,
    TailTick,
    Tick,
    TickQuery,
    TraceMissing,
    TraceOfRowRequest,
    TraceReply,
    TraceWindowRequest,
    WindowRequest,
)
from ._parse import parse_board_message, parse_chart_message, parse_table_request
from ._shapes import MESSAGE_SHAPES, PROTOCOL_VERSION, MessageShape
from ._traits import BoardState, ChartState, FeedbackConfig, StatInfo, TableState

__all__ = [
    "MESSAGE_SHAPES",
    "PROTOCOL_VERSION",
    "AnnotateRequest",
    "BoardMessage",
    "BoardState",
    "CellMissing",
    "CellReply",
    "CellRequest",
    "ChartMessage",
    "ChartState",
    "ClearSelectionMessage",
    "ColumnInfo",
    "ColumnKind",
    "ErrorReply",
    "FeedbackConfig",
    "ImageMissing",
    "ImageReply",
    "ImageRequest",
    "KernelMessage",
    "MessageShape",
    "Outgoing",
    "ProtocolError",
    "RowId",
    "RowsReply",
    "SelectMessage",
    "SortKey",
    "SpanMissing",
    "SpanReply",
    "SpanRequest",
    "StatInfo",
    "TableRequest",
    "TableState",
    "TailTick",
    "Tick",
    "TickQuery",
    "TraceMissing",
    "TraceOfRowRequest",
    "TraceReply",
    "TraceWindowRequest",
    "WindowRequest",
    "cell_missing",
    "cell_reply",
    "check_fields",
    "error_reply",
    "image_missing",
    "image_reply",
    "parse_board_message",
    "parse_chart_message",
    "parse_table_request",
    "rows_reply",
    "span_missing",
    "span_reply",
    "tail_tick",
    "tick",
    "trace_missing",
    "trace_reply",
]
