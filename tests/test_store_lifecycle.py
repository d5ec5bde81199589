"""Processes that fork, get SIGTERM/SIGINT, or log faster than the disk: no row lost."""

from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import weave_nb as wnb


def _child_logs(worker: int, n: int) -> None:
    for table in _inherited():
        for i in range(n):
            table.log({"who": f"child{worker}", "i": i})


def _inherited() -> list[wnb.StreamTable]:
    from weave_nb.store._lifecycle import open_tables

    return [t for t in open_tables() if t.name == "forked" and not t.read_only]


@pytest.mark.slow
def test_forked_workers_keep_logging_without_loss(tmp_path: Path) -> None:
    root = str(tmp_path)
    table = wnb.StreamTable("forked", root=root, flush_interval=0.2)
    table.log([{"who": "parent", "i": i} for i in range(100)])
    table.flush()  # delta-rs has run in the parent: a forked child must not touch it
    table.log([{"who": "parent", "i": i} for i in range(100, 150)])  # unflushed at fork
    context = multiprocessing.get_context("fork")
    workers = [context.Process(target=_child_logs, args=(w, 200)) for w in range(3)]
    for worker in workers:
        worker.start()
    table.log([{"who": "parent", "i": i} for i in range(150, 200)])
    for worker in workers:
        worker.join(120)
        assert worker.exitcode == 0
    table.close()
    arrow = wnb.open_table("forked", root=root).to_arrow()
    pairs = sorted(zip(arrow["who"].to_pylist(), arrow["i"].to_pylist(), strict=True))
    expected = [("parent", i) for i in range(200)]
    expected += [(f"child{w}", i) for w in range(3) for i in range(200)]
    assert pairs == sorted(expected)
    assert len(set(arrow["_id"].to_pylist())) == arrow.num_rows
    assert len(set(arrow["_client_id"].to_pylist())) == 4


_FORKING_SERVER = """
    import os, sys, weave_nb as wnb
    table = wnb.StreamTable("prefork", root=sys.argv[1], flush_interval=3600)
    table.log({"who": "master"})
    table.flush()
    children = []
    for w in range(2):
        pid = os.fork()
        if pid == 0:  # a gunicorn-style worker: logs, then exits normally
            for i in range(50):
                table.log({"who": f"worker{w}", "i": i})
            sys.exit(0)
        children.append(pid)
    for pid in children:
        assert os.waitpid(pid, 0)[1] == 0
"""


@pytest.mark.slow
def test_preforked_workers_flush_at_exit(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(_FORKING_SERVER), str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Forked process detected" not in proc.stderr
    who = wnb.open_table("prefork", root=tmp_path).to_arrow()["who"].to_pylist()
    assert sorted(set(who)) == ["master", "worker0", "worker1"]
    assert len(who) == 101


_SIGNALLED = """
    import signal, sys, time, weave_nb as wnb
    if sys.argv[2] == "chained":
        signal.signal(signal.SIGTERM, lambda s, f: (print("app handler", flush=True), sys.exit(3)))
    table = wnb.StreamTable("sig", root=sys.argv[1], flush_interval=3600)
    for i in range(1000):
        table.log({"i": i})
    print("ready", flush=True)
    time.sleep(60)
"""


@pytest.mark.slow
@pytest.mark.parametrize(
    ("mode", "signum", "code"),
    [
        ("default", signal.SIGTERM, -signal.SIGTERM),
        ("chained", signal.SIGTERM, 3),
        ("default", signal.SIGINT, -signal.SIGINT),  # KeyboardInterrupt, as without weave_nb
    ],
    ids=["sigterm", "sigterm-app-handler", "sigint"],
)
def test_signals_flush_then_keep_their_effect(
    tmp_path: Path, mode: str, signum: int, code: int
) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(_SIGNALLED), str(tmp_path), mode],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "ready"
    proc.send_signal(signum)
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == code
    if mode == "chained":
        assert "app handler" in out
    assert wnb.open_table("sig", root=tmp_path).to_arrow()["i"].to_pylist() == list(range(1000))


def test_backpressure_bounds_the_backlog(tmp_path: Path) -> None:
    table = wnb.StreamTable("fast", root=tmp_path, flush_interval=0.2)
    table._backlog_limit = 5_000  # as if the flusher had measured a slow disk
    table.log({"i": -1, "s": "x"})
    peak = 0
    for i in range(60_000):
        table.log({"i": i, "s": "x"})
        if i % 500 == 0:
            peak = max(peak, len(table._pending))
    assert peak <= table._backlog_limit + 1
    table.close()
    assert len(wnb.open_table("fast", root=tmp_path)) == 60_001


_TIGHT_LOOP = """
    import sys, time, weave_nb as wnb
    table = wnb.StreamTable("loop", root=sys.argv[1], flush_interval=0.5)
    i, start = 0, time.monotonic()
    while True:
        table.log({"i": i, "s": "payload"})
        i += 1
        if i % 20000 == 0:
            print(i, time.monotonic() - start, flush=True)
"""


@pytest.mark.slow
def test_kill_9_under_load_loses_about_one_flush_interval(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(_TIGHT_LOOP), str(tmp_path)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    accepted, seconds = 0, 0.0
    while seconds < 4:
        accepted_text, seconds_text = proc.stdout.readline().split()
        accepted, seconds = int(accepted_text), float(seconds_text)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(30)
    stored = len(wnb.open_table("loop", root=tmp_path))
    rate = accepted / seconds
    lost_seconds = (accepted - stored) / rate
    # The backlog limit is one flush interval of the flusher's rate; what is being
    # committed at the kill adds at most one more.
    assert stored > 0
    assert lost_seconds < 4 * 0.5, f"lost {accepted - stored} rows = {lost_seconds:.2f} s"
