"""Chart kinds over data drift: drift per time bucket, and two windows' distributions.

* ``drift``: each column's PSI per time bucket against a fixed reference window (see
  :mod:`weave_nb.quality.over_time`), one line per column, the drift threshold drawn.
* ``compare``: a column's distribution in the reference and the current window, overlaid
  (shares of each window, so windows of different sizes compare).

The reference window keeps the board's filter (the same population) but not its date
range: the reference stays fixed while the range moves.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import altair as alt
import pyarrow as pa

from weave_nb.charts._kind import PLAIN, AggregateChart, Look, Scope
from weave_nb.charts._spec import (
    BAD,
    NEUTRAL,
    axis_title,
    color_domain,
    finish,
    source,
    time_tooltip,
    time_x,
)
from weave_nb.charts.distribution import nice_step
from weave_nb.charts.timeseries import _time_axis_of
from weave_nb.quality import (
    Window,
    category_value,
    columns_to_compare,
    current_sql,
    numeric_value,
    window_sql,
)
from weave_nb.quality.drift import Thresholds
from weave_nb.quality.over_time import (
    Binning,
    drift_over_time,
    over_time_columns,
    reference_binning,
)
from weave_nb.query import and_all, choose_bucket, parse_every

if TYPE_CHECKING:
    from weave_nb.store import StreamTable

__all__ = ["Compare", "Drift"]

#: Longest a drift chart reuses its reference window's bins (see ``Drift._binnings``).
REFERENCE_REFRESH_SECONDS = 30.0

#: Rows per drift bucket the adaptive bucket width aims for.
ROWS_PER_BUCKET = 100

_WINDOWS = ("reference", "current")
_WINDOW_COLORS = (NEUTRAL[0], NEUTRAL[1])


class Drift(AggregateChart):
    """PSI per time bucket of one or more columns against a fixed ``reference`` window.

    ``column`` is a column name (nested fields as ``inputs.question_len``), a list of
    them, or ``None`` for every numeric and categorical column. ``reference`` is a
    ``(start, end)`` pair of datetimes or a SQL filter; ``threshold`` is the PSI drawn as
    the drift line (default :class:`~weave_nb.quality.Thresholds`'s).
    """

    name = "drift"
    empty_text = "Not enough rows to measure drift yet"

    def __init__(
        self,
        column: str | Sequence[str] | None = None,
        *,
        reference: Window,
        every: str | dt.timedelta | None = None,
        threshold: float | None = None,
        where: str | None = None,
        title: str | None = None,
    ) -> None:
        self.columns = [column] if isinstance(column, str) else column
        self.reference = window_sql(reference, "reference")
        self.every = parse_every(every) if isinstance(every, str) else every
        self.threshold = Thresholds().psi if threshold is None else threshold
        self.where = where
        names = ", ".join(self.columns) if self.columns else "columns"
        self._title = title or f"Drift of {names} (PSI vs reference)"
        self._cached: tuple[tuple[tuple[str, ...], str], float, list[Binning]] | None = None

    @property
    def title(self) -> str:
        return self._title

    def data(self, table: StreamTable, scope: Scope) -> pa.Table:
        reference = and_all([self.reference, scope.filter, self.where]) or "TRUE"
        where = scope.where(self.where) or "TRUE"
        every = self.every or _adaptive_width(table, where)
        return drift_over_time(table, self._binnings(table, reference), where, every)

    def _binnings(self, table: StreamTable, reference: str) -> list[Binning]:
        """The reference's bins, recomputed when the schema or the reference changed or
        REFERENCE_REFRESH_SECONDS passed: a live update then only counts the buckets.

        The reference window is usually in the past, so new rows rarely change it; the
        refresh bounds how long late rows or annotations in it can be missed.
        """
        key = (tuple(table.schema.names), reference)
        now = time.monotonic()
        cached = self._cached
        if cached is None or cached[0] != key or now - cached[1] > REFERENCE_REFRESH_SECONDS:
            columns = over_time_columns(table, reference, self.columns)
            binnings = [reference_binning(table, c, reference) for c in columns]
            self._cached = cached = (key, now, binnings)
        return cached[2]

    def look(self, data: pa.Table) -> Look:
        return Look(time=_time_axis_of(data), colors=color_domain(data.column("series")))

    def spec(self, look: Look = PLAIN) -> dict[str, Any]:
        lines = (
            source()
            .mark_line(point=True)
            .encode(
                **time_x(look.time or _time_axis_of(None), span=False),
                y=alt.Y("value:Q", title="PSI vs reference window"),
                # The legend goes below: column names are long and a board panel narrow.
                color=alt.Color(
                    "series:N",
                    title=None,
                    scale=alt.Scale(domain=list(look.colors)),
                    legend=alt.Legend(orient="bottom", columns=2, labelLimit=220),
                ),
                tooltip=[
                    *time_tooltip(),
                    alt.Tooltip("series:N", title="column"),
                    alt.Tooltip("value:Q", title="PSI", format=".3f"),
                    alt.Tooltip("rows:Q", title="rows", format=",d"),
                ],
            )
        )
        rule = (
            alt.Chart().mark_rule(color=BAD, strokeDash=[4, 4]).encode(y=alt.datum(self.threshold))
        )
        label = (
            alt.Chart()
            .mark_text(color=BAD, align="left", dx=4, dy=-6, fontSize=10)
            .encode(x=alt.value(0), y=alt.datum(self.threshold), text=alt.value("drift threshold"))
        )
        return finish(alt.LayerChart(layer=[lines, rule, label]), self.title)


class Compare(AggregateChart):
    """One column's distribution in the ``reference`` and the ``current`` window, overlaid.

    Numbers: histograms over shared "nice" bins (``bins`` at most); categories: the
    ``top`` most frequent values as side-by-side bars. Bars are each window's share of
    its rows. ``current`` defaults as in ``drift()`` (after a time reference, else the
    rows outside it), within the board's scope.
    """

    name = "compare"
    empty_text = "No rows in one of the windows yet"

    def __init__(
        self,
        column: str,
        *,
        reference: Window,
        current: Window | None = None,
        bins: int = 30,
        top: int = 20,
        title: str | None = None,
    ) -> None:
        self.column = column
        self.reference = window_sql(reference, "reference")
        self.current = current_sql(reference, current)
        self.bins = bins
        self.top = top
        self._title = title or f"{column}: reference vs current"
        self._kind: str | None = None

    @property
    def title(self) -> str:
        return self._title

    def data(self, table: StreamTable, scope: Scope) -> pa.Table:
        ref = and_all([self.reference, scope.filter]) or "TRUE"
        cur = scope.where(self.current) or "TRUE"
        (column,) = columns_to_compare(table, f"({ref}) OR ({cur})", [self.column])
        if column.kind == "image":
            raise ValueError(f"compare draws numbers and categories; {self.column!r} is images")
        self._kind = column.kind
        if column.kind == "numeric":
            return _histograms(table, numeric_value(column.sql), ref, cur, self.bins)
        return _category_shares(table, category_value(column.sql), ref, cur, self.top)

    def look(self, data: pa.Table) -> Look:
        return Look(colors=("numeric",) if "bin_start" in data.column_names else ("categorical",))

    def spec(self, look: Look = PLAIN) -> dict[str, Any]:
        color = alt.Color(
            "window:N",
            title=None,
            scale=alt.Scale(domain=list(_WINDOWS), range=list(_WINDOW_COLORS)),
        )
        share = alt.Tooltip("share:Q", title="share of window", format=".1%")
        if look.colors == ("categorical",):
            chart = (
                source()
                .mark_bar()
                .encode(
                    y=alt.Y("value:N", title=axis_title(self.column), sort="-x"),
                    yOffset=alt.YOffset("window:N", sort=list(_WINDOWS)),
                    x=alt.X("share:Q", title="share of window", axis=alt.Axis(format="%")),
                    color=color,
                    tooltip=[alt.Tooltip("window:N"), alt.Tooltip("value:N"), share],
                )
            )
        else:
            chart = (
                source()
                .mark_bar(opacity=0.55, binSpacing=0)
                .encode(
                    x=alt.X(
                        "bin_start:Q", title=axis_title(self.column), scale=alt.Scale(padding=0)
                    ),
                    x2="bin_end:Q",
                    y=alt.Y(
                        "share:Q", title="share of window", stack=None, axis=alt.Axis(format="%")
                    ),
                    y2=alt.datum(0),  # overlaid (unstacked) bars still start at 0
                    color=color,
                    tooltip=[
                        alt.Tooltip("window:N"),
                        alt.Tooltip("bin_start:Q", title="from", format=",.6~g"),
                        alt.Tooltip("bin_end:Q", title="to (excl.)", format=",.6~g"),
                        share,
                    ],
                )
            )
        return finish(chart, self.title)


def _adaptive_width(table: StreamTable, where: str) -> dt.timedelta:
    """A bucket width giving at most 24 buckets of ~:data:`ROWS_PER_BUCKET` rows or more.

    PSI over a few rows spread across ten bins is mostly noise, so drift buckets are
    wider than the other charts' when rows are few.
    """
    span = table.sql(f"SELECT min(_timestamp), max(_timestamp), count(*) FROM t WHERE {where}")
    low, high, rows = (span.column(i)[0].as_py() for i in range(3))
    if low is None or high is None:
        return choose_bucket(dt.timedelta())
    return choose_bucket(high - low, target=max(1, min(24, rows // ROWS_PER_BUCKET)))


def _both(select: str, ref: str, cur: str, also: str = "TRUE") -> str:
    """``select`` grouped over each window where ``also`` holds, labelled ``window``.

    A row in both windows counts in both.
    """
    return " UNION ALL ".join(
        f"SELECT '{name}' AS \"window\", {select} FROM t WHERE ({where}) AND {also} GROUP BY ALL"
        for name, where in zip(_WINDOWS, (ref, cur), strict=True)
    )


def _histograms(table: StreamTable, value: str, ref: str, cur: str, bins: int) -> pa.Table:
    span = table.sql(
        f"SELECT min({value}), max({value}) FROM t WHERE ({ref}) OR ({cur})"
    ).to_pylist()[0]
    low, high = span.values()
    if low is None:
        return _empty(True)
    step = nice_step(high - low, bins)
    counts = table.sql(
        'SELECT "window", k, n / sum(n) OVER (PARTITION BY "window") AS share FROM ('
        + _both(f"floor({value} / {step!r}) AS k, count(*) AS n", ref, cur, f"{value} IS NOT NULL")
        + ') ORDER BY "window", k'
    ).to_pydict()
    return pa.table(
        {
            "window": pa.array(counts["window"], pa.string()),
            "bin_start": pa.array([k * step for k in counts["k"]], pa.float64()),
            "bin_end": pa.array([(k + 1) * step for k in counts["k"]], pa.float64()),
            "share": pa.array(counts["share"], pa.float64()),
        }
    )


def _category_shares(table: StreamTable, value: str, ref: str, cur: str, top: int) -> pa.Table:
    query = (
        f"WITH s AS ({_both(f'{value} AS value, count(*) AS n', ref, cur)}), "
        'shares AS (SELECT "window", value, n / sum(n) OVER (PARTITION BY "window") AS share '
        "FROM s), "
        "kept AS (SELECT value FROM s GROUP BY value ORDER BY sum(n) DESC, value "
        f"LIMIT {int(top)}) "
        "SELECT \"window\", coalesce(shares.value, 'null') AS value, share FROM shares "
        'JOIN kept ON shares.value IS NOT DISTINCT FROM kept.value ORDER BY "window", value'
    )
    return table.sql(query)


def _empty(numeric: bool) -> pa.Table:
    if numeric:
        return pa.table(
            {
                "window": pa.array([], pa.string()),
                "bin_start": pa.array([], pa.float64()),
                "bin_end": pa.array([], pa.float64()),
                "share": pa.array([], pa.float64()),
            }
        )
    return pa.table({"window": pa.array([], pa.string())})
