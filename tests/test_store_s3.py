"""Tables on S3-compatible object storage: round trips, many writers, tailing, outages."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from _s3 import S3Server, free_port
from _support import wait_for

import weave_nb as wnb
from weave_nb.store import StorageError


def test_round_trip_with_annotations_and_reopen(s3_root: str) -> None:
    with wnb.StreamTable("calls", root=s3_root, flush_interval=60) as table:
        table.log([{"_id": i, "latency_ms": i * 1.5, "status": "ok"} for i in range(50)])
        table.annotate(7, {"feedback": "👍"})
        table.flush()
        assert table.uri == f"{s3_root}/calls"
        assert table.path is None
    reader = wnb.open_table("calls", root=s3_root)
    frame = reader.to_pandas()
    assert frame["_id"].tolist() == list(range(50))
    assert frame.set_index("_id").loc[7, "feedback"] == "👍"
    assert reader.count("latency_ms > 30") == 29
    assert reader.window(0, 3, sort=[("latency_ms", "desc")])["_id"].to_pylist() == [49, 48, 47]
    reader.close()


def test_open_by_uri_and_storage_options(s3: S3Server, monkeypatch: pytest.MonkeyPatch) -> None:
    for key in s3.environment:
        monkeypatch.delenv(key, raising=False)
    options = dict(s3.environment)
    root = f"s3://{s3.new_bucket()}/x"
    with wnb.StreamTable("t", root=root, storage_options=options) as table:
        table.log({"a": 1})
    reader = wnb.open_table(f"{root}/t", storage_options=options)
    assert reader.to_arrow()["a"].to_pylist() == [1]
    reader.close()


def test_init_root_applies_to_monitor(s3_root: str) -> None:
    wnb.init(root=s3_root)
    try:

        @wnb.monitor("adder")
        def add(a: int, b: int) -> int:
            return a + b

        assert add(1, 2) == 3
        add.table.flush()
        assert add.table.uri == f"{s3_root}/adder"
        assert wnb.open_table("adder").to_arrow()["output"].to_pylist() == [3]
    finally:
        wnb.init()


_WRITER = """
    import sys, weave_nb as wnb
    root, worker, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    table = wnb.StreamTable("shared", root=root, flush_interval=0.1)
    for i in range(n):
        table.log({"worker": worker, "seq": i})
        if i % 50 == 0:
            table.flush()
    table.close()
"""


@pytest.mark.slow
def test_processes_append_concurrently_without_loss_or_duplicates(s3_root: str) -> None:
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", textwrap.dedent(_WRITER), s3_root, str(w), "300"],
            stderr=subprocess.PIPE,
            text=True,
        )
        for w in range(4)
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=180)
        assert proc.returncode == 0, err
    arrow = wnb.open_table("shared", root=s3_root).to_arrow()
    pairs = sorted(zip(arrow["worker"].to_pylist(), arrow["seq"].to_pylist(), strict=True))
    assert pairs == [(w, i) for w in range(4) for i in range(300)]
    assert len(set(arrow["_id"].to_pylist())) == 1200


def test_reader_tails_another_writer_within_two_seconds(s3_root: str) -> None:
    writer = wnb.StreamTable("tail", root=s3_root, flush_interval=0.2)
    writer.log({"i": 0})
    writer.flush()
    reader = wnb.open_table("tail", root=s3_root)
    seen: list[int] = []
    reader.subscribe(seen.append, interval=0.1)
    writer.log([{"i": i} for i in range(1, 10)])
    started = time.monotonic()
    wait_for(lambda: len(reader) == 10, timeout=10)
    assert time.monotonic() - started < 2.5
    wait_for(lambda: seen and seen[-1] == 10, timeout=5)
    writer.close()
    reader.close()


def test_missing_bucket_is_refused_at_construction(s3: S3Server, s3_root: str) -> None:
    with pytest.raises(StorageError, match="s3://no-such-bucket-here/t"):
        wnb.StreamTable("t", root="s3://no-such-bucket-here")


def test_unreachable_endpoint_is_refused_at_construction(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{free_port()}")
    monkeypatch.setenv("AWS_ALLOW_HTTP", "true")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "k")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "s")
    with pytest.raises(StorageError, match="s3://bucket/t"):
        wnb.StreamTable("t", root="s3://bucket")
    with pytest.raises(StorageError, match="s3://bucket/t"):
        wnb.open_table("s3://bucket/t")


def test_outage_keeps_rows_in_memory_and_writes_them_when_back(s3: S3Server, s3_root: str) -> None:
    table = wnb.StreamTable("outage", root=s3_root, flush_interval=3600)
    table.log({"i": 0})
    table.flush()
    s3.stop()
    try:
        table.log([{"i": i} for i in range(1, 5)])
        with pytest.raises(StorageError, match=f"{s3_root}/outage/rows"):
            table.flush()
        assert table.write_errors == 1
        with pytest.warns(UserWarning, match="showing the last version read"):
            assert len(table) == 5  # accepted rows stay visible in memory
    finally:
        s3.start()
    table.flush()
    table.close()
    assert wnb.open_table("outage", root=s3_root).to_arrow()["i"].to_pylist() == [0, 1, 2, 3, 4]


def test_compaction_on_s3_keeps_every_row_once(s3_root: str) -> None:
    table = wnb.StreamTable("c", root=s3_root, flush_interval=3600)
    for k in range(12):
        table.log([{"k": k}] * (1 + k % 3))
        table.flush()
    before = table.to_arrow()["k"].to_pylist()
    assert table.compact() >= 2
    reader = wnb.open_table("c", root=s3_root)
    assert reader.to_arrow()["k"].to_pylist() == before
    table.close()


def test_local_cache_holds_only_committed_remote_files(s3_root: str, tmp_path: Path) -> None:
    table = wnb.StreamTable("cache", root=s3_root, flush_interval=3600)
    for k in range(3):
        table.log({"k": k})
        table.flush()
    assert table.to_arrow()["k"].to_pylist() == [0, 1, 2]
    assert table.location is not None
    cached = {p.name for p in table.location.child("rows").cache_dir().glob("*.parquet")}
    assert len(cached) == 3
    table.compact()
    table.to_arrow()
    cached = {p.name for p in table.location.child("rows").cache_dir().glob("*.parquet")}
    assert len(cached) == 1
    table.close()


_KILLED = """
    import sys, time, weave_nb as wnb
    table = wnb.StreamTable("crash", root=sys.argv[1], flush_interval=0.3)
    i = 0
    while True:
        table.log({"seq": i, "wall": time.time()})
        i += 1
        if i == 200:
            table.flush()
            print("ready", flush=True)
        if i % 500 == 0:
            print(i, flush=True)
        time.sleep(0.0005)
"""


@pytest.mark.slow
def test_kill_9_of_an_s3_writer_keeps_a_prefix_and_the_table_opens(s3_root: str) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(_KILLED), s3_root],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "ready"
    while int(proc.stdout.readline()) < 3000:  # logging for a while, flushes in flight
        pass
    killed_at = time.time()
    proc.kill()
    proc.wait(timeout=10)
    arrow = wnb.open_table("crash", root=s3_root).to_arrow()
    seqs = arrow.column("seq").to_pylist()
    assert len(seqs) >= 200
    assert seqs == list(range(len(seqs)))  # a prefix: nothing in the middle missing
    # At most a flush interval plus one commit on the (slow, emulated) store was lost.
    assert killed_at - max(arrow.column("wall").to_pylist()) < 0.3 + 3.0
