"""TableWidget: a live, virtual-scrolling view of a StreamTable in the notebook."""

from __future__ import annotations

import threading
import warnings
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import anywidget
import traitlets

from ..store import Image, StreamTable, is_image_type
from ._arrow import describe_columns, encode_ipc
from ._bundle import bundle
from ._feedback import feedback_config, feedback_fields
from ._requests import TableRequests, check_sort
from ._ticker import Ticker
from .protocol import PROTOCOL_VERSION, ColumnInfo, Outgoing, tail_tick, tick

__all__ = ["TableWidget"]

TAIL_ROWS = 100
"""Rows pushed with each tick while the browser follows the tail."""


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
        config = feedback_config(feedback)
        if hidden is None:
            hidden = ["_client_id", *feedback_fields(config)]
        super().__init__(
            _esm=bundle("table"),
            columns=describe_columns(table.schema),
            hidden_columns=list(hidden),
            feedback=config,
            sort=[list(key) for key in check_sort(sort or [])],
            filter=filter or "",
            follow=follow,
            height=height,
        )
        self._table = table
        self._schema = table.schema
        # Stored feedback is pushed at once, by the ticker started last.
        self._requests = TableRequests(table, on_annotated=lambda: self._ticker.poke())
        self._rows_worker = ThreadPoolExecutor(1, thread_name_prefix="weave_nb-table-rows")
        # Guards the hand-over between the ticker and the row worker, so that a
        # count sent while rows are read is always followed by newer rows.
        self._rows_lock = threading.Lock()
        self._rows_busy = False
        self._rows_behind = False
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
        reply = self._requests.answer(content, self.hidden_columns, self.feedback)
        if reply is not None:
            self.send(*reply)

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
            sort, where = check_sort(self.sort), self.filter or None
            try:
                matched = self._table.count(where) if where else total
            except ValueError:  # a bad filter is reported to the request that set it
                self.send(*self._tick(total, version, None))
                return
            if not self.follow:
                self.send(*self._tick(total, version, matched))
                return
            offset = max(0, matched - TAIL_ROWS)
            tail = self._requests.read(
                offset, TAIL_ROWS, sort, where, self.hidden_columns, self.feedback
            )
            self.send(
                *tail_tick(
                    total=total,
                    version=version,
                    matched=matched,
                    sort=sort,
                    filter=self.filter,
                    offset=offset,
                    rows=encode_ipc(tail),
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
            sort=check_sort(self.sort),
            filter=self.filter,
        )

    @traitlets.observe("selected_id")
    def _on_selected(self, change: dict[str, Any]) -> None:
        row_id = change["new"]
        if row_id is None:
            self.selected = None
            return
        rows = self._requests.lookup(row_id)
        if not rows.num_rows:
            self.selected = None
            return
        record = rows.to_pylist()[0]
        for field in rows.schema:
            cell = record[field.name]
            if cell is not None and is_image_type(field.type):
                record[field.name] = Image.from_png(cell["png"], cell["width"], cell["height"])
        self.selected = record
