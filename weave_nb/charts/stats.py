"""Header statistics of a monitor board: calls, error rate, latency percentiles, feedback."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from weave_nb.charts._sql import quote_ident

if TYPE_CHECKING:
    from weave_nb.charts._kind import Scope
    from weave_nb.store import StreamTable

__all__ = ["Stat", "monitor_stats"]


@dataclass(frozen=True)
class Stat:
    """One figure in a board's header: a label, its formatted value, and a tone for colour."""

    label: str
    value: str
    tone: str = ""


def monitor_stats(
    table: StreamTable, scope: Scope, *, thumbs: str | None = None, error_alert: float = 0.05
) -> list[Stat]:
    """Calls, error rate, p50/p95 latency and thumbs counts of an ``@monitor`` table, one query.

    ``thumbs`` is the annotation field holding ``"up"``/``"down"`` feedback; the counts are
    left out until that column exists. The error rate is toned "bad" above ``error_alert``.
    """
    names = table.schema.names
    status, latency = quote_ident("status"), quote_ident("latency_ms")
    parts = [
        "count(*)",
        f"avg(CASE WHEN {status} = 'error' THEN 1.0 ELSE 0.0 END)",
        f"quantile_cont({latency}, 0.5)",
        f"quantile_cont({latency}, 0.95)",
    ]
    with_thumbs = thumbs is not None and thumbs in names
    if with_thumbs:
        field = quote_ident(thumbs or "")
        parts += [
            f"count(*) FILTER (WHERE {field} = 'up')",
            f"count(*) FILTER (WHERE {field} = 'down')",
        ]
    where = scope.where() or "TRUE"
    values = list(
        table.sql(f"SELECT {', '.join(parts)} FROM t WHERE {where}").to_pylist()[0].values()
    )
    calls, error_rate, p50, p95 = values[:4]
    stats = [
        Stat("calls", f"{calls:,}"),
        Stat(
            "error rate",
            _percent(error_rate),
            "bad" if error_rate is not None and error_rate > error_alert else "",
        ),
        Stat("p50 latency", _ms(p50)),
        Stat("p95 latency", _ms(p95)),
    ]
    if with_thumbs:
        stats.append(Stat("feedback", f"👍 {values[4]:,}  👎 {values[5]:,}"))
    return stats


def _percent(value: float | None) -> str:
    return "–" if value is None else f"{value:.1%}"


def _ms(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value / 1000:.2f} s" if value >= 1000 else f"{value:.0f} ms"
