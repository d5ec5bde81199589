"""Chart: a live altair (Vega-Lite) chart of a StreamTable, aggregated in the kernel."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anywidget
import traitlets

from ..charts import ChartKind, Scope, Selection, make_kind
from ..charts.export import EXPORT_WIDTH, save_rendered
from ._bundle import bundle
from ._runtime import vega_runtime
from ._ticker import Ticker
from .protocol import PROTOCOL_VERSION, parse_chart_message

if TYPE_CHECKING:
    from ..store import StreamTable

__all__ = ["MAX_UPDATES_PER_SECOND", "Chart"]

MAX_UPDATES_PER_SECOND = 2.0
"""Most data pushes a chart makes per second while rows arrive."""


class Chart(anywidget.AnyWidget):  # type: ignore[misc]
    """A live chart of a :class:`~weave_nb.StreamTable`.

    The chart kind's aggregation runs in the kernel (the store's ``aggregate()`` /
    ``sql()``), so only bucketed rows travel to the browser, where a vega view swaps
    its data in place (no re-render of the page). Updates follow the table from a
    background thread, at most :data:`MAX_UPDATES_PER_SECOND` per second, also while a
    cell is busy logging.

    Parameters
    ----------
    table:
        The table to chart.
    kind:
        ``"volume"``, ``"latency"``, ``"error_rate"``, ``"mean"``, ``"histogram"``,
        ``"counts"``, ``"feedback"`` (see :mod:`weave_nb.charts`), a
        :class:`~weave_nb.charts.ChartKind`, or a function ``DataFrame -> altair chart``
        evaluated on a bounded recent slice (``window="1h"`` or ``rows=N``, see
        :mod:`weave_nb.charts.custom`).
    live:
        Follow the table as it changes (default) or draw it once.
    **options:
        Options of the kind, e.g. ``column="latency_ms"``, ``group_by="model_version"``,
        ``every="5min"``.
    """

    _esm = traitlets.Unicode().tag(sync=True)
    protocol = traitlets.Int(PROTOCOL_VERSION, read_only=True).tag(sync=True)
    runtime = anywidget.WidgetTrait().tag(sync=True)
    spec = traitlets.Dict().tag(sync=True)
    data = traitlets.List(traitlets.Dict()).tag(sync=True)
    error = traitlets.Unicode("").tag(sync=True)
    empty = traitlets.Unicode("").tag(sync=True)
    """Shown instead of the plot while the kind has no rows to draw (e.g. no feedback yet)."""
    selection = traitlets.Instance(Selection, allow_none=True)
    """What the user last clicked in the chart (a filter over the table), or ``None``."""

    def __init__(
        self,
        table: StreamTable,
        kind: str | ChartKind | Callable[..., Any] = "volume",
        *,
        live: bool = True,
        **options: Any,
    ) -> None:
        if getattr(table, "closed", True):
            raise ValueError(f"cannot chart a closed table: {table!r}")
        self.kind: ChartKind = make_kind(kind, **options)
        super().__init__(_esm=bundle("chart"), runtime=vega_runtime())
        self._table = table
        self._scope = Scope()
        self._refreshing = threading.Lock()
        self.on_msg(self._on_message)
        self.refresh()
        # When the table closes the ticker stops; the view keeps its last drawing.
        self._ticker = (
            Ticker(table, self.refresh, max_rate=MAX_UPDATES_PER_SECOND) if live else None
        )

    @property
    def table(self) -> StreamTable:
        """The table charted."""
        return self._table

    @property
    def scope(self) -> Scope:
        """Filter and date range applied to the chart (a board sets it on all its panels)."""
        return self._scope

    @scope.setter
    def scope(self, scope: Scope) -> None:
        if scope != self._scope:  # a board re-applies its scope to every panel
            self._scope = scope
            self.refresh()

    def refresh(self) -> None:
        """Recompute the chart from the table now and send it to the browser.

        A failing query (a column not in the table yet, a bad filter, an error in a custom
        chart function) is shown on the chart and drawn as no data, so a live chart
        recovers by itself once the rows it needs arrive.
        """
        with self._refreshing:
            try:
                rendered = self.kind.render(self._table, self._scope)
            except Exception as error:
                with self.hold_sync():
                    self.error = _message(error)
                    self.data = []
                    self.empty = ""
                return
            with self.hold_sync():
                self.spec = rendered.spec
                self.data = rendered.rows
                self.error = ""
                self.empty = rendered.empty

    def save(
        self, path: str | os.PathLike[str], *, scale: float = 2.0, width: int = EXPORT_WIDTH
    ) -> Path:
        """Write the chart as it is now to a ``.png`` or ``.svg`` file (needs vl-convert).

        ``width`` is the plot width in pixels, ``scale`` the PNG's pixel density.
        """
        return save_rendered(
            self.kind.render(self._table, self._scope), path, scale=scale, width=width
        )

    def close(self) -> None:
        """Stop following the table and close the views."""
        ticker = getattr(self, "_ticker", None)
        if ticker is not None:
            ticker.close()
        super().close()

    def _on_message(self, _widget: Any, content: Any, _buffers: Any) -> None:
        msg = parse_chart_message(content)
        if msg is not None:
            datum = msg["datum"]
            self.selection = None if datum is None else self.kind.select(datum)


def _message(error: BaseException) -> str:
    text = str(error)
    return text if isinstance(error, ValueError) and text else f"{type(error).__name__}: {text}"
