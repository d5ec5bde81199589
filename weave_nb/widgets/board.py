"""Board: header stats, a grid of live charts and the table widget, over one StreamTable."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import anywidget
import traitlets

from ..charts import ChartKind, Scope
from ..charts.quality_stats import QualityHeader
from ..charts.seed import seed_panels
from ..charts.seed_quality import drift_panel
from ..charts.stats import Stat, monitor_stats
from ..monitor.schema import is_monitor_schema
from ..quality import on_watch_change
from ..query import and_all, parse_every, time_range
from ._bundle import bundle
from ._ticker import Ticker
from .chart import MAX_UPDATES_PER_SECOND, Chart
from .protocol import PROTOCOL_VERSION, parse_board_message
from .table import TableWidget

if TYPE_CHECKING:
    from ..store import StreamTable

__all__ = ["RANGES", "Board"]

#: Relative date ranges of the board's control (js/board/view.js RANGES is its twin);
#: ``"all"`` is no range, ``"custom"`` an absolute one set with :meth:`Board.set_range`.
RANGES = ("all", "15m", "1h", "6h", "24h", "7d")

PanelSpec = Chart | ChartKind | str | Callable[..., Any]


def _refs(panels: Sequence[Chart], _widget: object) -> list[str]:
    # anywidget's wire form of a widget reference, resolved in the browser by host.getWidget.
    return [f"anywidget:{panel.model_id}" for panel in panels]


class Board(anywidget.AnyWidget):  # type: ignore[misc]
    """A dashboard over one table: header stats, charts in a responsive grid, the table.

    ``table.board()`` seeds the panels from the schema (see :mod:`weave_nb.charts.seed`):
    for ``@monitor`` tables volume, latency percentiles, error rate and feedback over
    time, plus calls / error rate / latency / feedback figures in the header; for other
    tables volume and a panel per numeric or low-cardinality text column. A board made
    over a table without rows yet is seeded when the first rows arrive.

    The date range and filter at the top apply to every panel and to the table. Clicking
    a bar or point of a chart filters the table to the rows behind it (e.g. the errors of
    a spike); the ✕ next to the selection clears it.

    Parameters
    ----------
    table:
        The table to show.
    panels:
        The charts to start with instead of the seeded ones: chart kind names,
        :class:`~weave_nb.charts.ChartKind` objects, functions (custom charts) or charts.
    title:
        Heading of the board (default: the table's name).
    feedback:
        Feedback controls of the table widget (see :class:`TableWidget`).
    range:
        Initial date range, one of :data:`RANGES`.
    filter:
        Initial filter, a SQL boolean expression over the table's columns.
    """

    _esm = traitlets.Unicode().tag(sync=True)
    protocol = traitlets.Int(PROTOCOL_VERSION, read_only=True).tag(sync=True)
    title = traitlets.Unicode("").tag(sync=True)
    stats = traitlets.List(traitlets.Dict()).tag(sync=True)
    panels = traitlets.List(traitlets.Instance(Chart)).tag(sync=True, to_json=_refs)
    """The charts, in grid order; assign a reordered list to reorder them."""
    table_widget = anywidget.WidgetTrait().tag(sync=True)
    range = traitlets.Unicode("all").tag(sync=True)
    filter = traitlets.Unicode("").tag(sync=True)
    filter_error = traitlets.Unicode("").tag(sync=True)
    selection = traitlets.Unicode("").tag(sync=True)

    def __init__(
        self,
        table: StreamTable,
        *,
        panels: Iterable[PanelSpec] | None = None,
        title: str | None = None,
        feedback: bool | Mapping[str, Sequence[str]] = True,
        range: str = "all",
        filter: str = "",
    ) -> None:
        if getattr(table, "closed", True):
            raise ValueError(f"cannot show a closed table: {table!r}")
        _check_range(range)
        widget = TableWidget(table, feedback=feedback)
        config = widget.feedback
        super().__init__(
            _esm=bundle("board"),
            title=table.name if title is None else title,
            table_widget=widget,
            range=range,
            filter=filter,
        )
        self._table = table
        self._thumbs: str | None = config["thumbs"]
        self._labels: dict[str, list[str]] = dict(config["labels"])
        self._monitor = is_monitor_schema(table.schema)
        # A board made before the first row (say, right after decorating a function with
        # @monitor) is seeded again once rows show what kind of table this is.
        self._seed_pending = panels is None and not _user_columns(table)
        # A seeded board gets its drift panel once the table holds enough rows.
        self._drift_pending = panels is None
        self._quality = QualityHeader(table)
        self._absolute: tuple[dt.datetime | None, dt.datetime | None] = (None, None)
        self._stats_lock = threading.Lock()
        kinds: Iterable[PanelSpec] = self._seed() if panels is None else panels
        self.panels = [self._chart(kind) for kind in kinds]
        self.on_msg(self._on_message)
        self.observe(self._on_panels, "panels")
        self.observe(self._on_scope_change, ["range", "filter"])
        self._on_panels({"old": [], "new": self.panels})
        self._apply_scope()
        self._ticker = Ticker(table, self._refresh_stats, max_rate=MAX_UPDATES_PER_SECOND)
        self._stop_hearing_watches = on_watch_change(table, self._refresh_stats)

    @property
    def table(self) -> StreamTable:
        """The table shown."""
        return self._table

    @property
    def scope(self) -> Scope:
        """The filter and date range applied to every panel, as the charts see them."""
        start, end = self._absolute if self.range == "custom" else (None, None)
        last = None if self.range in ("all", "custom") else parse_every(self.range)
        return Scope(filter=self.filter or None, start=start, end=end, last=last)

    def add(self, panel: PanelSpec, index: int | None = None, **options: Any) -> Chart:
        """Add a panel (a kind name with its options, a kind, a function or a chart).

        It goes at ``index`` of the grid, at the end by default. Returns the chart.
        """
        chart = self._chart(panel, **options)
        panels = list(self.panels)
        panels.insert(len(panels) if index is None else index, chart)
        self.panels = panels
        return chart

    def remove(self, panel: Chart | int) -> None:
        """Remove a panel (the chart or its position) from the grid and close it."""
        chart = self.panels[panel] if isinstance(panel, int) else panel
        if chart not in self.panels:
            raise ValueError(f"{chart!r} is not a panel of this board")
        self.panels = [p for p in self.panels if p is not chart]
        chart.close()

    def move(self, panel: Chart | int, index: int) -> None:
        """Move a panel (the chart or its position) to position ``index`` of the grid."""
        chart = self.panels[panel] if isinstance(panel, int) else panel
        if chart not in self.panels:
            raise ValueError(f"{chart!r} is not a panel of this board")
        panels = [p for p in self.panels if p is not chart]
        panels.insert(index, chart)
        self.panels = panels

    def set_range(self, start: dt.datetime | None = None, end: dt.datetime | None = None) -> None:
        """Show rows logged in ``[start, end)`` (naive datetimes are UTC); no bounds: all rows."""
        self._absolute = (_utc(start), _utc(end))
        if start is None and end is None:
            self.range = "all"
        elif self.range == "custom":
            self._apply_scope()
        else:
            self.range = "custom"

    def clear_selection(self) -> None:
        """Forget what was clicked in the charts; the table shows the board's scope again."""
        for chart in self.panels:
            chart.selection = None

    def close(self) -> None:
        """Stop live updates and close the board, its charts and its table widget."""
        ticker = getattr(self, "_ticker", None)
        if ticker is not None:
            ticker.close()
            self._stop_hearing_watches()
        for chart in self.panels:
            chart.close()
        if self.table_widget is not None:
            self.table_widget.close()
        super().close()

    # -- panels -----------------------------------------------------------------

    def _chart(self, panel: PanelSpec, **options: Any) -> Chart:
        if isinstance(panel, Chart):
            if options:
                raise TypeError(f"options {sorted(options)} given with a ready chart")
            if panel.table is not self._table:
                raise ValueError("a board's charts must show the board's table")
            return panel
        return Chart(self._table, panel, **options)

    def _seed(self) -> list[ChartKind]:
        return seed_panels(self._table, thumbs=self._thumbs, labels=list(self._labels))

    def _seed_again_once_rows_arrived(self) -> None:
        if not self._seed_pending or not _user_columns(self._table):
            return
        self._seed_pending = False
        self._monitor = is_monitor_schema(self._table.schema)
        old = self.panels
        self.panels = [self._chart(kind) for kind in self._seed()]
        for chart in old:
            chart.close()

    def _add_drift_panel_once_enough_rows(self) -> None:
        if not self._drift_pending or self._seed_pending:
            return
        kind = drift_panel(self._table)
        if kind is not None:
            self._drift_pending = False
            self.panels = [*self.panels, self._chart(kind)]

    def _on_panels(self, change: Mapping[str, Any]) -> None:
        for chart in change["old"]:
            chart.unobserve(self._on_selection, "selection")
        for chart in change["new"]:
            chart.observe(self._on_selection, "selection")
            chart.scope = self.scope

    # -- scope: date range, filter, selection -------------------------------------

    def _on_scope_change(self, change: Mapping[str, Any]) -> None:
        if change["name"] == "range" and change["new"] != "custom":
            _check_range(change["new"])
        self._apply_scope()

    def _apply_scope(self) -> None:
        if self.filter:
            try:
                self._table.count(self.filter)
            except ValueError as error:
                self.filter_error = str(error)
                return
        self.filter_error = ""
        scope = self.scope
        for chart in self.panels:
            chart.scope = scope
        self._refresh_table_filter()
        self._refresh_stats()

    def _on_selection(self, change: Mapping[str, Any]) -> None:
        chart = change["owner"]
        if change["new"] is not None:
            # One selection at a time: clicking another chart replaces it.
            for other in self.panels:
                if other is not chart:
                    other.selection = None
        self._refresh_table_filter()

    def _refresh_table_filter(self) -> None:
        selected = next((c.selection for c in self.panels if c.selection is not None), None)
        self.selection = "" if selected is None else selected.label
        scope = self.scope
        condition = and_all(
            [
                scope.filter,
                time_range(*scope.bounds()),
                None if selected is None else selected.filter,
            ]
        )
        if self.table_widget is not None:
            self.table_widget.filter = condition or ""

    def _on_message(self, _widget: Any, content: Any, _buffers: Any) -> None:
        if parse_board_message(content) is not None:
            self.clear_selection()

    # -- header -------------------------------------------------------------------

    def _refresh_stats(self) -> None:
        with self._stats_lock:
            self._seed_again_once_rows_arrived()
            scope = self.scope
            try:
                if self._monitor:
                    stats = monitor_stats(
                        self._table, scope, thumbs=self._thumbs, labels=self._labels
                    )
                else:
                    stats = [Stat("rows", f"{self._table.count(scope.where()):,}")]
                self._add_drift_panel_once_enough_rows()
                stats += self._quality.stats([p.kind for p in self.panels], scope)
            except ValueError:
                return  # a bad filter is reported under the filter box
            self.stats = [{"label": s.label, "value": s.value, "tone": s.tone} for s in stats]


def _user_columns(table: StreamTable) -> list[str]:
    return [name for name in table.schema.names if not name.startswith("_")]


def _check_range(value: str) -> None:
    if value not in RANGES and value != "custom":
        raise ValueError(f"unknown date range {value!r}; choose from {list(RANGES)}")


def _utc(value: dt.datetime | None) -> dt.datetime | None:
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=dt.timezone.utc)
