"""Shared pieces of the Vega-Lite specs every chart kind draws."""

from __future__ import annotations

from typing import Any

import altair as alt

__all__ = [
    "DATA_NAME",
    "HEIGHT",
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


def source() -> alt.Chart:
    """A chart over the named data source, with no values of its own."""
    return alt.Chart(alt.NamedData(DATA_NAME))


def time_x() -> dict[str, Any]:
    """x/x2 encodings spanning each time bucket (``bucket`` to ``bucket_end``)."""
    return {"x": alt.X("bucket:T", title=None), "x2": alt.X2("bucket_end:T")}


def time_tooltip() -> list[alt.Tooltip]:
    """Tooltip lines naming a bucket's bounds."""
    return [
        alt.Tooltip("bucket:T", title="from", format=_TIME_FORMAT),
        alt.Tooltip("bucket_end:T", title="to", format=_TIME_FORMAT),
    ]


def finish(chart: alt.Chart | alt.LayerChart, title: str, height: int = HEIGHT) -> dict[str, Any]:
    """The chart as a Vega-Lite dict, sized to its container's width."""
    spec: dict[str, Any] = chart.properties(
        title=title, width="container", height=height
    ).to_dict()
    return spec
