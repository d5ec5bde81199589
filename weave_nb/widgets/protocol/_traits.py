"""The synced traits of each widget: the state the browser reads (and partly sets)."""

from __future__ import annotations

from typing import TypedDict

from ._messages import ColumnInfo, RowId, SortKey

__all__ = ["BoardState", "ChartState", "FeedbackConfig", "StatInfo", "TableState"]


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
