"""Every message of the protocol, both directions, and the values its fields hold, as TypedDicts.

Each TypedDict is one shape of a message; its name names the shape in
``js/shared/protocol.js`` and in the examples both sides check.
"""

from __future__ import annotations

from typing import Literal, TypedDict, final

__all__ = [
    "AnnotateRequest",
    "BoardMessage",
    "CellMissing",
    "CellReply",
    "CellRequest",
    "ChartMessage",
    "ClearSelectionMessage",
    "ColumnInfo",
    "ColumnKind",
    "ErrorReply",
    "ImageMissing",
    "ImageReply",
    "ImageRequest",
    "KernelMessage",
    "RowId",
    "RowsReply",
    "SelectMessage",
    "SortKey",
    "SpanMissing",
    "SpanReply",
    "SpanRequest",
    "TableRequest",
    "TailTick",
    "Tick",
    "TickQuery",
    "TraceMissing",
    "TraceOfRowRequest",
    "TraceReply",
    "TraceWindowRequest",
    "WindowRequest",
]

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
