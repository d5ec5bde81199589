"""The contract every chart kind implements, and the scope a board applies to its panels."""

from __future__ import annotations

import datetime as dt
import functools
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from weave_nb.charts._records import to_records
from weave_nb.charts._spec import TimeAxis
from weave_nb.query import and_all, time_range

if TYPE_CHECKING:
    import pyarrow as pa

    from weave_nb.store import StreamTable

__all__ = ["PLAIN", "AggregateChart", "ChartKind", "Look", "Rendered", "Scope", "Selection"]

# Drawings kept per kind; a kind sees a handful of looks over its life.
_MAX_SPECS = 16


@dataclass(frozen=True)
class Scope:
    """The rows a chart looks at: a SQL filter and a half-open time range over ``_timestamp``.

    ``last`` is a relative range ("the last hour"), resolved against the clock on every
    query so a live chart's window slides forward; it combines with ``start``/``end``.
    """

    filter: str | None = None
    start: dt.datetime | None = None
    end: dt.datetime | None = None
    last: dt.timedelta | None = None

    def bounds(self) -> tuple[dt.datetime | None, dt.datetime | None]:
        """The time range now: ``(start, end)``, either open (None)."""
        start = self.start
        if self.last is not None:
            since = dt.datetime.now(dt.timezone.utc) - self.last
            start = since if start is None else max(start, since)
        return start, self.end

    def where(self, *extra: str | None) -> str | None:
        """This scope plus ``extra`` conditions as one SQL boolean expression (None: all rows)."""
        return and_all([self.filter, time_range(*self.bounds()), *extra])


@dataclass(frozen=True)
class Selection:
    """What a click on a mark selects: a filter over the table's rows and a label for people."""

    filter: str
    label: str


@dataclass(frozen=True)
class Look:
    """What a kind's drawing takes from its data: the time axis and the coloured values.

    The browser rebuilds a view only when this changes (a coarser time axis as the data's
    span grows, a new feedback label), not on every update.
    """

    time: TimeAxis | None = None
    colors: tuple[str, ...] = ()


PLAIN = Look()
"""The look of a kind whose drawing does not depend on its data."""


@dataclass(frozen=True)
class Rendered:
    """A Vega-Lite spec reading the named data source, and the rows to put in it.

    ``empty`` is what to show instead of the chart while there are no rows ("" for an
    empty plot).
    """

    spec: dict[str, Any]
    rows: list[dict[str, Any]]
    empty: str = ""


class ChartKind(ABC):
    """One kind of chart: what to compute from a table in the kernel and how to draw it.

    Kinds aggregate with the store (``aggregate()`` / ``sql()`` / bounded ``window()``) so
    only small results travel to the browser, and draw them with a Vega-Lite spec reading
    the named data source ``weave_nb.charts.DATA_NAME``.
    """

    #: Short name used by ``table.chart(<name>)``.
    name: str = ""

    @property
    @abstractmethod
    def title(self) -> str:
        """Title drawn above the chart."""

    @abstractmethod
    def render(self, table: StreamTable, scope: Scope) -> Rendered:
        """Spec and rows for the current state of ``table`` within ``scope``."""

    def select(self, datum: Mapping[str, Any]) -> Selection | None:
        """The table rows behind a clicked mark (``datum`` holds the drawn row's fields)."""
        return None


class AggregateChart(ChartKind):
    """A kind whose rows are one aggregated Arrow table, drawn by a spec per :class:`Look`."""

    #: Shown instead of the chart while there are no rows ("" draws empty axes).
    empty_text = ""

    @abstractmethod
    def data(self, table: StreamTable, scope: Scope) -> pa.Table:
        """The aggregated rows to draw, computed in the kernel."""

    def look(self, data: pa.Table) -> Look:
        """What the drawing of ``data`` depends on (nothing by default)."""
        return PLAIN

    @abstractmethod
    def spec(self, look: Look = PLAIN) -> dict[str, Any]:
        """The Vega-Lite spec (without data values) drawing :meth:`data`'s rows."""

    @functools.cached_property
    def _specs(self) -> dict[Look, dict[str, Any]]:
        return {}

    def _spec(self, look: Look) -> dict[str, Any]:
        # Built (and schema-validated by altair) once per look, not on every update.
        spec = self._specs.get(look)
        if spec is None:
            if len(self._specs) >= _MAX_SPECS:
                self._specs.clear()
            spec = self._specs[look] = self.spec(look)
        return spec

    def render(self, table: StreamTable, scope: Scope) -> Rendered:
        data = self.data(table, scope)
        empty = self.empty_text if data.num_rows == 0 else ""
        return Rendered(self._spec(self.look(data)), to_records(data), empty)
