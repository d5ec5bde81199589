"""Benchmarks of live charts (issue 5), each beside a baseline from the same run.

Run: ``python tests/benchmarks/bench_chart.py [--rows 1000000] [--repeat 7]``

1. Chart update cost in the kernel for a persisted table of 1M monitor-like rows spread
   over a day. An update is what a live chart does after rows arrived (here 1,000 rows,
   logged before the timer starts): the chart kind's aggregation through the store plus
   building the message to the browser (the JSON of the changed traits). Updates
   re-aggregate only the newest time bucket (``weave_nb.charts._incremental``); the
   full aggregate, which a chart runs when it is created, when its filter or date range
   changes, after feedback, and at least every 10 s, is printed too. Medians, beside the
   same aggregation with a pandas ``groupby`` on a DataFrame already in memory (its load
   is not timed, which favours the baseline). Target: <= 100 ms per update.
2. Bytes sent to the browser to show a board of 5 charts (the widgets' states, as their
   comm_open messages carry them), beside what the same board would send if every chart
   carried its own copy of the vega runtime, as an anywidget bundling vega would.
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import json
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd

import weave_nb as wnb
from weave_nb.charts import ChartKind, Counts, ErrorRate, Histogram, Latency, Scope, Volume
from weave_nb.widgets._runtime import vega_runtime
from weave_nb.widgets.board import Board, PanelSpec
from weave_nb.widgets.chart import Chart

TARGET_MS = 100.0
DAY = dt.timedelta(days=1)


START = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)


def rows_at(first: int, count: int, step: dt.timedelta) -> list[dict[str, object]]:
    """Monitor-like rows number ``first`` to ``first + count``, ``step`` apart."""
    return [
        {
            "_timestamp": START + i * step,
            "latency_ms": ((i * 7919) % 100_003) / 100.0,
            "status": "error" if i % 50 == 0 else "success",
            "model_version": f"v{i % 3}",
        }
        for i in range(first, first + count)
    ]


def make_table(root: Path, rows: int) -> wnb.StreamTable:
    table = wnb.StreamTable("bench_chart", root=root)
    batch = 50_000
    for first in range(0, rows, batch):
        table.log(rows_at(first, min(batch, rows - first), DAY / rows))
    table.flush()
    return table


def median_ms(
    fn: Callable[[], object], repeat: int, before: Callable[[], object] | None = None
) -> float:
    """Median wall time of ``fn`` in ms; ``before`` runs untimed ahead of each call."""
    times = []
    for _ in range(repeat + 1):  # the first call warms caches and is not counted
        if before is not None:
            before()
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times[1:])


def chart_update(chart: Chart) -> Callable[[], int]:
    """A chart's update: refresh, then the message its changed traits make."""

    def update() -> int:
        chart.refresh()
        message = json.dumps({"spec": chart.spec, "data": chart.data, "error": chart.error})
        return len(message)

    return update


def new_rows(table: wnb.StreamTable, step: dt.timedelta) -> Callable[[], None]:
    """Log the next 1,000 rows of the series (what a live chart is updated for)."""

    def log() -> None:
        table.log(rows_at(len(table), 1_000, step))

    return log


def pandas_baselines(df: pd.DataFrame) -> dict[str, Callable[[], object]]:
    """The same aggregations in pandas: 30-minute buckets (what the chart picks for a day)."""
    by_bucket = df.groupby(pd.Grouper(key="_timestamp", freq="30min"))
    return {
        "volume": lambda: by_bucket.size(),
        "latency": lambda: by_bucket["latency_ms"].quantile(pd.Index([0.5, 0.95, 0.99])),
        "error_rate": lambda: by_bucket["status"].agg(lambda s: (s == "error").mean()),
        "volume by model_version": lambda: df.groupby(
            [pd.Grouper(key="_timestamp", freq="30min"), "model_version"]
        ).size(),
    }


def render_new(kind: Callable[[], ChartKind], table: wnb.StreamTable) -> object:
    """Render a new chart of ``kind``: nothing cached, as after creating it or a new filter."""
    return kind().render(table, Scope())


def state_bytes(widget: object) -> int:
    """Bytes of a widget's state as its comm_open message carries it."""
    return len(json.dumps(widget.get_state(), default=str).encode())  # type: ignore[attr-defined]


def board_bytes(table: wnb.StreamTable) -> None:
    """Print the bytes a board of five charts and the table widget sends to the browser."""
    panels: list[PanelSpec] = [
        "volume",
        "latency",
        "error_rate",
        Histogram("latency_ms"),
        Counts("status"),
    ]
    board = Board(table, panels=panels)
    runtime = state_bytes(vega_runtime())
    charts = [state_bytes(chart) for chart in board.panels]
    rest = state_bytes(board) + state_bytes(board.table_widget)
    shared = runtime + sum(charts) + rest
    per_chart = len(charts) * runtime + sum(charts) + rest
    print(f"\nbytes to show a board of {len(charts)} charts and the table")
    print(f"  vega runtime widget (once per kernel) {runtime / 1024:>9.1f} KB")
    print(f"  charts (spec + data + view module)    {sum(charts) / 1024:>9.1f} KB")
    print(f"  board + table widget                  {rest / 1024:>9.1f} KB")
    print(f"  total, shared runtime                 {shared / 1024:>9.1f} KB")
    print(f"  baseline, a runtime in every chart    {per_chart / 1024:>9.1f} KB")
    board.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        table = make_table(Path(tmp), args.rows)
        print(f"{len(table):,} rows logged and flushed in {time.perf_counter() - started:.1f} s")
        df = table.to_pandas()[["_timestamp", "latency_ms", "status", "model_version"]]
        kinds: dict[str, Callable[[], ChartKind]] = {
            "volume": Volume,
            "latency": Latency,
            "error_rate": ErrorRate,
            "volume by model_version": lambda: Volume(group_by="model_version"),
        }
        baselines = pandas_baselines(df)
        step = DAY / args.rows
        print(f"\nchart update, median of {args.repeat} (target <= {TARGET_MS:.0f} ms)")
        print(f"{'kind':<26}{'points':>8}{'message':>10}{'update':>11}{'full':>11}{'pandas':>11}")
        worst = 0.0
        for name, kind in kinds.items():
            chart = Chart(table, kind(), live=False)
            update = chart_update(chart)
            size = update()
            ms = median_ms(update, args.repeat, before=new_rows(table, step))
            full = median_ms(functools.partial(render_new, kind, table), args.repeat)
            base = median_ms(baselines[name], args.repeat)
            worst = max(worst, ms)
            print(
                f"{name:<26}{len(chart.data):>8}{size / 1024:>8.1f}KB"
                f"{ms:>9.1f}ms{full:>9.1f}ms{base:>9.1f}ms"
            )
            chart.close()
        verdict = "OK" if worst <= TARGET_MS else "OVER TARGET"
        print(f"\nslowest update {worst:.1f} ms: {verdict}")
        board_bytes(table)
        table.close()


if __name__ == "__main__":
    main()
