"""``t.trace()`` on a 1,000-span trace inside a 1M-row table, beside full-scan baselines.

Run: ``python tests/benchmarks/bench_trace.py [--rows N] [--rounds R]``.

The table holds ``N`` monitor-like rows: one trace of 1,000 spans (a root,
111 steps, 8 tool calls each) among traces of 10 spans. Timed (medians of
``R`` runs, same process, same table):
  count(trace)       ``SELECT count(*) ... WHERE trace_id = ?`` — the filter alone
  t.trace()          the trace's rows in tree order with depth, as a DataFrame
  outline            what the table widget reads to open the trace (6 columns, cached after)
  to_pandas()        the whole table as a DataFrame — what a trace view must never do
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import tempfile
import time
from collections.abc import Callable
from typing import Any

from weave_nb.store import StreamTable
from weave_nb.tracing import trace_rows
from weave_nb.widgets._trace import OUTLINE_COLUMNS

START = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)


def row(span: str, trace: str, parent: str | None, i: int) -> dict[str, Any]:
    return {
        "_id": span,
        "name": "step",
        "inputs": {"i": i},
        "output": i,
        "status": "success",
        "start_time": START + dt.timedelta(microseconds=i),
        "latency_ms": 1.0,
        "trace_id": trace,
        "parent_id": parent,
    }


def build(table: StreamTable, rows: int) -> None:
    big = [row("root", "BIG", None, 0)]
    for s in range(111):  # 1 + 111 * (1 + 8) = 1,000 spans
        big.append(row(f"s{s}", "BIG", "root", 1 + s * 9))
        big += [row(f"s{s}.{k}", "BIG", f"s{s}", 2 + s * 9 + k) for k in range(8)]
    table.log(big)
    batch: list[dict[str, Any]] = []
    for i in range(rows - len(big)):
        trace = f"t{i // 10}"
        batch.append(row(f"r{i}", trace, None if i % 10 == 0 else f"r{i - i % 10}", i))
        if len(batch) == 50_000:
            table.log(batch)
            batch = []
    if batch:
        table.log(batch)
    table.flush()


def median_s(fn: Callable[[], Any], rounds: int) -> float:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as root:
        table = StreamTable("bench_trace", root=root)
        start = time.perf_counter()
        build(table, options.rows)
        print(f"built {len(table):,} rows in {time.perf_counter() - start:.1f} s")
        frame = table.trace("BIG")
        assert len(frame) == 1000
        assert frame["depth"].max() == 2
        timings = {
            "count(trace)": lambda: table.sql("SELECT count(*) FROM t WHERE trace_id = 'BIG'"),
            "t.trace()": lambda: table.trace("BIG"),
            "outline": lambda: trace_rows(table, "BIG", OUTLINE_COLUMNS),
            "to_pandas()": table.to_pandas,
        }
        print(f"{'query':<14} {'ms':>9}")
        for name, fn in timings.items():
            print(f"{name:<14} {median_s(fn, options.rounds) * 1e3:9.1f}")
        table.close()


if __name__ == "__main__":
    main()
