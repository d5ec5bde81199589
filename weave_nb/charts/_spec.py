"""Shared pieces of the Vega-Lite specs every chart kind draws."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Final

import altair as alt

from weave_nb.charts._outcomes import BAD_VALUES, GOOD_VALUES

__all__ = [
    "BAD",
    "DATA_NAME",
    "GOOD",
    "HEIGHT",
    "NEUTRAL",
    "TIME_TICKS",
    "TimeAxis",
    "axis_title",
    "color_domain",
    "color_scale",
    "finish",
    "palette",
    "source",
    "time_axis",
    "time_tooltip",
    "time_x",
    "value_color",
]

#: The named data source every spec reads; the browser replaces its rows on
#: each update (js/chart/view.js DATA_NAME is its twin).
DATA_NAME = "data"

#: Plot height in pixels; the width follows the container (board grid cell or output area).
HEIGHT = 200

# Times are shown in UTC, like the table's timestamps and a selection's label, whatever the
# browser's time zone.
_TIME_FORMAT = "%Y-%m-%d %H:%M:%S UTC"
# A UTC time unit is what makes Vega-Lite format a tooltip's time in UTC.
_UTC_SECONDS: Final = "utcyearmonthdatehoursminutesseconds"

#: Colour of good outcomes (👍, right, success) and of bad ones (👎, wrong, errors); the
#: table's error highlight (js/table) uses the same red.
GOOD = "#388e3c"
BAD = "#d32f2f"

#: Colours of values that are neither good nor bad: no green or red, so those keep meaning.
NEUTRAL = (
    "#4c78a8",
    "#f58518",
    "#72b7b2",
    "#b279a2",
    "#9d755d",
    "#eeca3b",
    "#bab0ac",
    "#ff9da6",
    "#9467bd",
    "#17becf",
)

#: Ticks at most this many per time axis; with the tick spacing it fixes the label format.
TIME_TICKS = 6

_SECOND, _MINUTE, _HOUR, _DAY = 1.0, 60.0, 3600.0, 86400.0


@dataclass(frozen=True)
class TimeAxis:
    """Label format and minimum tick spacing of a time axis.

    Vega-Lite's default multi-scale labels read ".500" or ":22" when buckets are short;
    an explicit format always shows the clock (or the date) instead.
    """

    format: str
    min_step_ms: int


#: The time axes by the smallest spacing of their ticks, finest first.
_TIME_AXES = (
    (_MINUTE, TimeAxis("%H:%M:%S", int(_SECOND * 1000))),
    (_HOUR, TimeAxis("%H:%M", int(_MINUTE * 1000))),
    (_DAY, TimeAxis("%b %d %H:%M", int(_HOUR * 1000))),
    (30 * _DAY, TimeAxis("%b %d", int(_DAY * 1000))),
)
_YEARS = TimeAxis("%Y-%m-%d", int(_DAY * 1000))


def axis_title(column: str, prefix: str = "") -> str:
    """An axis title naming ``column``, or "value" when it is a long SQL expression."""
    name = column if len(column) <= 30 else "value"
    return f"{prefix} {name}".strip()


def source() -> alt.Chart:
    """A chart over the named data source, with no values of its own."""
    return alt.Chart(alt.NamedData(DATA_NAME))


def time_axis(every: dt.timedelta, span: dt.timedelta) -> TimeAxis:
    """The axis for buckets ``every`` wide covering ``span``.

    Ticks are at least a bucket apart and about ``span / TIME_TICKS``; the format shows
    that spacing: seconds under a minute, the clock under an hour, the date and the clock
    under a day, the day under a month, the full date beyond. Times are in UTC.
    """
    step = max(every.total_seconds(), span.total_seconds() / TIME_TICKS)
    for below, axis in _TIME_AXES:
        if step < below:
            return axis
    return _YEARS


def time_x(axis: TimeAxis, *, span: bool = True) -> dict[str, Any]:
    """The x encoding of time buckets: spanning each bucket (bars) or at its start (lines)."""
    x = alt.X(
        "bucket:T",
        title=None,
        # A "utc" scale places the ticks and formats their labels in UTC.
        scale=alt.Scale(type="utc"),
        axis=alt.Axis(
            format=axis.format,
            tickCount=TIME_TICKS,
            tickMinStep=axis.min_step_ms,
            # Greedy overlap removal keeps a narrow panel's time labels from running together.
            labelOverlap="greedy",
            labelSeparation=6,
        ),
    )
    return {"x": x, "x2": alt.X2("bucket_end:T")} if span else {"x": x}


def value_color(value: object) -> str | None:
    """Green if ``value`` reads as a good outcome, red if a bad one, else None."""
    text = str(value).strip().lower()
    if text in GOOD_VALUES:
        return GOOD
    if text in BAD_VALUES:
        return BAD
    return None


def palette(values: Sequence[object]) -> list[str]:
    """Colours of ``values`` in order: semantic ones fixed, the others through :data:`NEUTRAL`.

    The same value gets the same colour in every panel whatever else is drawn beside it
    (thumbs up is green on every chart), and neutral values take neutral colours in turn.
    """
    colors: list[str] = []
    neutral = 0
    for value in values:
        color = value_color(value)
        if color is None:
            color = NEUTRAL[neutral % len(NEUTRAL)]
            neutral += 1
        colors.append(color)
    return colors


def color_domain(values: Iterable[object]) -> tuple[str, ...]:
    """Distinct non-null ``values`` as text, sorted: the legend order of a colour scale."""
    return tuple(sorted({str(v) for v in values if v is not None}))


def color_scale(values: Sequence[object]) -> alt.Scale:
    """A colour scale giving each of ``values`` its :func:`palette` colour."""
    names = [str(v) for v in values]
    return alt.Scale(domain=names, range=palette(names))


def time_tooltip() -> list[alt.Tooltip]:
    """Tooltip lines naming a bucket's bounds."""
    return [
        alt.Tooltip("bucket:T", title="from", timeUnit=_UTC_SECONDS, format=_TIME_FORMAT),
        alt.Tooltip("bucket_end:T", title="to", timeUnit=_UTC_SECONDS, format=_TIME_FORMAT),
    ]


def finish(chart: alt.Chart | alt.LayerChart, title: str, height: int = HEIGHT) -> dict[str, Any]:
    """The chart as a Vega-Lite dict, sized to its container's width."""
    spec: dict[str, Any] = chart.properties(title=title, width="container", height=height).to_dict()
    return spec
