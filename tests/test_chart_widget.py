"""The Chart widget: live updates, rate limit, errors, selection, export, shared runtime."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from _support import wait_for

from weave_nb.charts import Scope
from weave_nb.store import StreamTable
from weave_nb.widgets._runtime import VegaRuntime, vega_runtime
from weave_nb.widgets.chart import MAX_UPDATES_PER_SECOND, Chart


@pytest.fixture
def charts() -> Iterator[list[Chart]]:
    made: list[Chart] = []
    yield made
    for chart in made:
        chart.close()


def state_bytes(widget: Any) -> int:
    """Bytes of the widget's state as it travels in its comm_open message."""
    state = widget.get_state()
    return len(json.dumps(state, default=str).encode())


def test_chart_draws_the_table_and_follows_new_rows(
    table: StreamTable, charts: list[Chart]
) -> None:
    table.log([{"latency_ms": float(i)} for i in range(10)])
    chart = Chart(table, "latency")
    charts.append(chart)
    assert chart.error == ""
    assert {row["series"] for row in chart.data} == {"p50", "p95", "p99"}
    assert chart.spec["data"] == {"name": "data"}
    before = chart.data
    table.log({"latency_ms": 1000.0})
    wait_for(lambda: chart.data != before)
    assert max(row["value"] for row in chart.data if row["series"] == "p99") > 900


def test_updates_are_rate_limited_while_a_loop_logs(
    table: StreamTable, charts: list[Chart]
) -> None:
    table.log({"x": 0})
    chart = Chart(table, "volume")
    charts.append(chart)
    updates: list[float] = []
    chart.observe(lambda _change: updates.append(time.monotonic()), "data")
    stop = threading.Event()

    def log_forever() -> None:
        while not stop.is_set():
            table.log({"x": 1})
            time.sleep(0.001)

    logger = threading.Thread(target=log_forever)
    logger.start()
    try:
        wait_for(lambda: len(updates) >= 7, timeout=30)
    finally:
        stop.set()
        logger.join()
    # Pushes start at least 1/MAX apart, but each sets `data` after its query, whose
    # time varies under load: judge the spread of many updates, not single gaps.
    first, last = updates[0], updates[6]
    assert last - first >= 6 / MAX_UPDATES_PER_SECOND * 0.8, updates


def test_a_failing_query_is_shown_and_recovers(table: StreamTable, charts: list[Chart]) -> None:
    table.log({"x": 1})
    chart = Chart(table, "latency")
    charts.append(chart)
    assert "latency_ms" in chart.error
    assert chart.data == []
    table.log({"latency_ms": 5.0})
    wait_for(lambda: chart.error == "" and chart.data)


def test_scope_applies_and_refreshes(table: StreamTable, charts: list[Chart]) -> None:
    table.log([{"x": i} for i in range(10)])
    chart = Chart(table, "volume", live=False)
    charts.append(chart)
    chart.scope = Scope(filter="x < 3")
    assert sum(row["value"] for row in chart.data) == 3


def test_clicking_a_mark_sets_the_selection(table: StreamTable, charts: list[Chart]) -> None:
    table.log([{"status": "error"}, {"status": "success"}])
    chart = Chart(table, "error_rate", live=False)
    charts.append(chart)
    chart._handle_custom_msg({"type": "select", "datum": chart.data[0]}, [])
    assert chart.selection is not None
    assert table.count(chart.selection.filter) == 1
    chart._handle_custom_msg({"type": "select", "datum": None}, [])
    assert chart.selection is None


def test_bad_options_fail_at_construction(table: StreamTable) -> None:
    with pytest.raises(ValueError, match="unknown chart kind"):
        Chart(table, "pie")
    table.close()
    with pytest.raises(ValueError, match="closed table"):
        Chart(table, "volume")


def test_save_png_and_svg(table: StreamTable, charts: list[Chart], tmp_path: Path) -> None:
    table.log([{"latency_ms": float(i)} for i in range(20)])
    chart = Chart(table, "latency", live=False)
    charts.append(chart)
    png = chart.save(tmp_path / "latency.png")
    assert png.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    svg = chart.save(tmp_path / "latency.svg")
    text = svg.read_text()
    assert text.lstrip().startswith("<svg")
    assert "latency_ms percentiles" in text
    with pytest.raises(ValueError, match=r"\.png or \.svg"):
        chart.save(tmp_path / "latency.pdf")


def test_close_stops_following(table: StreamTable) -> None:
    table.log({"x": 1})
    chart = Chart(table, "volume")
    chart.close()
    before = chart.data
    table.log({"x": 2})
    time.sleep(1.0)
    assert chart.data == before
    assert not any(t.name == "weave_nb-ticker-calls" for t in threading.enumerate())


def test_charts_share_one_runtime_and_stay_small(table: StreamTable, charts: list[Chart]) -> None:
    table.log([{"latency_ms": float(i), "status": "success"} for i in range(100)])
    kinds = ["volume", "latency", "error_rate", ("histogram", "latency_ms"), ("mean", "latency_ms")]
    for kind in kinds:
        name, column = kind if isinstance(kind, tuple) else (kind, None)
        charts.append(Chart(table, name, **({"column": column} if column else {})))
    runtime = vega_runtime()
    assert all(chart.runtime is runtime for chart in charts)
    assert isinstance(runtime, VegaRuntime)
    runtime_bytes = state_bytes(runtime)
    chart_bytes = [state_bytes(chart) for chart in charts]
    assert runtime_bytes > 500_000  # the vega bundle travels here ...
    assert max(chart_bytes) < 40_000  # ... and not with any chart
    assert sum(chart_bytes) + runtime_bytes < 1.2 * runtime_bytes
    assert charts[0].get_state()["runtime"] == f"anywidget:{runtime.model_id}"


def test_runtime_is_recreated_after_it_was_closed() -> None:
    first = vega_runtime()
    assert vega_runtime() is first
    first.close()
    second = vega_runtime()
    assert second is not first
    assert second.comm is not None
