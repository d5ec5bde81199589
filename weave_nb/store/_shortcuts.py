"""StreamTable's shortcuts into weave_nb's higher layers, each imported on first use.

The store never imports tracing, quality or the widgets at module level (it runs
in servers without Jupyter): this mixin is the one place that names them, so
``table.trace(...)``, ``table.drift(...)`` and ``table.widget()`` work without
the store depending on what builds on it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    import pandas as pd

    from ._table import StreamTable

__all__ = ["TableShortcuts"]


class TableShortcuts:
    """Tracing, drift, watches and display of a :class:`StreamTable` (mixed into it)."""

    def _table(self) -> StreamTable:
        return cast("StreamTable", self)

    def trace(self, trace_id: str) -> pd.DataFrame:
        """Every call of one trace: root first, then depth-first in start order, with ``depth``.

        Only that trace's rows are read (filtered on ``trace_id`` in SQL).
        """
        from ..tracing import trace_frame  # tracing builds on the store, not the reverse

        return trace_frame(self._table(), trace_id)

    def session(self, session_id: str) -> pd.DataFrame:
        """Every call tagged with ``session_id`` (see :func:`weave_nb.session`), in start order."""
        from ..tracing import session_frame

        return session_frame(self._table(), session_id)

    def drift(
        self,
        reference: Any,
        current: Any = None,
        columns: Sequence[str] | None = None,
        **options: Any,
    ) -> pd.DataFrame:
        """Compare columns between two windows: one row per column (KS/chi-square, PSI).

        ``reference`` / ``current`` are ``(start, end)`` datetimes over ``_timestamp`` or
        SQL filters (see ``weave_nb.quality.drift``, which takes ``thresholds=``).
        """
        from ..quality import drift

        return drift(self._table(), reference, current, columns, **options)

    def watch(
        self,
        condition: Any,
        callback: Callable[[Any], object],
        *,
        every: str | dt.timedelta | float = "1min",
        window: str | dt.timedelta | float | None = None,
    ) -> Any:
        """Call ``callback`` when a SQL condition over the last ``window`` turns true or clears.

        Evaluated every ``every`` in a background thread; returns a handle with ``stop()``
        (see ``weave_nb.quality.Watch``).
        """
        from ..quality import Watch

        return Watch(self._table(), condition, callback, every=every, window=window)

    def widget(self, **kwargs: Any) -> Any:
        """A live table widget over this table (see ``weave_nb.widgets.TableWidget``)."""
        from ..widgets import TableWidget

        return TableWidget(self._table(), **kwargs)

    def chart(self, kind: Any = "volume", **kwargs: Any) -> Any:
        """A live chart of this table (see ``weave_nb.widgets.Chart``)."""
        from ..widgets import Chart

        return Chart(self._table(), kind, **kwargs)

    def board(self, **kwargs: Any) -> Any:
        """A live board seeded from this table's columns (see ``weave_nb.widgets.Board``)."""
        from ..widgets import Board

        return Board(self._table(), **kwargs)

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget()._repr_mimebundle_(**kwargs)
