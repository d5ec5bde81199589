"""The contract every chart kind implements, and the scope a board applies to its panels."""

from __future__ import annotations

import datetime as dt
import functools
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from weave_nb.charts._records import to_records
from weave_nb.charts._sql import and_all, time_range

if TYPE_CHECKING:
    import pyarrow as pa

    from weave_nb.store import StreamTable

__all__ = ["AggregateChart", "ChartKind", "Rendered", "Scope", "Selection"]


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
class Rendered:
    """A Vega-Lite spec reading the named data source, and the rows to put in it."""

    spec: dict[str, Any]
    rows: list[dict[str, Any]]


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
    """A kind whose spec is fixed and whose rows are one aggregated Arrow table."""

    @abstractmethod
    def data(self, table: StreamTable, scope: Scope) -> pa.Table:
        """The aggregated rows to draw, computed in the kernel."""

    @abstractmethod
    def spec(self) -> dict[str, Any]:
        """The Vega-Lite spec (without data values) drawing :meth:`data`'s rows."""

    @functools.cached_property
    def _spec(self) -> dict[str, Any]:
        # Built (and schema-validated by altair) once: a kind's drawing does not change.
        return self.spec()

    def render(self, table: StreamTable, scope: Scope) -> Rendered:
        return Rendered(self._spec, to_records(self.data(table, scope)))
