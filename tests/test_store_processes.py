"""Several writers, live tailing, subscriptions, crashes, exit and compaction."""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
import warnings
from pathlib import Path
from typing import Any

import pytest

import weave_nb as wnb
from weave_nb.store._writer import SegmentWriter


def _spawn(script: str, *args: Any) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(script), *map(str, args)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _finish(proc: subprocess.Popen[str], timeout: float = 120) -> str:
    out, err = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, err
    return out


def _wait_for(predicate: Any, timeout: float) -> float:
    """Seconds until ``predicate()`` held; fails after ``timeout``."""
    start = time.monotonic()
    while not predicate():
        if time.monotonic() - start > timeout:
            pytest.fail(f"condition not met within {timeout} s")
        time.sleep(0.02)
    return time.monotonic() - start


_WRITER = """
    import sys, weave_nb as wnb
    root, worker, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    table = wnb.StreamTable("shared", root=root, flush_interval=0.2)
    for i in range(n):
        table.log({"worker": worker, "seq": i, "text": f"w{worker}-{i}"})
    table.close()
"""


@pytest.mark.slow
def test_four_processes_append_without_loss_or_collision(tmp_path: Path) -> None:
    n = 50_000
    procs = [_spawn(_WRITER, tmp_path, w, n) for w in range(4)]
    for proc in procs:
        _finish(proc)
    table = wnb.open_table("shared", root=tmp_path)
    assert len(table) == 4 * n
    result = table.sql(
        "SELECT count(*) AS rows, count(DISTINCT _id) AS ids,"
        " count(DISTINCT _client_id) AS writers, count(DISTINCT (worker, seq)) AS pairs,"
        " min(seq) AS lo, max(seq) AS hi FROM t"
    ).to_pylist()[0]
    assert result == {
        "rows": 4 * n,
        "ids": 4 * n,
        "writers": 4,
        "pairs": 4 * n,
        "lo": 0,
        "hi": n - 1,
    }
    table.close()


def test_threads_append_without_loss_or_collision(tmp_path: Path) -> None:
    table = wnb.StreamTable("threads", root=tmp_path, flush_interval=0.05)
    n, workers = 5_000, 4

    def work(w: int) -> None:
        for i in range(n):
            if i % 100 == 0:
                table.log([{"w": w, "i": i, "nested": {"a": i}}])  # validated path
            else:
                table.log({"w": w, "i": i})  # fast path

    threads = [threading.Thread(target=work, args=(w,)) for w in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    table.close()
    reopened = wnb.open_table("threads", root=tmp_path)
    arrow = reopened.to_arrow()
    assert arrow.num_rows == n * workers
    assert len(set(arrow.column("_id").to_pylist())) == n * workers
    pairs = set(zip(arrow.column("w").to_pylist(), arrow.column("i").to_pylist(), strict=True))
    assert pairs == {(w, i) for w in range(workers) for i in range(n)}


_TAIL_WRITER = """
    import sys, time, weave_nb as wnb
    table = wnb.StreamTable("tail", root=sys.argv[1], flush_interval=0.1)
    for step in range(int(sys.argv[2])):
        sys.stdin.readline()
        table.log([{"step": step, "k": k} for k in range(10)])
        print(time.time(), flush=True)
    table.close()
"""


@pytest.mark.slow
def test_reader_tails_other_process_and_subscribers_fire(tmp_path: Path) -> None:
    with wnb.StreamTable("tail", root=tmp_path) as bootstrap:
        bootstrap.log({"step": -1, "k": 0})
    reader = wnb.open_table("tail", root=tmp_path)
    assert len(reader) == 1
    calls: list[tuple[int, str, float]] = []

    def on_change(total: int) -> None:
        calls.append((total, threading.current_thread().name, time.monotonic()))

    unsubscribe = reader.subscribe(on_change, interval=0.3)
    steps = 3
    proc = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(_TAIL_WRITER), str(tmp_path), str(steps)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdin is not None
    assert proc.stdout is not None
    lags = []
    for step in range(steps):
        proc.stdin.write("go\n")
        proc.stdin.flush()
        proc.stdout.readline()  # logged (not yet flushed)
        expected = 1 + 10 * (step + 1)
        lags.append(_wait_for(lambda e=expected: len(reader) == e, timeout=10))
        assert reader.window(0, 100).num_rows == expected
        assert reader.count(f"step = {step}") == 10
        _wait_for(lambda e=expected: bool(calls) and calls[-1][0] == e, timeout=5)
    _finish(proc)  # closes the writer's stdin: it exits
    # writer flushes every 0.1 s, reader rescans at least every 0.2 s: well under 1 s each
    assert sorted(lags)[len(lags) // 2] < 1.0, lags
    assert all(name != threading.main_thread().name for _, name, _ in calls)
    totals = [total for total, _, _ in calls]
    assert totals == sorted(totals)
    gaps = [b - a for (_, _, a), (_, _, b) in itertools.pairwise(calls)]
    assert all(gap >= 0.75 * 0.3 for gap in gaps), gaps  # throttled to the interval (+ jitter)
    unsubscribe()
    reader.close()


def test_subscribe_is_rate_bounded_and_reports_counts(tmp_path: Path) -> None:
    table = wnb.StreamTable("subs", root=tmp_path, flush_interval=0.1)
    seen: list[tuple[int, float]] = []
    unsubscribe = table.subscribe(lambda n: seen.append((n, time.monotonic())), interval=0.2)
    start = time.monotonic()
    while time.monotonic() - start < 1.2:
        table.log({"x": 1})
        time.sleep(0.001)
    total = len(table)
    _wait_for(lambda: bool(seen) and seen[-1][0] == total, timeout=5)
    elapsed = time.monotonic() - start
    assert 2 <= len(seen) <= elapsed / 0.2 + 2
    assert all(b[1] - a[1] >= 0.75 * 0.2 for a, b in itertools.pairwise(seen))
    calls = len(seen)
    time.sleep(0.5)
    assert len(seen) == calls  # no change, no call
    table.annotate(table.window(0, 1).column("_id")[0].as_py(), {"label": "x"})
    _wait_for(lambda: len(seen) == calls + 1, timeout=5)  # annotations count as changes
    unsubscribe()
    table.log({"x": 2})
    time.sleep(0.5)
    assert len(seen) == calls + 1
    table.close()


def test_subscriber_errors_become_warnings(tmp_path: Path) -> None:
    table = wnb.StreamTable("subserr", root=tmp_path)
    good: list[int] = []

    def bad(total: int) -> None:
        raise RuntimeError("callback broke")

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        table.subscribe(bad, interval=0.05)
        table.subscribe(good.append, interval=0.05)
        table.log({"x": 1})
        _wait_for(lambda: good == [1], timeout=5)
        _wait_for(lambda: any("callback broke" in str(w.message) for w in caught), timeout=5)
    table.close()
    with pytest.raises(TypeError):
        table.subscribe(42)  # type: ignore[arg-type]


_KILLED = """
    import sys, time, weave_nb as wnb
    table = wnb.StreamTable("crash", root=sys.argv[1], flush_interval=float(sys.argv[2]))
    i = 0
    while True:
        table.log({"seq": i, "wall": time.time(), "pad": "x" * 50})
        i += 1
        if i == 200:
            table.flush()
            print("ready", flush=True)
        time.sleep(0.0005)
"""


@pytest.mark.slow
def test_kill_9_loses_at_most_the_last_flush_interval(tmp_path: Path) -> None:
    interval = 0.3
    proc = _spawn(_KILLED, tmp_path, interval)
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "ready"
    time.sleep(1.5)
    killed_at = time.time()
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a clean kill leaves no torn file to warn about
        table = wnb.open_table("crash", root=tmp_path)
        arrow = table.to_arrow()
    seqs = arrow.column("seq").to_pylist()
    assert seqs == list(range(len(seqs)))  # a prefix: nothing in the middle missing
    newest = max(arrow.column("wall").to_pylist())
    # lost at most one flush interval (+ scheduling slack on a busy machine)
    assert killed_at - newest < interval + 1.0, killed_at - newest
    assert not [
        p
        for p in (tmp_path / "crash" / "rows").iterdir()
        if p.name.endswith(".parquet") and p.stat().st_size == 0
    ]
    table.close()


def test_torn_segment_is_skipped_with_a_warning(tmp_path: Path) -> None:
    with wnb.StreamTable("torn", root=tmp_path, flush_interval=60) as table:
        table.log([{"i": i} for i in range(100)])
        table.flush()
        table.log([{"i": i} for i in range(100, 200)])
    rows_dir = tmp_path / "torn" / "rows"
    files = sorted(rows_dir.glob("*.parquet"))
    assert len(files) == 2
    data = files[-1].read_bytes()
    files[-1].write_bytes(data[: len(data) // 2])  # storage damaged a committed file
    # Files no commit names (a crashed writer's, a foreign one) are never read.
    (rows_dir / "0000000000000001-deadbeef-00000000-00000000.parquet").write_bytes(b"")
    (rows_dir / "0000000000000002-deadbeef-00000000-00000009.parquet").write_bytes(data)
    (rows_dir / ".half-written.parquet.1234.tmp").write_bytes(b"PAR1")
    with pytest.warns(RuntimeWarning, match="skipping unreadable data file"):
        reader = wnb.open_table("torn", root=tmp_path)
    assert len(reader) == 100
    assert reader.to_arrow().column("i").to_pylist() == list(range(100))
    assert reader.count("i >= 50") == 50
    assert reader.window(90, 20, sort=[("i", "desc")]).num_rows == 10
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # warned once per file, not on every refresh
        reader.refresh()
        assert len(reader) == 100
    reader.close()


_EXITS = """
    import sys, weave_nb as wnb
    table = wnb.StreamTable("exit", root=sys.argv[1], flush_interval=3600)
    for i in range(5000):
        table.log({"i": i})
    table.log([{"i": 5000, "nested": {"a": [1, 2]}}])
    table.annotate(5000, {"label": "last"})
    other = wnb.StreamTable("exit2", root=sys.argv[1], flush_interval=3600)
    other.log({"i": 0})
    # no flush(), no close(): atexit must write everything
"""


@pytest.mark.slow
def test_clean_exit_without_flush_loses_nothing(tmp_path: Path) -> None:
    _finish(_spawn(_EXITS, tmp_path))
    table = wnb.open_table("exit", root=tmp_path)
    arrow = table.to_arrow()
    assert arrow.column("i").to_pylist() == list(range(5001))
    assert arrow.column("nested")[5000].as_py() == {"a": [1, 2]}
    assert table.annotations().num_rows == 1
    assert len(wnb.open_table("exit2", root=tmp_path)) == 1


_COMPACTING = """
    import sys, weave_nb as wnb
    table = wnb.StreamTable("compact", root=sys.argv[1], flush_interval=3600)
    for flush in range(int(sys.argv[2])):
        table.log([{"flush": flush, "k": k, "text": "row"} for k in range(50)])
        table.flush()
    table.close()
    print("done", flush=True)
"""

_READING = """
    import sys, time, weave_nb as wnb
    table = wnb.open_table("compact", root=sys.argv[1])
    last, reads = 0, 0
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        n = len(table)
        assert n >= last, (n, last)
        last = n
        arrow = table.to_arrow()
        ids = arrow.column("_id").to_pylist()
        assert len(ids) == len(set(ids)), "duplicate rows"
        assert table.count() >= arrow.num_rows >= n  # later snapshots only grow
        if arrow.num_rows:
            table.window(max(arrow.num_rows - 30, 0), 30, sort=[("k", "desc")])
        reads += 1
        if n == int(sys.argv[2]):
            break
        time.sleep(0.01)
    print(reads, last, flush=True)
"""


@pytest.mark.slow
def test_compaction_keeps_every_row_while_another_process_reads(tmp_path: Path) -> None:
    flushes = 60
    with wnb.StreamTable("compact", root=tmp_path) as seed:
        seed.log({"flush": -1, "k": 0, "text": "seed"})
    expected = 1 + flushes * 50
    reader = _spawn(_READING, tmp_path, expected)
    writer = _spawn(_COMPACTING, tmp_path, flushes)
    assert _finish(writer).strip() == "done"
    reads, seen = map(int, _finish(reader).split())
    assert seen == expected
    assert reads > 1
    files = _committed(tmp_path / "compact" / "rows")
    assert len(files) <= 2 * 8, files  # < 8 per size tier
    arrow = wnb.open_table("compact", root=tmp_path).to_arrow()
    pairs = list(zip(arrow.column("flush").to_pylist(), arrow.column("k").to_pylist(), strict=True))
    assert pairs == [(-1, 0)] + [(f, k) for f in range(flushes) for k in range(50)]
    assert len(set(arrow.column("_id").to_pylist())) == expected


def _committed(stream: Path) -> list[str]:
    """Data files the Delta log names now (compacted sources stay on disk until vacuum)."""
    from deltalake import DeltaTable

    return sorted(DeltaTable(str(stream)).file_uris())


def test_compaction_rewrites_each_row_a_few_times_not_once_per_merge(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rewritten: list[int] = []
    compact = SegmentWriter.compact

    def counting(self: SegmentWriter, run: list[Any]) -> Any:
        rewritten.append(sum(s.num_rows for s in run))
        return compact(self, run)

    monkeypatch.setattr(SegmentWriter, "compact", counting)
    flushes = 600
    with wnb.StreamTable("tiers", root=tmp_path, flush_interval=3600) as table:
        for flush in range(flushes):
            table.log({"flush": flush})
            table.flush()
    # Size tiers of 4x: each row is merged about log4(600) ~ 4.6 times at most.
    # Merging the trailing files every 8 flushes would rewrite ~ 600**2 / 16 rows.
    assert 0 < sum(rewritten) <= 5 * flushes
    assert len(_committed(tmp_path / "tiers" / "rows")) <= 8 * 4  # fewer than 8 per tier
    arrow = wnb.open_table("tiers", root=tmp_path).to_arrow()
    assert arrow.column("flush").to_pylist() == list(range(flushes))


def test_compaction_merges_files_whose_types_conflict(tmp_path: Path) -> None:
    with wnb.StreamTable("conflicts", root=tmp_path, flush_interval=60) as table:
        for i in range(30):  # alternating types: struct values go to the companion column
            table.log({"v": "text" if i % 2 else {"a": i}, "i": i})
            table.flush()
    assert len(_committed(tmp_path / "conflicts" / "rows")) < 30
    arrow = wnb.open_table("conflicts", root=tmp_path).to_arrow()
    assert arrow.column("i").to_pylist() == list(range(30))
    values = arrow.column("v").to_pylist()
    assert values[1] == "text"
    assert values[28] == '{"a": 28}'


def test_compaction_keeps_up_when_flush_sizes_vary(tmp_path: Path) -> None:
    with wnb.StreamTable("varying", root=tmp_path, flush_interval=3600) as table:
        for k in range(300):  # 1, 2, 1, 2... rows: sizes straddle any fixed tier boundary
            table.log([{"i": k}] * (1 + k % 2))
            table.flush()
        for k in range(40):  # 480-540 rows
            table.log([{"i": 1000 + k}] * (480 + 60 * (k % 2)))
            table.flush()
    assert len(_committed(tmp_path / "varying" / "rows")) <= 24
    assert len(wnb.open_table("varying", root=tmp_path)) == 450 + 20 * 480 + 20 * 540
