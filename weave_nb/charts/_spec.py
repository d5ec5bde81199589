"""Shared pieces of the Vega-Lite specs every chart kind draws."""

from __future__ import annotations

from typing import Any

import altair as alt

__all__ = [
    "DATA_NAME",
    "HEIGHT",
    "axis_title",
    "finish",
    "source",
    "time_tooltip",
    "time_x",
]

#: The named data source every spec reads; the browser replaces its rows on
#: each update (js/chart/view.js DATA_NAME is its twin).
DATA_NAME = "data"

#: Plot height in pixels; the width follows the container (board grid cell or output area).
HEIGHT = 200

_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"


def axis_title(column: str, prefix: str = "") -> str:
    """An axis title naming ``column``, or "value" when it is a long SQL expression."""
    name = column if len(column) <= 30 else "value"
    return f"{prefix} {name}".strip()


def source() -> alt.Chart:
    """A chart over the named data source, with no values of its own."""
    return alt.Chart(alt.NamedData(DATA_NAME))


def time_x(*, span: bool = True) -> dict[str, Any]:
    """The x encoding of time buckets: spanning each bucket (bars) or at its start (lines)."""
    # Greedy overlap removal keeps a narrow panel's time labels from running together.
    x = alt.X("bucket:T", title=None, axis=alt.Axis(labelOverlap="greedy", labelSeparation=6))
    return {"x": x, "x2": alt.X2("bucket_end:T")} if span else {"x": x}


def time_tooltip() -> list[alt.Tooltip]:
    """Tooltip lines naming a bucket's bounds."""
    return [
        alt.Tooltip("bucket:T", title="from", format=_TIME_FORMAT),
        alt.Tooltip("bucket_end:T", title="to", format=_TIME_FORMAT),
    ]


def finish(chart: alt.Chart | alt.LayerChart, title: str, height: int = HEIGHT) -> dict[str, Any]:
    """The chart as a Vega-Lite dict, sized to its container's width."""
    spec: dict[str, Any] = chart.properties(title=title, width="container", height=height).to_dict()
    return spec
