"""Chart kinds over value distributions: histogram of a numeric column, counts of a category.

Both run one or two DuckDB queries through the store's ``sql()`` (the merged view is the
relation ``t``), so only the bins or the top categories travel to the browser.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import altair as alt
import pyarrow as pa

from weave_nb.charts._kind import PLAIN, AggregateChart, Look, Scope, Selection
from weave_nb.charts._spec import (
    BAD,
    axis_title,
    color_domain,
    color_scale,
    finish,
    source,
    value_color,
)
from weave_nb.query import and_all, column_expr, equals, literal, quote_ident

if TYPE_CHECKING:
    from weave_nb.store import StreamTable

__all__ = ["Counts", "Histogram", "nice_step"]

# Counts of a column named like this (exception.type, error_code) are drawn in the error red.
_ERRORS = re.compile(r"(error|exception)", re.I)


def nice_step(span: float, bins: int) -> float:
    """A bin width of 1, 2 or 5 times a power of ten giving at most ``bins`` bins over ``span``."""
    if not span > 0 or not math.isfinite(span):
        return 1.0
    raw = span / max(bins, 1)
    power = 10.0 ** math.floor(math.log10(raw))
    for factor in (1.0, 2.0, 5.0, 10.0):
        if raw <= factor * power * (1 + 1e-9):
            return factor * power
    return 10.0 * power


class Histogram(AggregateChart):
    """Distribution of a numeric column: counts in equal-width bins with "nice" edges.

    Bin ``k`` holds values ``v`` with ``k*step <= v < (k+1)*step``; ``step`` is 1, 2 or 5 times
    a power of ten, chosen for at most ``bins`` bins over the data's range.
    """

    name = "histogram"

    def __init__(
        self,
        column: str,
        *,
        bins: int = 30,
        group_by: str | None = None,
        where: str | None = None,
        title: str | None = None,
    ) -> None:
        if bins < 1:
            raise ValueError(f"bins must be >= 1, got {bins}")
        self.column = column
        self.bins = bins
        self.group_by = group_by
        self.where = where
        self._title = title or f"distribution of {column}"
        self._value_sql: str | None = None
        self._group_sql: str | None = None

    @property
    def title(self) -> str:
        return self._title

    def data(self, table: StreamTable, scope: Scope) -> pa.Table:
        names = table.schema.names
        self._value_sql = column_expr(self.column, names)
        self._group_sql = None if self.group_by is None else quote_ident(self.group_by)
        where = scope.where(self.where, f"{self._value_sql} IS NOT NULL") or "TRUE"
        values = f"SELECT CAST({self._value_sql} AS DOUBLE) AS v FROM t WHERE {where}"
        low, high = table.sql(f"SELECT min(v), max(v) FROM ({values})").to_pylist()[0].values()
        if low is None:
            return _empty_bins(self.group_by is not None)
        step = nice_step(high - low, self.bins)
        group = "" if self._group_sql is None else f", {self._group_sql} AS grp"
        query = (
            f"SELECT floor(CAST({self._value_sql} AS DOUBLE) / {step!r}) AS k{group}, "
            f"count(*) AS count FROM t WHERE {where} GROUP BY ALL ORDER BY ALL"
        )
        counts = table.sql(query)
        k = counts.column("k").to_numpy(zero_copy_only=False)
        columns: dict[str, Any] = {
            "bin_start": pa.array(k * step, pa.float64()),
            "bin_end": pa.array((k + 1) * step, pa.float64()),
        }
        if self._group_sql is not None:
            columns["group"] = counts.column("grp")
        columns["count"] = counts.column("count")
        return pa.table(columns)

    def look(self, data: pa.Table) -> Look:
        return Look(colors=_group_colors(data, self.group_by))

    def spec(self, look: Look = PLAIN) -> dict[str, Any]:
        color = _group_color(self.group_by, look)
        group_tip = [alt.Tooltip("group:N", title=self.group_by)] if self.group_by else []
        chart = (
            source()
            .mark_bar(orient="vertical", stroke="white", strokeWidth=0.5)
            .encode(
                # No padding: with the bar's default 5 px, "nice" widens 0-140 to -20-160.
                x=alt.X("bin_start:Q", title=axis_title(self.column), scale=alt.Scale(padding=0)),
                x2="bin_end:Q",
                y=alt.Y("count:Q", title="rows", stack=True),
                tooltip=[
                    alt.Tooltip("bin_start:Q", title="from", format=",.6~g"),
                    alt.Tooltip("bin_end:Q", title="to (excl.)", format=",.6~g"),
                    *group_tip,
                    alt.Tooltip("count:Q", title="rows", format=",d"),
                ],
                **color,
            )
        )
        return finish(chart, self.title)

    def select(self, datum: Mapping[str, Any]) -> Selection | None:
        low, high = datum.get("bin_start"), datum.get("bin_end")
        if low is None or high is None or self._value_sql is None:
            return None
        conditions = [
            f"{self._value_sql} >= {literal(low)} AND {self._value_sql} < {literal(high)}",
            self.where,
        ]
        label = f"{low:g} <= {self.column} < {high:g}"
        if self._group_sql is not None and "group" in datum:
            conditions.append(equals(self._group_sql, datum["group"]))
            label += f", {self.group_by} = {datum['group']}"
        return Selection(and_all(conditions) or "", label)


class Counts(AggregateChart):
    """Rows per value of a categorical column: the ``top`` most frequent values, as bars."""

    name = "counts"

    def __init__(
        self,
        column: str,
        *,
        top: int = 20,
        group_by: str | None = None,
        where: str | None = None,
        title: str | None = None,
    ) -> None:
        if top < 1:
            raise ValueError(f"top must be >= 1, got {top}")
        self.column = column
        self.top = top
        self.group_by = group_by
        self.where = where
        self._title = title or f"counts of {column}"
        self._value_sql: str | None = None
        self._group_sql: str | None = None

    @property
    def title(self) -> str:
        return self._title

    def data(self, table: StreamTable, scope: Scope) -> pa.Table:
        names = table.schema.names
        self._value_sql = column_expr(self.column, names)
        self._group_sql = None if self.group_by is None else quote_ident(self.group_by)
        where = scope.where(self.where) or "TRUE"
        grouped = self._group_sql is not None
        # The top values are chosen over all groups, then counted per group.
        top = (
            f"SELECT {self._value_sql} AS value FROM t WHERE {where} "
            f"GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT {int(self.top)}"
        )
        group_in = f', {self._group_sql} AS "group"' if grouped else ""
        group_out = ', s."group" AS "group"' if grouped else ""
        query = (
            f"WITH top AS ({top}), "
            f"s AS (SELECT {self._value_sql} AS value{group_in} FROM t WHERE {where}) "
            f"SELECT CAST(s.value AS VARCHAR) AS value{group_out}, count(*) AS count "
            "FROM s JOIN top ON s.value IS NOT DISTINCT FROM top.value "
            "GROUP BY ALL ORDER BY count DESC, value"
        )
        return table.sql(query)

    def look(self, data: pa.Table) -> Look:
        if self.group_by is not None:
            return Look(colors=_group_colors(data, self.group_by))
        values = tuple(str(v) for v in data.column("value").to_pylist())
        # Values that are outcomes (success/error, up/down) are coloured as such.
        return Look(colors=values if any(value_color(v) for v in values) else ())

    def spec(self, look: Look = PLAIN) -> dict[str, Any]:
        if self.group_by is not None:
            color = _group_color(self.group_by, look)
        elif look.colors:
            color = {"color": alt.Color("value:N", scale=color_scale(look.colors), legend=None)}
        elif _ERRORS.search(self.column):
            color = {"color": alt.value(BAD)}
        else:
            color = {}
        group_tip = [alt.Tooltip("group:N", title=self.group_by)] if self.group_by else []
        chart = (
            source()
            .mark_bar()
            .encode(
                y=alt.Y("value:N", title=axis_title(self.column), sort="-x"),
                x=alt.X("count:Q", title="rows", stack=True),
                tooltip=[
                    alt.Tooltip("value:N", title=axis_title(self.column)),
                    *group_tip,
                    alt.Tooltip("count:Q", title="rows", format=",d"),
                ],
                **color,
            )
        )
        return finish(chart, self.title)

    def select(self, datum: Mapping[str, Any]) -> Selection | None:
        if "value" not in datum or self._value_sql is None:
            return None
        value = datum["value"]
        conditions = [
            f"CAST({self._value_sql} AS VARCHAR) IS NOT DISTINCT FROM {literal(value)}",
            self.where,
        ]
        label = f"{self.column} = {value}"
        if self._group_sql is not None and "group" in datum:
            conditions.append(equals(self._group_sql, datum["group"]))
            label += f", {self.group_by} = {datum['group']}"
        return Selection(and_all(conditions) or "", label)


def _group_colors(data: pa.Table, group_by: str | None) -> tuple[str, ...]:
    """The groups drawn, sorted: the domain of the colour scale."""
    if group_by is None:
        return ()
    return color_domain(data.column("group").unique().to_pylist())


def _group_color(group_by: str | None, look: Look) -> dict[str, Any]:
    if group_by is None:
        return {}
    return {"color": alt.Color("group:N", title=group_by, scale=color_scale(look.colors))}


def _empty_bins(grouped: bool) -> pa.Table:
    columns: dict[str, pa.Array] = {
        "bin_start": pa.array([], pa.float64()),
        "bin_end": pa.array([], pa.float64()),
    }
    if grouped:
        columns["group"] = pa.array([], pa.string())
    columns["count"] = pa.array([], pa.int64())
    return pa.table(columns)
