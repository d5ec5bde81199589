"""A user's own altair chart, re-evaluated on a bounded recent slice of the table.

``table.chart(lambda df: alt.Chart(df).mark_point().encode(...), rows=2000)`` calls the
function with a pandas DataFrame of the most recent rows each time the table changes (at
most twice a second) and draws the chart it returns. The slice is bounded so a chart never
pulls a large table into pandas:

* ``rows=N``: the N most recent rows (at most :data:`MAX_ROWS`), 5,000 by default;
* ``window="1h"``: rows of the last hour, at most ``rows`` of them (the most recent).

Image columns are left out of the DataFrame. The board's filter and date range apply too.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import altair as alt

from weave_nb.charts._kind import ChartKind, Rendered, Scope, Selection
from weave_nb.charts._spec import DATA_NAME
from weave_nb.query import equals, quote_ident, time_range

if TYPE_CHECKING:
    import pandas as pd

    from weave_nb.store import StreamTable

__all__ = ["DEFAULT_ROWS", "MAX_ROWS", "Custom"]

DEFAULT_ROWS = 5_000
"""Rows given to a custom chart function when neither ``rows`` nor ``window`` says otherwise."""

MAX_ROWS = 100_000
"""Upper bound of ``rows``: the slice is copied into pandas and the chart's rows to the browser."""

_COMPOSITE = ("hconcat", "vconcat", "concat", "facet", "repeat")

ChartFunction = Callable[["pd.DataFrame"], alt.TopLevelMixin]


class Custom(ChartKind):
    """An altair chart built by ``fn`` from a DataFrame of the most recent rows."""

    name = "custom"

    def __init__(
        self,
        fn: ChartFunction,
        *,
        window: str | dt.timedelta | None = None,
        rows: int | None = None,
    ) -> None:
        if not callable(fn):
            raise TypeError(
                f"a custom chart needs a function DataFrame -> altair chart, got {fn!r}"
            )
        limit = DEFAULT_ROWS if rows is None else rows
        if not 1 <= limit <= MAX_ROWS:
            raise ValueError(f"rows must be between 1 and {MAX_ROWS:,}, got {rows}")
        self.fn = fn
        self.window = _duration(window)
        self.rows = limit

    @property
    def title(self) -> str:
        return getattr(self.fn, "__name__", "custom chart")

    def frame(self, table: StreamTable, scope: Scope) -> pd.DataFrame:
        """The bounded slice the function sees: newest rows last, image columns left out."""
        from weave_nb.store import is_image_type

        since = None
        if self.window is not None:
            since = time_range(dt.datetime.now(dt.timezone.utc) - self.window, None)
        columns = [f.name for f in table.schema if not is_image_type(f.type)]
        where = scope.where(since)
        # The last rows in log order: the newest, whatever their timestamps' ties.
        offset = max(0, table.count(where) - self.rows)
        frame: pd.DataFrame = table.window(
            offset, self.rows, filter=where, columns=columns
        ).to_pandas()
        return frame

    def render(self, table: StreamTable, scope: Scope) -> Rendered:
        chart = self.fn(self.frame(table, scope))
        if not isinstance(chart, alt.TopLevelMixin):
            raise TypeError(
                f"the custom chart function must return an altair chart, got {type(chart).__name__}"
            )
        spec: dict[str, Any] = chart.to_dict()
        datasets: dict[str, list[dict[str, Any]]] = spec.pop("datasets", {})
        data = spec.get("data")
        rows: list[dict[str, Any]] = []
        if isinstance(data, dict) and data.get("name") in datasets and len(datasets) == 1:
            # The usual case: one data set, which becomes the live, named source.
            rows = datasets[data["name"]]
            spec["data"] = {"name": DATA_NAME}
        elif datasets:
            # Several data sets (layers over different frames) stay inline in the spec.
            spec["datasets"] = datasets
        if "width" not in spec and not any(key in spec for key in _COMPOSITE):
            spec["width"] = "container"
        return Rendered(spec, rows)

    def select(self, datum: Mapping[str, Any]) -> Selection | None:
        if datum.get("_id") is None:
            return None
        return Selection(equals(quote_ident("_id"), datum["_id"]), f"_id = {datum['_id']}")


def _duration(value: str | dt.timedelta | None) -> dt.timedelta | None:
    from weave_nb.query import parse_every

    duration = parse_every(value) if isinstance(value, str) else value
    if duration is not None and duration <= dt.timedelta(0):
        raise ValueError(f"window must be a positive duration, got {value!r}")
    return duration
