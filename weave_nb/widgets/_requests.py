"""The table widget's answers to the browser's requests, and the reads they share with its pushes.

Each request becomes one reply to send (``annotate`` has none unless refused); a
request that fails becomes an ``error`` reply, since the browser waits for an answer.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

from ..query import quote_ident
from ..store import StreamTable, is_image_type
from ._arrow import (
    ThumbnailCache,
    describe_columns,
    encode_ipc,
    nested_images,
    sql_value,
    with_nested_images,
)
from ._cells import shorten
from ._feedback import check_feedback, feedback_fields
from ._trace import MAX_SPANS_WINDOW, TraceOutlines
from .protocol import (
    AnnotateRequest,
    CellRequest,
    ImageRequest,
    Outgoing,
    SpanRequest,
    TraceOfRowRequest,
    TraceWindowRequest,
    WindowRequest,
    cell_missing,
    cell_reply,
    error_reply,
    image_missing,
    image_reply,
    parse_table_request,
    rows_reply,
    span_missing,
    span_reply,
    trace_missing,
    trace_reply,
)

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["MAX_WINDOW", "SortSpec", "TableRequests", "check_sort"]

MAX_WINDOW = 2000
"""Largest window the browser may ask for in one request."""

SortSpec = list[tuple[str, Literal["asc", "desc"]]]


class TableRequests:
    """Answers the requests of a table widget's browser side over ``table``.

    ``on_annotated`` is called after feedback is stored, so the widget pushes it
    at once.
    """

    def __init__(self, table: StreamTable, on_annotated: Callable[[], None]) -> None:
        self._table = table
        self._on_annotated = on_annotated
        self._thumbnails = ThumbnailCache()
        self.traces = TraceOutlines(table)

    def answer(
        self, content: object, hidden: Sequence[str], feedback: Mapping[str, Any]
    ) -> Outgoing | None:
        """The reply to ``content`` as the widget shows ``hidden`` columns and ``feedback``.

        ``None`` when there is nothing to send: stored feedback, or a message that
        is no table request (anywidget's own commands share the comm).
        """
        try:
            msg = parse_table_request(content)
            if msg is None:
                return None
            if msg["type"] == "window":
                return self._window(msg, hidden, feedback)
            if msg["type"] == "annotate":
                self._annotate(msg, feedback)
                return None
            if msg["type"] == "image":
                return self._image(msg)
            if msg["type"] == "cell":
                return self._cell(msg)
            if msg["type"] == "trace":
                return self._trace(msg)
            return self._span(msg)
        except Exception as error:  # the browser waits for an answer: always send one
            request = content.get("request") if isinstance(content, dict) else None
            if not isinstance(request, int) or isinstance(request, bool):
                request = None  # the request was malformed: an error nobody waits for
            return error_reply(request, _message(error))

    def _window(
        self, msg: WindowRequest, hidden: Sequence[str], feedback: Mapping[str, Any]
    ) -> Outgoing:
        offset, limit = msg["offset"], msg["limit"]
        if not 0 <= limit <= MAX_WINDOW:
            raise ValueError(f"window limit must be within 0..{MAX_WINDOW}, got {limit}")
        sort = check_sort(msg["sort"])
        where = msg["filter"] or None
        total, version = len(self._table), self._table.version
        matched = self._table.count(where) if where else total
        if offset < 0:  # counted from the end: the browser follows the tail
            offset = max(0, matched + offset)
        rows = encode_ipc(self.read(offset, limit, sort, where, hidden, feedback))
        return rows_reply(
            msg["request"],
            offset=offset,
            total=total,
            matched=matched,
            version=version,
            window=rows,
        )

    def _annotate(self, msg: AnnotateRequest, feedback: Mapping[str, Any]) -> None:
        field, value = msg["field"], msg["value"]
        check_feedback(feedback, field, value)
        self._table.annotate(msg["row_id"], {field: value})
        self._on_annotated()

    def _image(self, msg: ImageRequest) -> Outgoing:
        request, column = msg["request"], msg["column"]
        schema = self._table.schema
        nested = nested_images(schema)
        if column in nested:
            parent, child = nested[column]
            rows = self.lookup(msg["row_id"], [parent])
            value = rows.column(parent)[0].as_py() if rows.num_rows else None
            cell = value.get(child) if value else None
        elif column in schema.names and is_image_type(schema.field(column).type):
            rows = self.lookup(msg["row_id"], [column])
            cell = rows.column(column)[0].as_py() if rows.num_rows else None
        else:
            raise ValueError(f"{column!r} is not an image column")
        if cell is None:
            return image_missing(request, column=column, message="no image in this row")
        return image_reply(
            request, column=column, width=cell["width"], height=cell["height"], png=cell["png"]
        )

    def _cell(self, msg: CellRequest) -> Outgoing:
        """The whole value of one cell that windows send shortened."""
        request, column = msg["request"], msg["column"]
        if column not in self._table.schema.names:
            raise ValueError(f"{column!r} is not a column of table {self._table.name!r}")
        rows = self.lookup(msg["row_id"], [column])
        if not rows.num_rows:
            return cell_missing(request, column=column, message="row not found")
        return cell_reply(request, column=column, row=encode_ipc(rows))

    def _trace(self, msg: TraceOfRowRequest | TraceWindowRequest) -> Outgoing:
        """A window of the outline of a trace, given by ``trace_id`` or by one of its rows."""
        request, offset, limit = msg["request"], msg["offset"], msg["limit"]
        if offset < 0 or not 0 <= limit <= MAX_SPANS_WINDOW:
            raise ValueError(f"trace window must be within 0..{MAX_SPANS_WINDOW} from offset >= 0")
        if "trace_id" in msg:
            trace_id: str | None = msg["trace_id"]
            row_id = None
        else:
            row_id = msg["row_id"]
            trace_id = self.traces.trace_of(row_id)
        if trace_id is None:
            return trace_missing(request, message="this row belongs to no trace")
        outline = self.traces.outline(trace_id)
        return trace_reply(
            request,
            trace_id=outline.trace_id,
            offset=offset,
            total=outline.spans.num_rows,
            total_ms=outline.total_ms,
            version=outline.version,
            # Where the clicked row sits in the outline, so the browser can scroll to it.
            index=None if row_id is None else outline.index_of(row_id),
            spans=encode_ipc(outline.window(offset, limit)),
        )

    def _span(self, msg: SpanRequest) -> Outgoing:
        """The whole row of one span (long cells cut, images as thumbnails), for its details."""
        request = msg["request"]
        nested = nested_images(self._table.schema)
        rows = with_nested_images(self.lookup(msg["row_id"]), nested)
        if not rows.num_rows:
            return span_missing(request, message="span not found")
        rows = shorten(self._thumbnails.apply(rows))
        return span_reply(request, columns=describe_columns(rows.schema), row=encode_ipc(rows))

    def read(
        self,
        offset: int,
        limit: int,
        sort: SortSpec,
        where: str | None,
        hidden: Sequence[str],
        feedback: Mapping[str, Any],
    ) -> pa.Table:
        """A window of rows as the browser is sent them: the columns it shows, cut short.

        Every row keeps what it needs when hidden: its id and its feedback; a
        struct is read when an image inside it is shown, even if the struct is not.
        """
        schema = self._table.schema  # one snapshot for the columns and the nested images
        nested = nested_images(schema)
        hide = set(hidden)
        needed = {"_id", *feedback_fields(feedback)}
        needed.update(parent for name, (parent, _) in nested.items() if name not in hide)
        rows = self._table.window(
            offset,
            limit,
            sort=sort or None,
            filter=where,
            columns=[n for n in schema.names if n not in hide or n in needed],
        )
        return shorten(self._thumbnails.apply(with_nested_images(rows, nested)))

    def lookup(self, row_id: Any, columns: Sequence[str] | None = None) -> pa.Table:
        """The row whose ``_id`` is ``row_id`` (none when it is gone), of ``columns`` or all."""
        return self._table.window(
            0, 1, filter=f"{quote_ident('_id')} = {sql_value(row_id)}", columns=columns
        )


def check_sort(sort: Iterable[Any]) -> SortSpec:
    """``[(column, "asc" | "desc"), ...]`` from the browser's ``[[column, dir], ...]``."""
    keys: SortSpec = []
    for key in sort:
        if (
            not isinstance(key, (list, tuple))
            or len(key) != 2
            or not isinstance(key[0], str)
            or key[1] not in ("asc", "desc")
        ):
            raise ValueError(f"a sort key is (column, 'asc' | 'desc'), got {key!r}")
        keys.append((key[0], key[1]))
    return keys


def _message(error: Exception) -> str:
    """What the browser shows for a failed request."""
    text = str(error) or type(error).__name__
    return text if isinstance(error, (ValueError, TypeError)) else f"{type(error).__name__}: {text}"
