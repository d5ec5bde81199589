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
    outline (``_id, parent_id, name, status, depth, offset_ms, duration_ms``,
    tree order; ``index`` is the asked row's place in it), or ``message``;
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
``message`` and no buffer), each a TypedDict below, all listed in
:data:`MESSAGE_SHAPES` with their widget, direction and buffer count; the browser
side names its shapes the same. Kernel → browser messages are made by the
builders below (:func:`rows_reply`, :func:`tick`, ...), which return the
content with its buffers. Browser → kernel messages are checked by :func:`parse_table_request`,
:func:`parse_chart_message` and :func:`parse_board_message`, which raise a
:class:`ProtocolError` naming the message type and the field at fault.
"""

from __future__ import annotations

import functools
import types
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple, TypedDict, Union, cast, final

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

PROTOCOL_VERSION = 1
"""Version of the protocol, sent by every widget in its ``protocol`` trait."""

RowId = str | int
"""A row's ``_id`` as it travels in JSON (the browser turns a BigInt into a number or text)."""

SortKey = tuple[str, Literal["asc", "desc"]]
"""One sort key, a JSON array ``[column, direction]``."""

ColumnKind = Literal["number", "time", "text", "bool", "image", "nested", "binary", "other"]
"""How the browser formats a column (see ``_arrow.column_kind``)."""


class _ColumnFields(TypedDict):
    name: str
    kind: ColumnKind
    type: str
    """The Arrow type, as text."""


class ColumnInfo(_ColumnFields, total=False):
    """One column as the browser shows it: in the ``columns`` trait and a ``span`` reply."""

    role: Literal["error"]
    """``"error"``: a value in this column (not null) marks its row as failed — the
    ``exception`` column of a monitor table (see ``weave_nb.monitor.schema``); absent
    on every other column."""


# -- synced traits the browser reads -----------------------------------------------------


class FeedbackConfig(TypedDict):
    """The table's feedback controls: the annotation field of each, null when not shown."""

    thumbs: str | None
    note: str | None
    labels: dict[str, list[str]]
    """Label field → its choices."""


class TableState(TypedDict):
    """The table widget's synced traits (the browser sets sort, filter, hidden_columns,
    follow and selected_id)."""

    protocol: int
    columns: list[ColumnInfo]
    hidden_columns: list[str]
    feedback: FeedbackConfig
    sort: list[SortKey]
    filter: str
    follow: bool
    selected_id: RowId | None
    height: int


class ChartState(TypedDict):
    """The chart widget's synced traits."""

    protocol: int
    runtime: str
    """Reference to the shared vega runtime widget (``anywidget:<model id>``)."""
    spec: dict[str, object]
    """The Vega-Lite spec without data values (empty when the chart failed)."""
    data: list[dict[str, object]]
    """The aggregated rows the spec draws."""
    error: str
    empty: str


class StatInfo(TypedDict):
    """One figure of a board's header."""

    label: str
    value: str
    tone: str


class BoardState(TypedDict):
    """The board widget's synced traits (the browser sets range and filter)."""

    protocol: int
    title: str
    stats: list[StatInfo]
    panels: list[str]
    """References to the chart widgets (``anywidget:<model id>``), in grid order."""
    table_widget: str | None
    range: str
    filter: str
    filter_error: str
    selection: str


# -- browser → kernel -------------------------------------------------------------------


class WindowRequest(TypedDict):
    """Rows ``[offset, offset + limit)`` of the table sorted and filtered (table)."""

    type: Literal["window"]
    request: int
    offset: int
    """Negative: counted from the end of the matching rows (the browser follows the tail)."""
    limit: int
    sort: list[SortKey]
    filter: str | None
    """A SQL boolean expression over the columns; null for every row."""


class AnnotateRequest(TypedDict):
    """Feedback on a row, stored with ``table.annotate`` (table; no reply unless refused)."""

    type: Literal["annotate"]
    row_id: RowId
    field: str
    value: str | None
    """The 👍/👎 value, a label choice or a note; null clears it."""


class ImageRequest(TypedDict):
    """The full-size image of one cell (table)."""

    type: Literal["image"]
    request: int
    row_id: RowId
    column: str


class CellRequest(TypedDict):
    """The whole value of one cell that windows send cut short (table)."""

    type: Literal["cell"]
    request: int
    row_id: RowId
    column: str


@final  # closed, so that ``"trace_id" in msg`` tells the two trace requests apart
class TraceOfRowRequest(TypedDict):
    """A window of the outline of the trace a row belongs to (table's trace view)."""

    type: Literal["trace"]
    request: int
    row_id: RowId
    offset: int
    limit: int


@final
class TraceWindowRequest(TypedDict):
    """A further window of the outline of a trace already open (table's trace view)."""

    type: Literal["trace"]
    request: int
    trace_id: str
    offset: int
    limit: int


class SpanRequest(TypedDict):
    """One span's whole row, for the trace view's details (table)."""

    type: Literal["span"]
    request: int
    row_id: RowId


class SelectMessage(TypedDict):
    """A click on a chart's mark: the fields of its row as the kernel sent them, or null."""

    type: Literal["select"]
    datum: dict[str, object] | None


class ClearSelectionMessage(TypedDict):
    """The ✕ next to a board's chart selection."""

    type: Literal["clear_selection"]


TableRequest = (
    WindowRequest
    | AnnotateRequest
    | ImageRequest
    | CellRequest
    | TraceOfRowRequest
    | TraceWindowRequest
    | SpanRequest
)
ChartMessage = SelectMessage
BoardMessage = ClearSelectionMessage


# -- kernel → browser --------------------------------------------------------------------


class RowsReply(TypedDict):
    """Reply to ``window`` + the rows as one Arrow IPC window."""

    type: Literal["rows"]
    request: int
    offset: int
    """Where the rows start (a negative requested offset resolved)."""
    total: int
    """Rows in the table."""
    matched: int
    """Rows matching the request's filter."""
    version: int
    """The table's version the rows were read at."""


class TickQuery(TypedDict):
    """The sort and filter a tick's ``matched`` count and tail rows are for."""

    sort: list[SortKey]
    filter: str


class _TickFields(TypedDict):
    type: Literal["tick"]
    total: int
    version: int
    query: TickQuery


class Tick(_TickFields):
    """The table changed (pushed, throttled, from a background thread)."""

    matched: int | None
    """Null when not counted (a bad filter, or rows still being read)."""


class TailTick(_TickFields):
    """A tick + an Arrow IPC window of the newest rows, while the browser follows the tail."""

    matched: int
    offset: int
    """Where the tail rows start."""


class ImageReply(TypedDict):
    """Reply to ``image`` + the PNG."""

    type: Literal["image"]
    request: int
    column: str
    width: int
    height: int


class ImageMissing(TypedDict):
    """Reply to ``image`` when the row has no image there (no buffer)."""

    type: Literal["image"]
    request: int
    column: str
    message: str


class CellReply(TypedDict):
    """Reply to ``cell`` + a one-row Arrow IPC table holding the whole cell."""

    type: Literal["cell"]
    request: int
    column: str


class CellMissing(TypedDict):
    """Reply to ``cell`` when the row is gone (no buffer)."""

    type: Literal["cell"]
    request: int
    column: str
    message: str


class TraceReply(TypedDict):
    """Reply to ``trace`` + an Arrow IPC window of the outline, in tree order."""

    type: Literal["trace"]
    request: int
    trace_id: str
    offset: int
    total: int
    """Spans in the trace."""
    total_ms: float
    """From the trace's first start to its last end."""
    version: int
    index: int | None
    """The asked row's place in the outline (null when asked by ``trace_id``)."""


class TraceMissing(TypedDict):
    """Reply to ``trace`` when the row belongs to no trace (no buffer)."""

    type: Literal["trace"]
    request: int
    message: str


class SpanReply(TypedDict):
    """Reply to ``span`` + a one-row Arrow IPC table (long cells cut, images as thumbnails)."""

    type: Literal["span"]
    request: int
    columns: list[ColumnInfo]


class SpanMissing(TypedDict):
    """Reply to ``span`` when the span is gone (no buffer)."""

    type: Literal["span"]
    request: int
    message: str


class ErrorReply(TypedDict):
    """A request failed; ``request`` is null for refused feedback (``annotate`` has no id)."""

    type: Literal["error"]
    request: int | None
    message: str


KernelMessage = (
    RowsReply
    | Tick
    | TailTick
    | ImageReply
    | ImageMissing
    | CellReply
    | CellMissing
    | TraceReply
    | TraceMissing
    | SpanReply
    | SpanMissing
    | ErrorReply
)


@dataclass(frozen=True)
class MessageShape:
    """One shape a message takes: its fields, its widget, its direction and its buffers."""

    fields: type
    """The TypedDict declaring the fields; its name names the shape on both sides."""
    widget: Literal["table", "chart", "board"]
    direction: Literal["browser_to_kernel", "kernel_to_browser"]
    buffers: int = 0
    """How many binary buffers travel with it."""

    def check(self, content: Mapping[str, Any], buffers: int) -> None:
        """Raise :class:`ProtocolError` unless ``content`` and ``buffers`` buffers fit the shape."""
        check_fields(content, self.fields)
        if buffers != self.buffers:
            raise ProtocolError(
                f"{self.type!r} message: {buffers} buffers where {self.name} carries {self.buffers}"
            )

    @property
    def name(self) -> str:
        """The shape's name, the same in ``js/shared/protocol.js`` and the fixture."""
        return self.fields.__name__

    @property
    def type(self) -> str:
        """The value of the message's ``type`` field."""
        value: str = typing.get_args(_hints(self.fields)["type"])[0]
        return value


_IN: Literal["browser_to_kernel"] = "browser_to_kernel"
_OUT: Literal["kernel_to_browser"] = "kernel_to_browser"
MESSAGE_SHAPES: tuple[MessageShape, ...] = (
    MessageShape(WindowRequest, "table", _IN),
    MessageShape(AnnotateRequest, "table", _IN),
    MessageShape(ImageRequest, "table", _IN),
    MessageShape(CellRequest, "table", _IN),
    MessageShape(TraceOfRowRequest, "table", _IN),
    MessageShape(TraceWindowRequest, "table", _IN),
    MessageShape(SpanRequest, "table", _IN),
    MessageShape(SelectMessage, "chart", _IN),
    MessageShape(ClearSelectionMessage, "board", _IN),
    MessageShape(RowsReply, "table", _OUT, 1),
    MessageShape(Tick, "table", _OUT),
    MessageShape(TailTick, "table", _OUT, 1),
    MessageShape(ImageReply, "table", _OUT, 1),
    MessageShape(ImageMissing, "table", _OUT),
    MessageShape(CellReply, "table", _OUT, 1),
    MessageShape(CellMissing, "table", _OUT),
    MessageShape(TraceReply, "table", _OUT, 1),
    MessageShape(TraceMissing, "table", _OUT),
    MessageShape(SpanReply, "table", _OUT, 1),
    MessageShape(SpanMissing, "table", _OUT),
    MessageShape(ErrorReply, "table", _OUT),
)
"""Every shape of every message, in both directions."""


class ProtocolError(ValueError):
    """A message does not have the fields its type declares."""


# -- checking ----------------------------------------------------------------------------


def check_fields(content: Mapping[str, Any], fields: type) -> None:
    """Raise :class:`ProtocolError` unless ``content`` has the fields of the TypedDict ``fields``.

    Each declared key must be present (unless optional) and hold a value of its
    declared type; keys it does not declare are ignored.
    """
    found = _fields_mismatch(content, fields)
    if found is not None:
        key, problem = found
        kind = content.get("type", fields.__name__)
        raise ProtocolError(f"{kind!r} message: field {_within(repr(key), problem)}")


def _fields_mismatch(content: Mapping[str, Any], fields: type) -> tuple[str, str] | None:
    """The first field of ``content`` not as the TypedDict ``fields`` declares, and why."""
    hints = _hints(fields)
    required: frozenset[str] = getattr(fields, "__required_keys__", frozenset(hints))
    for key, hint in hints.items():
        if key not in content:
            if key in required:
                return key, "is missing"
            continue
        problem = _mismatch(content[key], hint)
        if problem is not None:
            return key, problem
    return None


@functools.cache
def _hints(fields: type) -> dict[str, Any]:
    return typing.get_type_hints(fields)


def _mismatch(value: object, hint: Any) -> str | None:
    """Why ``value`` is not of type ``hint`` (``None`` when it is)."""
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin is Union or origin is types.UnionType:
        problems = [_mismatch(value, arg) for arg in args]
        return None if None in problems else f"must be {_describe(hint)}, got {value!r}"
    if origin is Literal:
        return None if value in args else f"must be {_describe(hint)}, got {value!r}"
    if origin is list or origin is tuple:
        if not isinstance(value, (list, tuple)):
            return f"must be {_describe(hint)}, got {value!r}"
        items = [args[0]] * len(value) if origin is list else list(args)
        if len(items) != len(value):
            return f"must be {_describe(hint)}, got {value!r}"
        for index, (item, item_hint) in enumerate(zip(value, items, strict=True)):
            problem = _mismatch(item, item_hint)
            if problem is not None:
                return _within(f"[{index}]", problem)
        return None
    if origin is dict:
        if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
            return f"must be {_describe(hint)}, got {value!r}"
        for key, item in value.items():
            problem = _mismatch(item, args[1])
            if problem is not None:
                return _within(f"[{key!r}]", problem)
        return None
    if typing.is_typeddict(hint):
        if not isinstance(value, dict):
            return f"must be an object, got {value!r}"
        found = _fields_mismatch(value, hint)
        return None if found is None else _within(f"[{found[0]!r}]", found[1])
    if hint is object:
        return None
    if hint is type(None):
        return None if value is None else f"must be null, got {value!r}"
    # JSON has one number type: an integral float is fine where a float is expected.
    accepted: tuple[type, ...] = (int, float) if hint is float else (hint,)
    if isinstance(value, bool) and hint is not bool:
        return f"must be {_describe(hint)}, got {value!r}"
    return None if isinstance(value, accepted) else f"must be {_describe(hint)}, got {value!r}"


def _within(place: str, problem: str) -> str:
    """``problem`` of an item, said of the item at ``place`` of its container."""
    return place + ("" if problem.startswith("[") else " ") + problem


def _describe(hint: Any) -> str:
    """A type as a person reads it in an error."""
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin is Union or origin is types.UnionType:
        return " or ".join(_describe(arg) for arg in args)
    if origin is Literal:
        return " or ".join(repr(arg) for arg in args)
    if origin is list:
        return f"a list of {_describe(args[0])}"
    if origin is tuple:
        return "[" + ", ".join(_describe(arg) for arg in args) + "]"
    if origin is dict:
        return "an object"
    if hint is type(None):
        return "null"
    names = {int: "an integer", float: "a number", str: "text", bool: "true or false"}
    return names.get(hint, getattr(hint, "__name__", str(hint)))


def _parse(content: object, widget: str) -> Mapping[str, Any] | None:
    """``content`` checked against the shapes of its type, or ``None`` when not ``widget``'s.

    Messages of other types are not this widget's protocol (anywidget's own
    commands travel on the same comm) and are ignored.
    """
    if not isinstance(content, dict):
        return None
    shapes = [
        shape
        for shape in MESSAGE_SHAPES
        if shape.direction == _IN and shape.widget == widget and shape.type == content.get("type")
    ]
    if not shapes:
        return None
    errors: list[ProtocolError] = []
    for shape in shapes:
        try:
            shape.check(content, 0)
        except ProtocolError as error:
            errors.append(error)
        else:
            return content
    # Of several shapes (a trace by row or by id), report the one the message came nearest to.
    raise max(errors, key=lambda error: "missing" not in str(error))


def parse_table_request(content: object) -> TableRequest | None:
    """A table widget's request from the browser, checked; ``None`` when not one."""
    return cast("TableRequest | None", _parse(content, "table"))


def parse_chart_message(content: object) -> ChartMessage | None:
    """A chart's message from the browser, checked; ``None`` when not one."""
    return cast("ChartMessage | None", _parse(content, "chart"))


def parse_board_message(content: object) -> BoardMessage | None:
    """A board's message from the browser, checked; ``None`` when not one."""
    return cast("BoardMessage | None", _parse(content, "board"))


# -- building ----------------------------------------------------------------------------


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
