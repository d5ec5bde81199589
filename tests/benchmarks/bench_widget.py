"""Benchmarks of the live table widget (issue 4), each beside a baseline from the same run.

Run: ``python tests/benchmarks/bench_widget.py [--rows 1000000]``

1. Bytes sent to the browser to display a 1M-row table (widget state with the
   bundled front-end, the display message and the first window), beside the
   table's Arrow size. Target: <= 200 KB.
2. ``log()`` throughput with a widget attached and subscribed (following the
   tail, so it pushes ticks and tail rows) vs. no widget. Target: ratio >= 0.8.
3. Kernel time to answer a 100-row window request at offset 900k of a 1M-row
   persisted table sorted by a numeric column, beside the store's ``window()``
   alone. Target: <= 150 ms.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import weave_nb as wnb
from weave_nb.widgets import TableWidget

Sent = list[tuple[dict[str, Any], list[bytes]]]


def capture(widget: TableWidget) -> Sent:
    sent: Sent = []
    widget.send = lambda content, buffers=None: sent.append((content, list(buffers or [])))  # type: ignore[method-assign]
    return sent


def message_bytes(content: Any, buffers: list[bytes]) -> int:
    return len(json.dumps(content, default=str).encode()) + sum(len(b) for b in buffers)


def make_table(root: Path, name: str, rows: int) -> wnb.StreamTable:
    t = wnb.StreamTable(name, root=root)
    batch = 20_000
    for start in range(0, rows, batch):
        t.log(
            [
                {
                    "latency_ms": ((i * 7919) % 100_003) / 10.0,
                    "status": "error" if i % 50 == 0 else "ok",
                    "model": f"model-{i % 4}",
                    "prompt": f"question number {i}",
                    "tokens": i % 4096,
                }
                for i in range(start, min(rows, start + batch))
            ]
        )
    t.flush()
    return t


def median_seconds(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def bench_display_bytes(t: wnb.StreamTable) -> None:
    widget = TableWidget(t)
    sent = capture(widget)
    try:
        state = widget.get_state()
        state_bytes = len(json.dumps(state).encode())
        display_bytes = len(json.dumps(widget._repr_mimebundle_()).encode())
        # What the browser asks first: the newest rows (it opens following the tail).
        widget._handle_custom_msg(
            {
                "type": "window",
                "request": 1,
                "offset": -100,
                "limit": 100,
                "sort": [],
                "filter": None,
            },
            [],
        )
        window_bytes = sum(message_bytes(c, b) for c, b in sent if c.get("request") == 1)
        total = state_bytes + display_bytes + window_bytes
        arrow_bytes = t.to_arrow().nbytes
        print(f"1. bytes to display a {len(t):,}-row table")
        print(f"   widget state (incl. {len(widget._esm):,} B front-end): {state_bytes:,} B")
        print(
            f"   display message: {display_bytes:,} B; first window (100 rows): {window_bytes:,} B"
        )
        print(f"   total sent: {total / 1024:,.1f} KB   (target <= 200 KB)")
        print(f"   baseline, the table's Arrow size: {arrow_bytes / 1024 / 1024:,.1f} MB")
    finally:
        widget.close()


def log_rate(root: Path, name: str, rows: int, with_widget: bool) -> float:
    t = wnb.StreamTable(name, root=root)
    widget = TableWidget(t) if with_widget else None
    if widget is not None:
        capture(widget)
    try:
        started = time.perf_counter()
        for i in range(rows):
            t.log({"step": i, "latency_ms": i % 1000 / 3, "status": "ok"})
        t.flush()
        return rows / (time.perf_counter() - started)
    finally:
        if widget is not None:
            widget.close()
        t.close()


def bench_log_throughput(root: Path, rows: int, repeat: int) -> None:
    rates: dict[bool, list[float]] = {False: [], True: []}
    for run in range(repeat):
        for with_widget in (False, True):  # interleaved so drift hits both alike
            name = f"log_{run}_{int(with_widget)}"
            rates[with_widget].append(log_rate(root, name, rows, with_widget))
    bare, attached = statistics.median(rates[False]), statistics.median(rates[True])
    print(f"2. log() throughput, {rows:,} rows one by one, median of {repeat}")
    print(f"   baseline, no widget: {bare:,.0f} rows/s")
    print(f"   widget attached and following: {attached:,.0f} rows/s")
    print(f"   ratio: {attached / bare:.2f}   (target >= 0.8)")


def bench_window_latency(t: wnb.StreamTable, repeat: int) -> None:
    offset = min(900_000, max(0, len(t) - 100))
    widget = TableWidget(t)
    sent = capture(widget)
    request = {
        "type": "window",
        "offset": offset,
        "limit": 100,
        "sort": [["latency_ms", "asc"]],
        "filter": None,
    }
    try:

        def answer() -> None:
            widget._handle_custom_msg({**request, "request": len(sent)}, [])
            assert sent[-1][0]["type"] == "rows", sent[-1][0]

        answer()  # first call opens the files; measured separately below
        first = sent[-1]
        kernel = median_seconds(answer, repeat)
        store = median_seconds(lambda: t.window(offset, 100, sort=[("latency_ms", "asc")]), repeat)
        print(
            f"3. window of 100 rows at offset {offset:,} sorted by latency_ms, median of {repeat}"
        )
        print(f"   baseline, store window() alone: {store * 1000:,.1f} ms")
        print(f"   widget request answered (query + Arrow IPC): {kernel * 1000:,.1f} ms")
        print(f"   reply size: {message_bytes(*first):,} B   (target <= 150 ms)")
    finally:
        widget.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows of the big table")
    parser.add_argument("--log-rows", type=int, default=200_000, help="rows per throughput run")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        started = time.perf_counter()
        make_table(root, "big", args.rows).close()
        print(
            f"(built a persisted {args.rows:,}-row table in {time.perf_counter() - started:.1f} s)"
        )
        big = wnb.open_table("big", root=root)  # as after a kernel restart: all on disk
        try:
            bench_display_bytes(big)
            bench_window_latency(big, args.repeat)
        finally:
            big.close()
        bench_log_throughput(root, args.log_rows, max(3, args.repeat // 2 + 1))


if __name__ == "__main__":
    main()
