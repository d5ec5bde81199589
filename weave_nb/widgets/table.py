"""TableWidget: a live, virtual-scrolling view of a StreamTable in the notebook."""

from __future__ import annotations

import threading
import warnings
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, Literal

import anywidget
import traitlets

from ..query import quote_ident as quote
from ..store import Image, StreamTable, is_image_type
from ._arrow import (
    ThumbnailCache,
    describe_columns,
    encode_ipc,
    nested_images,
    sql_value,
    with_nested_images,
)
from ._bundle import bundle
from ._cells import shorten
from ._ticker import Ticker
from ._trace import MAX_SPANS_WINDOW, TraceOutlines
from .protocol import (
    PROTOCOL_VERSION,
    AnnotateRequest,
    CellRequest,
    ColumnInfo,
    FeedbackConfig,
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
    tail_tick,
    tick,
    trace_missing,
    trace_reply,
)

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["TableWidget"]

THUMBS_FIELD = "thumbs"
"""Annotation field of the 👍/👎 buttons; values ``"up"``, ``"down"`` or ``None``."""
NOTE_FIELD = "note"
"""Annotation field of the free-text note."""
TAIL_ROWS = 100
"""Rows pushed with each tick while the browser follows the tail."""
MAX_WINDOW = 2000
"""Largest window the browser may ask for in one request."""

SortSpec = list[tuple[str, Literal["asc", "desc"]]]


class TableWidget(anywidget.AnyWidget):  # type: ignore[misc]
    """Live table over a :class:`~weave_nb.StreamTable`.

    Shows the whole table however large (the browser holds only a few windows
    of rows), updates while rows are logged (from a background thread, so also
    while a cell runs), and sorts and filters in the kernel. Each row has
    feedback controls stored through ``table.annotate``.

    Parameters
    ----------
    table:
        The table to show.
    feedback:
        ``True`` (default) for 👍/👎 and a note per row, ``False`` for none, or a
        mapping of label fields to their choices, e.g.
        ``{"label": ["correct", "wrong", "unsure"]}``, which adds a choice box per
        field next to 👍/👎 and the note. Stored as the fields ``thumbs``
        (``"up"``/``"down"``), ``note`` and each label field.
    hidden:
        Columns hidden at first (the user can show them in the Columns menu).
        By default ``_client_id`` and the feedback fields, whose values the
        feedback controls already show.
    sort:
        Initial sort, ``[(column, "asc" | "desc"), ...]``.
    filter:
        Initial filter, a SQL boolean expression over the columns.
    follow:
        Start at the newest rows and stay there as rows arrive (default), or at
        the first row.
    height:
        Height of the scrolling area in pixels.
    """

    _esm = traitlets.Unicode().tag(sync=True)

    protocol = traitlets.Int(PROTOCOL_VERSION, read_only=True).tag(sync=True)
    # traitlets types the elements of a List of Dict as plain dicts.
    columns: traitlets.List[ColumnInfo] = traitlets.List(traitlets.Dict()).tag(sync=True)  # type: ignore[assignment]
    hidden_columns = traitlets.List(traitlets.Unicode()).tag(sync=True)
    feedback = traitlets.Dict().tag(sync=True)
    sort = traitlets.List(traitlets.List()).tag(sync=True)
    filter = traitlets.Unicode("").tag(sync=True)
    follow = traitlets.Bool(True).tag(sync=True)
    selected_id = traitlets.Any(None, allow_none=True).tag(sync=True)
    height = traitlets.Int(400).tag(sync=True)
    selected: traitlets.Dict[str, Any] | None = traitlets.Dict(default_value=None, allow_none=True)
    """The row the user selected, as a dict (images as :class:`~weave_nb.Image`), or ``None``."""

    def __init__(
        self,
        table: StreamTable,
        *,
        feedback: bool | Mapping[str, Sequence[str]] = True,
        hidden: Iterable[str] | None = None,
        sort: Sequence[tuple[str, str]] | None = None,
        filter: str | None = None,
        follow: bool = True,
        height: int = 400,
    ) -> None:
        if not isinstance(table, StreamTable):
            raise TypeError(f"TableWidget shows a weave_nb.StreamTable, got {type(table).__name__}")
        if table.closed:
            raise ValueError(f"cannot show a closed table: {table!r}")
        config = _feedback_config(feedback)
        if hidden is None:
            hidden = ["_client_id", *_feedback_fields(config)]
        super().__init__(
            _esm=bundle("table"),
            columns=describe_columns(table.schema),
            hidden_columns=list(hidden),
            feedback=config,
            sort=[list(key) for key in _check_sort(sort or [])],
            filter=filter or "",
            follow=follow,
            height=height,
        )
        self._table = table
        self._schema = table.schema
        self._thumbnails = ThumbnailCache()
        self._rows_worker = ThreadPoolExecutor(1, thread_name_prefix="weave_nb-table-rows")
        # Guards the hand-over between the ticker and the row worker, so that a
        # count sent while rows are read is always followed by newer rows.
        self._rows_lock = threading.Lock()
        self._rows_busy = False
        self._rows_behind = False
        self._traces = TraceOutlines(table)
        self.on_msg(self._on_message)
        self._ticker = Ticker(table, self._push, on_stop=self.close)

    @property
    def table(self) -> StreamTable:
        """The table shown."""
        return self._table

    def close(self) -> None:
        """Stop live updates, unsubscribe from the table and close the views."""
        ticker = getattr(self, "_ticker", None)
        if ticker is not None:
            ticker.close()
            self._rows_worker.shutdown(wait=True, cancel_futures=True)
        super().close()

    # -- browser requests (answered when the kernel is idle) -------------------------

    def _on_message(self, _widget: Any, content: Any, buffers: Sequence[bytes]) -> None:
        try:
            msg = parse_table_request(content)
            if msg is None:
                return  # not a table request (anywidget's own commands share the comm)
            if msg["type"] == "window":
                self._on_window(msg)
            elif msg["type"] == "annotate":
                self._on_annotate(msg)
            elif msg["type"] == "image":
                self._on_image(msg)
            elif msg["type"] == "cell":
                self._on_cell(msg)
            elif msg["type"] == "trace":
                self._on_trace(msg)
            else:
                self._on_span(msg)
        except Exception as error:  # the browser waits for an answer: always send one
            request = content.get("request") if isinstance(content, dict) else None
            if not isinstance(request, int) or isinstance(request, bool):
                request = None  # the request was malformed: an error nobody waits for
            self.send(*error_reply(request, _message(error)))

    def _on_window(self, msg: WindowRequest) -> None:
        offset, limit = msg["offset"], msg["limit"]
        if not 0 <= limit <= MAX_WINDOW:
            raise ValueError(f"window limit must be within 0..{MAX_WINDOW}, got {limit}")
        sort = _check_sort(msg["sort"])
        where = msg["filter"] or None
        total, version = len(self._table), self._table.version
        matched = self._table.count(where) if where else total
        if offset < 0:  # counted from the end: the browser follows the tail
            offset = max(0, matched + offset)
        rows = encode_ipc(self._window(offset, limit, sort, where))
        self.send(
            *rows_reply(
                msg["request"],
                offset=offset,
                total=total,
                matched=matched,
                version=version,
                window=rows,
            )
        )

    def _on_annotate(self, msg: AnnotateRequest) -> None:
        field, value = msg["field"], msg["value"]
        config = self.feedback
        if field == config["thumbs"]:
            allowed: list[Any] = ["up", "down", None]
        elif field in config["labels"]:
            allowed = [*config["labels"][field], None]
        elif field != config["note"]:
            raise ValueError(f"{field!r} is not a feedback field of this widget")
        if field != config["note"] and value not in allowed:
            raise ValueError(f"feedback {field!r} must be one of {allowed}, got {value!r}")
        self._table.annotate(msg["row_id"], {field: value})
        self._ticker.poke()

    def _on_image(self, msg: ImageRequest) -> None:
        request, column = msg["request"], msg["column"]
        schema = self._table.schema
        nested = nested_images(schema)
        if column in nested:
            parent, child = nested[column]
            rows = self._lookup(msg["row_id"], [parent])
            value = rows.column(parent)[0].as_py() if rows.num_rows else None
            cell = value.get(child) if value else None
        elif column in schema.names and is_image_type(schema.field(column).type):
            rows = self._lookup(msg["row_id"], [column])
            cell = rows.column(column)[0].as_py() if rows.num_rows else None
        else:
            raise ValueError(f"{column!r} is not an image column")
        if cell is None:
            self.send(*image_missing(request, column=column, message="no image in this row"))
            return
        self.send(
            *image_reply(
                request, column=column, width=cell["width"], height=cell["height"], png=cell["png"]
            )
        )

    def _on_cell(self, msg: CellRequest) -> None:
        """The whole value of one cell that windows send shortened."""
        request, column = msg["request"], msg["column"]
        if column not in self._table.schema.names:
            raise ValueError(f"{column!r} is not a column of table {self._table.name!r}")
        rows = self._lookup(msg["row_id"], [column])
        if not rows.num_rows:
            self.send(*cell_missing(request, column=column, message="row not found"))
            return
        self.send(*cell_reply(request, column=column, row=encode_ipc(rows)))

    def _on_trace(self, msg: TraceOfRowRequest | TraceWindowRequest) -> None:
        """A window of the outline of a trace, given by ``trace_id`` or by one of its rows."""
        request, offset, limit = msg["request"], msg["offset"], msg["limit"]
        if offset < 0 or not 0 <= limit <= MAX_SPANS_WINDOW:
            raise ValueError(f"trace window must be within 0..{MAX_SPANS_WINDOW} from offset >= 0")
        if "trace_id" in msg:
            trace_id: str | None = msg["trace_id"]
            row_id = None
        else:
            row_id = msg["row_id"]
            trace_id = self._traces.trace_of(row_id)
        if trace_id is None:
            self.send(*trace_missing(request, message="this row belongs to no trace"))
            return
        outline = self._traces.outline(trace_id)
        self.send(
            *trace_reply(
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
        )

    def _on_span(self, msg: SpanRequest) -> None:
        """The whole row of one span (long cells cut, images as thumbnails), for its details."""
        request = msg["request"]
        schema = self._table.schema
        nested = nested_images(schema)
        rows = with_nested_images(self._lookup(msg["row_id"]), nested)
        if not rows.num_rows:
            self.send(*span_missing(request, message="span not found"))
            return
        rows = shorten(self._thumbnails.apply(rows))
        self.send(*span_reply(request, columns=describe_columns(rows.schema), row=encode_ipc(rows)))

    # -- pushes from the ticker thread -------------------------------------------------

    def _push(self) -> None:
        """Send the row count now and the tail rows as soon as the store can give them.

        Rows need a store snapshot, which waits while the store converts the rows
        of a busy logging loop; the count does not. So rows are read in the row
        worker, and while it is busy the ticker still sends counts (at most one
        message per tick from each, so at most twice the ticker's rate).
        """
        if self._table.closed:
            return
        with self._rows_lock:
            busy = self._rows_busy
            self._rows_behind = busy
            self._rows_busy = True
        if busy:
            total = len(self._table)
            self.send(*self._tick(total, self._table.version, None if self.filter else total))
        else:
            self._rows_worker.submit(self._push_rows)

    def _push_rows(self) -> None:
        try:
            self._send_rows()
        finally:
            with self._rows_lock:
                self._rows_busy = False
                behind, self._rows_behind = self._rows_behind, False
            if behind:  # counts sent meanwhile are newer than these rows
                self._ticker.poke()

    def _send_rows(self) -> None:
        try:
            schema = self._table.schema
            if schema != self._schema:
                self._schema = schema
                self.columns = describe_columns(schema)
            total, version = len(self._table), self._table.version
            sort, where = _check_sort(self.sort), self.filter or None
            try:
                matched = self._table.count(where) if where else total
            except ValueError:  # a bad filter is reported to the request that set it
                self.send(*self._tick(total, version, None))
                return
            if not self.follow:
                self.send(*self._tick(total, version, matched))
                return
            offset = max(0, matched - TAIL_ROWS)
            rows = encode_ipc(self._window(offset, TAIL_ROWS, sort, where))
            self.send(
                *tail_tick(
                    total=total,
                    version=version,
                    matched=matched,
                    sort=sort,
                    filter=self.filter,
                    offset=offset,
                    rows=rows,
                )
            )
        except Exception as error:
            if not self._table.closed:
                warnings.warn(
                    f"weave_nb: live update of {self._table.name!r} failed: {error!r}",
                    RuntimeWarning,
                    stacklevel=1,
                )

    def _tick(self, total: int, version: int, matched: int | None) -> Outgoing:
        """A ``tick`` message; its ``query`` tells which sort/filter ``matched`` is for."""
        return tick(
            total=total,
            version=version,
            matched=matched,
            sort=_check_sort(self.sort),
            filter=self.filter,
        )

    # -- reading -------------------------------------------------------------------------

    def _window(self, offset: int, limit: int, sort: SortSpec, where: str | None) -> pa.Table:
        schema = self._table.schema  # one snapshot for the columns and the nested images
        nested = nested_images(schema)
        rows = self._table.window(
            offset,
            limit,
            sort=sort or None,
            filter=where,
            columns=self._wanted_columns(schema, nested),
        )
        return shorten(self._thumbnails.apply(with_nested_images(rows, nested)))

    def _wanted_columns(
        self, schema: pa.Schema, nested: Mapping[str, tuple[str, str]]
    ) -> list[str]:
        """Visible columns, plus what every row needs: its id and its feedback.

        A struct is read when an image inside it is shown, even if the struct is not.
        """
        hidden = set(self.hidden_columns)
        needed = {"_id", *_feedback_fields(self.feedback)}
        needed.update(parent for name, (parent, _) in nested.items() if name not in hidden)
        return [n for n in schema.names if n not in hidden or n in needed]

    def _lookup(self, row_id: Any, columns: Sequence[str] | None = None) -> pa.Table:
        return self._table.window(
            0, 1, filter=f"{quote('_id')} = {sql_value(row_id)}", columns=columns
        )

    @traitlets.observe("selected_id")
    def _on_selected(self, change: dict[str, Any]) -> None:
        row_id = change["new"]
        if row_id is None:
            self.selected = None
            return
        rows = self._lookup(row_id)
        if not rows.num_rows:
            self.selected = None
            return
        record = rows.to_pylist()[0]
        for field in rows.schema:
            cell = record[field.name]
            if cell is not None and is_image_type(field.type):
                record[field.name] = Image.from_png(cell["png"], cell["width"], cell["height"])
        self.selected = record


def _feedback_config(feedback: bool | Mapping[str, Sequence[str]]) -> FeedbackConfig:
    """The ``feedback`` trait: field names of the controls and label choices."""
    if feedback is False or feedback is None:
        return {"thumbs": None, "note": None, "labels": {}}
    if feedback is True:
        return {"thumbs": THUMBS_FIELD, "note": NOTE_FIELD, "labels": {}}
    if not isinstance(feedback, Mapping):
        raise TypeError(
            "feedback must be True, False or a mapping of label field to choices, "
            f"got {type(feedback).__name__}"
        )
    labels: dict[str, list[str]] = {}
    for field, choices in feedback.items():
        if (
            not isinstance(field, str)
            or field in (THUMBS_FIELD, NOTE_FIELD)
            or field.startswith("_")
        ):
            raise ValueError(
                f"feedback label field {field!r} must be a name other than "
                f"{THUMBS_FIELD!r}, {NOTE_FIELD!r} and not start with '_'"
            )
        if isinstance(choices, str) or not choices or not all(isinstance(c, str) for c in choices):
            raise ValueError(f"choices of feedback label {field!r} must be a non-empty list of str")
        labels[field] = list(choices)
    return {"thumbs": THUMBS_FIELD, "note": NOTE_FIELD, "labels": labels}


def _feedback_fields(config: Mapping[str, Any]) -> list[str]:
    """Annotation fields the feedback controls of ``config`` write."""
    return [f for f in (config["thumbs"], config["note"], *config["labels"]) if f is not None]


def _check_sort(sort: Iterable[Any]) -> SortSpec:
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
