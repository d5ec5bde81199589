"""Boards over LLM calls: token and cost panels by model, total cost in the header."""

from __future__ import annotations

import datetime as dt

from weave_nb.charts._kind import Scope
from weave_nb.charts.seed import seed_panels
from weave_nb.charts.stats import monitor_stats
from weave_nb.store import StreamTable


def llm_rows(table: StreamTable, with_cost: bool) -> None:
    start = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    table.log(
        [
            {
                "name": "llm",
                "inputs": {"prompt": "p"},
                "output": "o",
                "status": "success",
                "latency_ms": 10.0,
                "start_time": start,
                "model": "gpt-4o" if i % 2 else "claude-3",
                "input_tokens": 100,
                "output_tokens": 20,
                "total_tokens": 120,
                **({"cost_usd": 0.5} if with_cost else {}),
            }
            for i in range(6)
        ]
    )
    table.flush()


def test_token_and_cost_panels_by_model_and_total_cost(table: StreamTable) -> None:
    llm_rows(table, with_cost=True)
    panels = seed_panels(table)
    titles = [p.title for p in panels]
    assert "Tokens per call" in titles
    assert "Cost per call (USD)" in titles
    tokens = panels[titles.index("Tokens per call")]
    data = tokens.data(table, Scope())
    assert set(data.column("group").to_pylist()) == {"gpt-4o", "claude-3"}
    stats = {s.label: s.value for s in monitor_stats(table, Scope())}
    assert stats["total cost"] == "$3.00"


def test_without_cost_only_tokens_and_no_cost_stat(table: StreamTable) -> None:
    llm_rows(table, with_cost=False)
    titles = [p.title for p in seed_panels(table)]
    assert "Tokens per call" in titles
    assert "Cost per call (USD)" not in titles
    assert "total cost" not in {s.label for s in monitor_stats(table, Scope())}
