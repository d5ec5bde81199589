"""Token and cost panels of a board over LLM calls (``@monitor`` rows or OpenTelemetry spans).

Seeded when the table has the columns :mod:`weave_nb.tracing` fills: tokens per
call and, with prices, cost per call, each over time and split by ``model``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from weave_nb.charts.timeseries import Mean

if TYPE_CHECKING:
    import pyarrow as pa

    from weave_nb.charts._kind import ChartKind

__all__ = ["token_panels"]


def token_panels(schema: pa.Schema) -> list[ChartKind]:
    """Tokens and cost per call over time, by model, for the columns ``schema`` has."""
    names = schema.names
    by_model = "model" if "model" in names else None
    panels: list[ChartKind] = []
    if "total_tokens" in names:
        panels.append(
            Mean(
                "total_tokens",
                group_by=by_model,
                title="Tokens per call",
                label="tokens",
                format=",d",
            )
        )
    if "cost_usd" in names:
        panels.append(
            Mean(
                "cost_usd",
                group_by=by_model,
                title="Cost per call (USD)",
                label="USD",
                format="$,.4~f",
            )
        )
    return panels
