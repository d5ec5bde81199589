"""Header figures of a board about data quality: drifted columns and running watches."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from weave_nb.charts._kind import Scope
from weave_nb.charts.drift import Drift
from weave_nb.charts.stats import Stat
from weave_nb.quality import active_watches, drift
from weave_nb.query import and_all

if TYPE_CHECKING:
    from weave_nb.charts._kind import ChartKind
    from weave_nb.store import StreamTable

__all__ = ["DRIFT_STATS_SECONDS", "QualityHeader"]

#: Longest a board's "drifted" figure goes without being recomputed while rows arrive
#: (it compares every drawn column, so it is not redone on every update).
DRIFT_STATS_SECONDS = 5.0


class QualityHeader:
    """Computes the "drifted" and "watches" figures of one board's header."""

    def __init__(self, table: StreamTable) -> None:
        self._table = table
        self._lock = threading.Lock()
        self._drifted: _Computed | None = None

    def stats(self, kinds: Sequence[ChartKind], scope: Scope) -> list[Stat]:
        """Figures for the board's drift panel (if any) and the table's watches (if any)."""
        out = []
        panel = next((k for k in kinds if isinstance(k, Drift)), None)
        if panel is not None:
            out.append(self._drift_stat(panel, scope))
        watches = active_watches(self._table)
        if watches:
            firing = sum(w.firing for w in watches)
            out.append(
                Stat("watches", f"{len(watches)} active, {firing} firing", "bad" if firing else "")
            )
        return out

    def _drift_stat(self, panel: Drift, scope: Scope) -> Stat:
        # Recomputed when the panel or the scope changed, else when rows changed and
        # DRIFT_STATS_SECONDS passed.
        look = (id(panel), scope)
        with self._lock:
            now = time.monotonic()
            cached = self._drifted
            if cached is not None and cached.look == look:
                fresh = cached.version == self._table.version
                if fresh or now - cached.at < DRIFT_STATS_SECONDS:
                    return cached.stat
            stat = _drifted(self._table, panel, scope)
            self._drifted = _Computed(look, self._table.version, now, stat)
            return stat


@dataclass(frozen=True)
class _Computed:
    look: tuple[int, Scope]
    version: int
    at: float
    stat: Stat


def _drifted(table: StreamTable, panel: Drift, scope: Scope) -> Stat:
    """Columns of ``panel`` that drifted in the board's scope, after its reference window."""
    reference = and_all([panel.reference, scope.filter, panel.where]) or "TRUE"
    current = scope.where(panel.where, f"NOT coalesce(({panel.reference}), FALSE)")
    try:
        result = drift(table, reference, current, panel.columns)
    except ValueError:  # no rows after the reference yet
        return Stat("drifted", "–")
    n = int(result["drifted"].sum())
    return Stat("drifted", f"{n} of {len(result)} columns", "bad" if n else "")
