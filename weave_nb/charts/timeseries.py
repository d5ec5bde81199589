"""Chart kinds over time buckets of ``_timestamp``: volume, latency percentiles, error rate, mean.

All of them call the store's ``aggregate()``, whose default bucket width adapts to the span
of the data (at most ~60 buckets), so a chart of any number of rows sends a few hundred
numbers to the browser. Live updates re-aggregate only the newest bucket when they can
(see :mod:`weave_nb.charts._incremental`). Rows reach the browser in long form, one per
drawn point or bar: ``bucket`` / ``bucket_end`` (epoch ms), ``group`` (when grouped),
``series`` (when a chart draws several statistics) and ``value``.

Every kind takes ``every`` (bucket width, e.g. ``"5min"``; adaptive by default),
``group_by`` (a column: one bar stack, line or series per value) and ``where`` (a SQL
condition restricting the rows this chart looks at, on top of a board's filter).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import altair as alt
import pyarrow as pa
import pyarrow.compute as pc

from weave_nb.charts._incremental import AggregateQuery, BucketCache, bucket_width
from weave_nb.charts._kind import PLAIN, AggregateChart, Look, Scope, Selection
from weave_nb.charts._spec import (
    BAD,
    TimeAxis,
    axis_title,
    color_domain,
    color_scale,
    finish,
    source,
    time_axis,
    time_tooltip,
    time_x,
)
from weave_nb.monitor.schema import ERROR, EXCEPTION, STATUS
from weave_nb.query import and_all, column_expr, equals, literal, quote_ident, time_range

if TYPE_CHECKING:
    from weave_nb.store import StreamTable

__all__ = ["ErrorRate", "Feedback", "Latency", "Mean", "Volume"]

_PERCENTILES = (50, 90, 95, 99)


class _TimeSeries(AggregateChart):
    """Shared machinery: one ``aggregate()`` call, long-form rows, bucket selections."""

    #: Whether rows carry a ``series`` label (several statistics drawn as lines).
    has_series = False

    def __init__(
        self,
        *,
        every: str | dt.timedelta | None,
        group_by: str | None,
        where: str | None,
    ) -> None:
        self.every = every
        self.group_by = group_by
        self.where = where
        # The group column as SQL, set by each query; turns a clicked group back into a filter.
        self._group_sql: str | None = None
        self._buckets = BucketCache()

    def _aggregate(
        self, table: StreamTable, scope: Scope, stats: Sequence[str], column: str | None
    ) -> tuple[pa.Table, dt.timedelta]:
        if self.group_by is not None and self.group_by not in table.schema.names:
            raise ValueError(f"no column {self.group_by!r} in table {table.name!r} yet")
        self._group_sql = None if self.group_by is None else quote_ident(self.group_by)
        start, end = scope.bounds()
        query = AggregateQuery(
            stats=tuple(stats),
            column=column,
            every=self.every,
            group_by=self.group_by,
            filter=and_all([scope.filter, self.where]),
            start=start,
            end=end,
        )
        result = self._buckets.aggregate(table, query)
        return result, bucket_width(result)

    def _long(
        self,
        result: pa.Table,
        every: dt.timedelta,
        values: Mapping[str, str],
        extra: Mapping[str, str] | None = None,
    ) -> pa.Table:
        """One row per (bucket, group, series): ``values`` maps series label to stat column.

        Kinds that draw series (``has_series``) also get a ``series`` column with the label,
        which the legend and the tooltip show. Buckets without a value (a mean over nulls
        only) are left out rather than drawn at an empty spot of the axis.
        """
        bucket = result.column(0)
        bucket_end = pc.add(bucket, pa.scalar(every, pa.duration("us")))
        keys: dict[str, Any] = {"bucket": bucket, "bucket_end": bucket_end}
        if self.group_by is not None:
            keys["group"] = result.column(1)
        for name, stat in (extra or {}).items():
            keys[name] = result.column(stat)
        parts = []
        for label, stat in values.items():
            columns = dict(keys)
            if self.has_series:
                columns["series"] = pa.array([label] * result.num_rows, pa.string())
            columns["value"] = result.column(stat).cast(pa.float64())
            part = pa.table(columns)
            parts.append(part.filter(pc.is_valid(part.column("value"))))
        return pa.concat_tables(parts)

    def look(self, data: pa.Table) -> Look:
        groups = (
            ()
            if self.group_by is None
            else color_domain(pc.unique(data.column("group")).to_pylist())
        )
        return Look(time=_time_axis_of(data), colors=groups)

    def _x(self, look: Look, *, span: bool = True) -> dict[str, Any]:
        return time_x(look.time or _time_axis_of(None), span=span)

    def _color(self, look: Look) -> dict[str, Any]:
        """Color by group when grouped (dashes then tell series apart), else by series.

        Groups that read as outcomes (up/down, right/wrong, success/error) are green and
        red; the others take neutral colours.
        """
        series = self.has_series
        if self.group_by is not None:
            color = alt.Color("group:N", title=self.group_by, scale=color_scale(look.colors))
            encoding: dict[str, Any] = {"color": color}
            if series:
                encoding["strokeDash"] = alt.StrokeDash("series:N", title=None)
            return encoding
        return {"color": alt.Color("series:N", title=None)} if series else {}

    def _tooltip(self, value: alt.Tooltip, *more: alt.Tooltip) -> list[alt.Tooltip]:
        group = [alt.Tooltip("group:N", title=self.group_by)] if self.group_by else []
        return [*time_tooltip(), *group, value, *more]

    def _bucket_condition(self, datum: Mapping[str, Any]) -> tuple[str, str] | None:
        """Filter and label for the bucket (and group) of a clicked mark."""
        if datum.get("bucket") is None or datum.get("bucket_end") is None:
            return None
        start, end = _from_ms(datum["bucket"]), _from_ms(datum["bucket_end"])
        label = f"{start:%Y-%m-%d %H:%M:%S} to {end:%H:%M:%S} UTC"
        group = None
        if self._group_sql is not None and "group" in datum:
            group = equals(self._group_sql, datum["group"])
            label += f", {self.group_by} = {datum['group']}"
        condition = and_all([time_range(start, end), group, self.where])
        return (condition, label) if condition else None

    def select(self, datum: Mapping[str, Any]) -> Selection | None:
        found = self._bucket_condition(datum)
        return None if found is None else Selection(found[0], found[1])


class Volume(_TimeSeries):
    """Rows per time bucket (stacked by group when grouped)."""

    name = "volume"

    def __init__(
        self,
        *,
        every: str | dt.timedelta | None = None,
        group_by: str | None = None,
        where: str | None = None,
        title: str | None = None,
    ) -> None:
        super().__init__(every=every, group_by=group_by, where=where)
        self._title = title or "Volume (rows per bucket)"

    @property
    def title(self) -> str:
        return self._title

    def data(self, table: StreamTable, scope: Scope) -> pa.Table:
        result, every = self._aggregate(table, scope, ("count",), None)
        return self._long(result, every, {"rows": "count"})

    def spec(self, look: Look = PLAIN) -> dict[str, Any]:
        chart = (
            source()
            .mark_bar(orient="vertical", stroke="white", strokeWidth=0.5)
            .encode(
                **self._x(look),
                # Whole rows: no "0.5" ticks when a bucket holds a handful.
                y=alt.Y("value:Q", title="rows", stack=True, axis=alt.Axis(tickMinStep=1)),
                tooltip=self._tooltip(alt.Tooltip("value:Q", title="rows")),
                **self._color(look),
            )
        )
        return finish(chart, self.title)


class Latency(_TimeSeries):
    """Percentiles (p50, p95, p99 by default) of a numeric column per time bucket."""

    name = "latency"
    has_series = True

    def __init__(
        self,
        column: str = "latency_ms",
        *,
        percentiles: Sequence[int] = (50, 95, 99),
        every: str | dt.timedelta | None = None,
        group_by: str | None = None,
        where: str | None = None,
        title: str | None = None,
    ) -> None:
        super().__init__(every=every, group_by=group_by, where=where)
        unknown = sorted(set(percentiles) - set(_PERCENTILES))
        if unknown or not percentiles:
            raise ValueError(
                f"percentiles must be a non-empty subset of {_PERCENTILES}, got {list(percentiles)}"
            )
        self.column = column
        self.percentiles = tuple(sorted(set(percentiles)))
        self._title = title or f"{column} percentiles"

    @property
    def title(self) -> str:
        return self._title

    def data(self, table: StreamTable, scope: Scope) -> pa.Table:
        stats = [f"p{p}" for p in self.percentiles]
        column = column_expr(self.column, table.schema.names)
        result, every = self._aggregate(table, scope, stats, column)
        return self._long(result, every, {stat: stat for stat in stats})

    def spec(self, look: Look = PLAIN) -> dict[str, Any]:
        chart = (
            source()
            .mark_line(point=True)
            .encode(
                **self._x(look, span=False),
                y=alt.Y("value:Q", title=axis_title(self.column)),
                tooltip=self._tooltip(
                    alt.Tooltip("series:N", title="percentile"),
                    alt.Tooltip("value:Q", title=axis_title(self.column), format=",.4~f"),
                ),
                **self._color(look),
            )
        )
        return finish(chart, self.title)


class ErrorRate(_TimeSeries):
    """Share of rows per time bucket that are errors.

    ``error`` is a SQL boolean over the table; by default ``status = 'error'`` (``@monitor``
    tables), else ``exception IS NOT NULL`` when the table has an ``exception`` column.
    Clicking a bucket selects that bucket's error rows.
    """

    name = "error_rate"

    def __init__(
        self,
        *,
        error: str | None = None,
        every: str | dt.timedelta | None = None,
        group_by: str | None = None,
        where: str | None = None,
        title: str | None = None,
    ) -> None:
        super().__init__(every=every, group_by=group_by, where=where)
        self.error = error
        self._error_sql: str | None = error
        self._title = title or "Error rate"

    @property
    def title(self) -> str:
        return self._title

    def data(self, table: StreamTable, scope: Scope) -> pa.Table:
        self._error_sql = self.error or _default_error(table.schema.names)
        flag = f"CASE WHEN ({self._error_sql}) THEN 1.0 ELSE 0.0 END"
        result, every = self._aggregate(table, scope, ("mean", "sum", "count"), flag)
        return self._long(result, every, {"error rate": "mean"}, {"errors": "sum", "rows": "count"})

    def spec(self, look: Look = PLAIN) -> dict[str, Any]:
        tooltip = self._tooltip(
            alt.Tooltip("value:Q", title="error rate", format=".1%"),
            alt.Tooltip("errors:Q", title="errors", format=",d"),
            alt.Tooltip("rows:Q", title="rows", format=",d"),
        )
        # At least 0-1% on the axis, so an error-free stretch reads as a flat 0%.
        y = alt.Y(
            "value:Q",
            title="error rate",
            axis=alt.Axis(format=".2~%"),
            scale=alt.Scale(domain=alt.DomainUnionWith(unionWith=[0, 0.01])),
        )
        base = source()
        if self.group_by is None:
            chart = base.mark_bar(
                orient="vertical", color=BAD, stroke="white", strokeWidth=0.5
            ).encode(**self._x(look), y=y, tooltip=tooltip)
        else:
            # Rates of different groups do not add up, so groups are lines, not stacks.
            chart = base.mark_line(point=True).encode(
                **self._x(look, span=False),
                y=y,
                tooltip=tooltip,
                **self._color(look),
            )
        return finish(chart, self.title)

    def select(self, datum: Mapping[str, Any]) -> Selection | None:
        found = self._bucket_condition(datum)
        if found is None or self._error_sql is None:
            return None
        return Selection(and_all([found[0], self._error_sql]) or "", f"errors in {found[1]}")


class Mean(_TimeSeries):
    """Mean of a numeric column (or SQL expression) per time bucket; nulls are ignored.

    ``label`` names the value on the axis and in the tooltip (default: "mean <column>"),
    ``format`` is its d3 number format (e.g. ``".0%"`` for a rate; default ``",.4~f"``).
    """

    name = "mean"

    def __init__(
        self,
        column: str,
        *,
        every: str | dt.timedelta | None = None,
        group_by: str | None = None,
        where: str | None = None,
        title: str | None = None,
        label: str | None = None,
        format: str | None = None,
    ) -> None:
        super().__init__(every=every, group_by=group_by, where=where)
        self.column = column
        self.label = label or axis_title(column, "mean")
        self.format = format
        self._title = title or f"mean {column}"

    @property
    def title(self) -> str:
        return self._title

    def data(self, table: StreamTable, scope: Scope) -> pa.Table:
        column = column_expr(self.column, table.schema.names)
        result, every = self._aggregate(table, scope, ("mean", "count"), column)
        return self._long(result, every, {"mean": "mean"}, {"rows": "count"})

    def spec(self, look: Look = PLAIN) -> dict[str, Any]:
        chart = (
            source()
            .mark_line(point=True)
            .encode(
                **self._x(look, span=False),
                y=alt.Y(
                    "value:Q",
                    title=self.label,
                    axis=alt.Axis() if self.format is None else alt.Axis(format=self.format),
                ),
                tooltip=self._tooltip(
                    alt.Tooltip("value:Q", title=self.label, format=self.format or ",.4~f"),
                    alt.Tooltip("rows:Q", title="rows", format=",d"),
                ),
                **self._color(look),
            )
        )
        return finish(chart, self.title)


class Feedback(Volume):
    """Rows with feedback per time bucket, stacked by the feedback value (👍/👎, labels).

    ``field`` is the annotation field the table widget's feedback controls write. Until
    someone gives feedback (the field may not even exist yet) the panel says how to,
    and turns into the chart with the first feedback.
    """

    name = "feedback"

    def __init__(
        self,
        field: str = "thumbs",
        *,
        every: str | dt.timedelta | None = None,
        where: str | None = None,
        title: str | None = None,
        empty_text: str | None = None,
    ) -> None:
        super().__init__(
            every=every,
            group_by=field,
            where=and_all([f"{quote_ident(field)} IS NOT NULL", where]),
            title=title or f"Feedback over time ({field})",
        )
        self.field = field
        self.empty_text = empty_text or f"No {field} feedback yet"

    def data(self, table: StreamTable, scope: Scope) -> pa.Table:
        if self.field not in table.schema.names:
            return pa.table(
                {
                    "bucket": pa.array([], pa.timestamp("us", "UTC")),
                    "bucket_end": pa.array([], pa.timestamp("us", "UTC")),
                    "group": pa.array([], pa.string()),
                    "value": pa.array([], pa.float64()),
                }
            )
        return super().data(table, scope)


def _time_axis_of(data: pa.Table | None) -> TimeAxis:
    """The time axis for long-form rows: from their bucket width and the span they cover."""
    if data is None or data.num_rows == 0:
        return time_axis(dt.timedelta(seconds=1), dt.timedelta(0))  # the finest axis
    start, end = data.column("bucket"), data.column("bucket_end")
    every = end[0].as_py() - start[0].as_py()
    span = pc.max(end).as_py() - pc.min(start).as_py()
    return time_axis(every, span)


def _default_error(names: Sequence[str]) -> str:
    """Which rows are errors, by the monitor row's columns (any table that has them)."""
    if STATUS in names:
        return f"{quote_ident(STATUS)} = {literal(ERROR)}"
    if EXCEPTION in names:
        return f"{quote_ident(EXCEPTION)} IS NOT NULL"
    raise ValueError(
        f"error_rate needs a {STATUS!r} or {EXCEPTION!r} column; "
        "pass error=<SQL boolean expression> to say which rows are errors"
    )


def _from_ms(value: float) -> dt.datetime:
    """Epoch milliseconds (as sent to the browser) back to an exact UTC datetime."""
    epoch = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
    return epoch + dt.timedelta(microseconds=round(float(value) * 1000))
