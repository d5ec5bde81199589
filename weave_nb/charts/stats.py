"""Header statistics of a monitor board: calls, error rate, latency percentiles, cost, feedback."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from weave_nb.monitor.schema import ERROR, LATENCY_MS, STATUS
from weave_nb.query import literal, quote_ident

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
    table: StreamTable,
    scope: Scope,
    *,
    thumbs: str | None = None,
    labels: Mapping[str, Sequence[str]] | None = None,
    error_alert: float = 0.05,
) -> list[Stat]:
    """Calls, error rate, p50/p95 latency and feedback counts of an ``@monitor`` table, one query.

    ``thumbs`` is the annotation field holding ``"up"``/``"down"`` feedback, ``labels`` maps
    label fields to their choices; the counts of a field are left out until that column
    exists. The error rate is toned "bad" above ``error_alert``.
    """
    names = table.schema.names
    status, latency = quote_ident(STATUS), quote_ident(LATENCY_MS)
    parts = [
        "count(*)",
        f"avg(CASE WHEN {status} = {literal(ERROR)} THEN 1.0 ELSE 0.0 END)",
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
    with_cost = "cost_usd" in names  # LLM calls with prices (weave_nb.tracing)
    if with_cost:
        parts.append(f"sum({quote_ident('cost_usd')})")
    counted = {name: list(choices) for name, choices in (labels or {}).items() if name in names}
    for name, choices in counted.items():
        field = quote_ident(name)
        parts += [f"count(*) FILTER (WHERE {field} = {literal(c)})" for c in choices]
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
    rest = values[4:]
    if with_cost:
        stats.append(Stat("total cost", _usd(rest[0])))
        rest = rest[1:]
    if with_thumbs:
        stats.append(Stat("feedback", f"👍 {rest[0]:,}  👎 {rest[1]:,}"))
        rest = rest[2:]
    for name, choices in counted.items():
        counts = rest[: len(choices)]
        rest = rest[len(choices) :]
        text = "  ".join(f"{choice} {n:,}" for choice, n in zip(choices, counts, strict=True))
        stats.append(Stat(name, text))
    return stats


def _usd(value: float | None) -> str:
    if value is None:
        return "–"
    return f"${value:,.2f}" if value >= 1 else f"${value:.4f}"


def _percent(value: float | None) -> str:
    return "–" if value is None else f"{value:.1%}"


def _ms(value: float | None) -> str:
    if value is None:
        return "–"
    if value >= 1000:
        return f"{value / 1000:.2f} s"
    # Fast models answer in well under a millisecond: "0 ms" would hide it.
    return f"{value:.0f} ms" if value >= 10 else f"{value:.2g} ms"
