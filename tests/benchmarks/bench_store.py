"""Store benchmarks: log() throughput and windowed reads of a 10M-row table.

Run: ``python tests/benchmarks/bench_store.py`` (``--rows-10m N`` to shrink the
big table on a small machine; ``--only log`` or ``--only big`` for one half).
Prints medians of 3 runs, each beside a baseline measured in the same run,
because shared machines are noisy: compare ratios.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pyarrow as pa

import weave_nb as wnb
from weave_nb._accel import SPEEDUPS

ROWS = 500_000
BATCH = 10_000


def make_rows(n: int) -> list[dict[str, object]]:
    """Single 5-column rows: int, str, float, bool, str."""
    return [
        {"step": i, "text": f"hello {i}", "score": i * 0.5, "ok": i % 3 == 0, "tag": "a"}
        for i in range(n)
    ]


def baseline(rows: list[dict[str, object]], root: Path) -> tuple[float, float]:
    """list.append of the same dicts + RecordBatch.from_pylist per 10k rows, each batch
    written to an Arrow IPC file on the same disk; rows/s of wall and of CPU time."""
    path = root / f"baseline_{time.monotonic_ns()}.arrow"
    start, cpu = time.perf_counter(), time.process_time()
    buffer: list[dict[str, object]] = []
    writer: pa.ipc.RecordBatchFileWriter | None = None
    for i, row in enumerate(rows, 1):
        buffer.append(row)
        if len(buffer) == BATCH or i == len(rows):
            batch = pa.RecordBatch.from_pylist(buffer)
            if writer is None:
                writer = pa.ipc.new_file(path, batch.schema)
            writer.write_batch(batch)
            buffer = []
    if writer is not None:
        writer.close()
    elapsed, used = time.perf_counter() - start, time.process_time() - cpu
    path.unlink()
    return len(rows) / elapsed, len(rows) / used


def weave_log(rows: list[dict[str, object]], root: Path) -> tuple[float, ...]:
    """rows/s of the log() calls alone and of log() + flush() to disk, each of wall
    time and of CPU time (the calls: the calling thread's; with the flush: the
    process's, the flusher and Parquet encoding included)."""
    table = wnb.StreamTable(f"bench_{time.monotonic_ns()}", root=root)
    log = table.log
    start, cpu, own = time.perf_counter(), time.process_time(), time.thread_time()
    for row in rows:
        log(row)
    logged, logged_cpu = time.perf_counter() - start, time.thread_time() - own
    table.flush()
    total, total_cpu = time.perf_counter() - start, time.process_time() - cpu
    assert len(table) == len(rows)
    table.close()
    n = len(rows)
    return n / logged, n / total, n / logged_cpu, n / total_cpu


def bench_log(root: Path) -> None:
    rows = make_rows(ROWS)
    results = []
    for _ in range(3):
        base, base_cpu = baseline(rows, root)
        calls, end_to_end, calls_cpu, end_to_end_cpu = weave_log(rows, root)
        results.append((base, calls, end_to_end, base_cpu, calls_cpu, end_to_end_cpu))
    base, calls, e2e, base_cpu, calls_cpu, e2e_cpu = (
        statistics.median(r[i] for r in results) for i in range(6)
    )
    fast = "C (weave_nb._speedups)" if SPEEDUPS is not None else "pure Python"
    print(f"log() single 5-column rows, persisted, {ROWS:,} rows, median of 3; fast path: {fast}")
    print(f"  {'':<39}   {'wall rows/s':>12}              {'CPU rows/s':>12}")
    for label, rate, rate_cpu in (
        ("baseline append + from_pylist/10k + IPC", base, base_cpu),
        ("StreamTable.log() calls", calls, calls_cpu),
        ("StreamTable.log() + flush() to disk", e2e, e2e_cpu),
    ):
        print(
            f"  {label:<39}: {rate:>12,.0f}  ({rate / base:.2f}x baseline)"
            f"  {rate_cpu:>12,.0f}  ({rate_cpu / base_cpu:.2f}x)"
        )


_REOPEN = """
import os, sys, time, psutil, weave_nb as wnb
proc = psutil.Process()
before = proc.memory_info().rss
start = time.perf_counter()
t = wnb.open_table(sys.argv[1])
offset = len(t) - 100
w = t.window(offset, 100)
elapsed = time.perf_counter() - start
grown = proc.memory_info().rss - before
assert w.num_rows == 100, w.num_rows
s = time.perf_counter()
sorted_w = t.window(offset, 100, sort=[("score", "desc")])
first_sorted = time.perf_counter() - s
s = time.perf_counter()
sorted_w = t.window(offset - 100, 100, sort=[("score", "desc")])
next_sorted = time.perf_counter() - s
print(elapsed, first_sorted, next_sorted, grown, proc.memory_info().rss - before)
"""


def bench_window(root: Path, n: int) -> None:
    path = root / "big"
    table = wnb.StreamTable("big", root=root)
    chunk = make_rows(100_000)
    start = time.perf_counter()
    for _ in range(n // len(chunk)):
        for row in chunk:
            table.log(row)
    table.close()
    built = time.perf_counter() - start
    disk = sum(f.stat().st_size for f in path.rglob("*.parquet"))
    runs = []
    for _ in range(3):
        out = subprocess.run(
            [sys.executable, "-c", _REOPEN, str(path)], capture_output=True, text=True, check=True
        ).stdout.split()
        runs.append((float(out[0]), float(out[1]), float(out[2]), int(out[3]), int(out[4])))
    opened, first_sorted, next_sorted, rss, rss_sorted = (
        statistics.median(r[i] for r in runs) for i in range(5)
    )
    print(
        f"{n:,}-row persisted table (built in {built:.1f} s = {n / built:,.0f} rows/s sustained, "
        f"conversion and writing included; {disk / 1e6:.1f} MB on disk)"
    )
    label = f"reopen + window(offset={n - 100:,}, limit=100)"
    print(f"  {label}: {opened * 1000:8.1f} ms (target <= 1000)")
    print(f"  RSS growth after it: {rss / 1e6:.1f} MB = {rss / disk:.2f}x the table on disk")
    print(f"  then sorted by score: first {first_sorted * 1000:.1f} ms (reads the key column),")
    print(f"  next window {next_sorted * 1000:.1f} ms; RSS growth then {rss_sorted / 1e6:.1f} MB")


# Each figure on a freshly opened table (nothing cached: what a click on a header costs),
# then DuckDB's own query over the same files on a fresh connection.
_SORTED = """
import json, sys, time, duckdb, weave_nb as wnb
path, filter = sys.argv[1], sys.argv[2]

def ms(call):
    start = time.perf_counter()
    call()
    return (time.perf_counter() - start) * 1000

out = {}
for key in ("score", "ok", "tag"):
    t = wnb.open_table(path)
    n = len(t)
    out[f"first {key}"] = ms(lambda: t.window(0, 100, sort=[(key, "desc")]))
    out[f"next {key}"] = ms(lambda: t.window(100, 100, sort=[(key, "desc")]))
    out[f"deep {key}"] = ms(lambda: t.window(n // 2, 100, sort=[(key, "desc")]))
t = wnb.open_table(path)
out["count"] = ms(lambda: t.count(filter))
files = ", ".join(repr(str(s.path)) for s in t._rows.index.segments)
con = duckdb.connect()
con.execute("SET enable_progress_bar = false")
scan = f"SELECT * FROM read_parquet([{files}])"
for key in ("score", "ok", "tag"):
    out[f"duckdb first {key}"] = ms(
        lambda: con.sql(f"{scan} ORDER BY {key} DESC LIMIT 100").to_arrow_table()
    )
    out[f"duckdb deep {key}"] = ms(
        lambda: con.sql(f"{scan} ORDER BY {key} DESC LIMIT 100 OFFSET {n // 2}").to_arrow_table()
    )
out["duckdb count"] = ms(
    lambda: con.sql(f"SELECT count(*) FROM read_parquet([{files}]) WHERE {filter}").fetchall()
)
print(json.dumps(out))
"""

_KEYS = {"score": "score (float)", "ok": "ok (bool: 2 values)", "tag": "tag (text: 1 value)"}


def bench_sorted(root: Path, n: int) -> None:
    """First sorted windows and a filtered count vs DuckDB over the table's files."""
    path = root / "big"
    filter = "score > 1000 AND ok"
    runs = []
    for _ in range(3):
        out = subprocess.run(
            [sys.executable, "-c", _SORTED, str(path), filter],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        *other, last = out.strip().splitlines()
        if other:  # e.g. a warning: shown, not parsed
            print(*other, sep="\n", file=sys.stderr)
        runs.append(json.loads(last))
    med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
    print(
        f"{n:,}-row table, freshly opened, window(offset, 100, sort=[(key, 'desc')]) vs DuckDB "
        "read_parquet([files]) ORDER BY key DESC LIMIT 100 [OFFSET], medians of 3"
    )

    def line(label: str, ours: float, base: float) -> None:
        print(f"  {label:<44}: {ours:8.1f} ms vs {base:8.1f} ms  ({ours / base:.2f}x)")

    for key, label in _KEYS.items():
        line(f"first window, {label}", med[f"first {key}"], med[f"duckdb first {key}"])
        print(f"  {'  next window (offset 100), same sort':<44}: {med[f'next {key}']:8.1f} ms")
        line(f"  deep window (offset {n // 2:,})", med[f"deep {key}"], med[f"duckdb deep {key}"])
    line(f"count({filter!r})", med["count"], med["duckdb count"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows-10m", type=int, default=10_000_000, help="size of the big table")
    parser.add_argument("--only", choices=["log", "big"], help="run one half only")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        if args.only in (None, "log"):
            bench_log(Path(tmp))
        if args.only in (None, "big"):
            bench_window(Path(tmp), args.rows_10m)
            bench_sorted(Path(tmp), args.rows_10m)


if __name__ == "__main__":
    main()
