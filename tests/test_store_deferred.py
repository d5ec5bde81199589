"""StreamTable.deferred_writer: rows built off the caller's thread (the @monitor hot path)."""

from __future__ import annotations

import datetime as dt
import gc
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

import weave_nb as wnb
from weave_nb.store import intake_of


def test_rows_are_built_later_in_batches_but_stamped_at_the_call(tmp_path: Path) -> None:
    table = wnb.StreamTable("deferred", root=tmp_path, flush_interval=60)
    batches: list[tuple[str, list[Any]]] = []

    def build(payloads: list[tuple[int, int]]) -> dict[str, Any]:
        batches.append((threading.current_thread().name, payloads))
        return {
            "x": [x for x, _ in payloads],
            "inputs": [{"a": a} for _, a in payloads],
            "doubled": pa.array([2 * x for x, _ in payloads]),
        }

    write = table.deferred_writer(build)
    before = dt.datetime.now(dt.timezone.utc)
    write((1, 10))
    write((2, 20))
    assert batches == []  # nothing ran on the caller's path
    time.sleep(0.05)
    table.flush()
    rows = wnb.open_table("deferred", root=tmp_path).to_arrow().to_pylist()
    assert batches == [(threading.current_thread().name, [(1, 10), (2, 20)])]  # one batch
    assert [(r["x"], r["inputs"], r["doubled"]) for r in rows] == [
        (1, {"a": 10}, 2),
        (2, {"a": 20}, 4),
    ]
    assert len({r["_id"] for r in rows}) == 2
    for row in rows:
        assert before <= row["_timestamp"] < before + dt.timedelta(seconds=0.05)
    table.close()


def test_deferred_and_logged_rows_keep_their_order(tmp_path: Path) -> None:
    table = wnb.StreamTable("deferred_order", root=tmp_path, flush_interval=60)
    write = table.deferred_writer(
        lambda payloads: {"step": list(payloads), "kind": ["call"] * len(payloads)}
    )
    write(0)
    table.log({"step": 1, "kind": "log"})
    write(2)
    write(3)
    table.log({"step": 4, "kind": "log"})
    table.flush()
    rows = table.to_arrow().to_pylist()
    assert [(r["step"], r["kind"]) for r in rows] == [
        (0, "call"),
        (1, "log"),
        (2, "call"),
        (3, "call"),
        (4, "log"),
    ]
    stamps = [r["_timestamp"] for r in rows]
    assert stamps == sorted(stamps)
    table.close()


def test_a_failing_builder_still_leaves_its_rows(tmp_path: Path) -> None:
    table = wnb.StreamTable("deferred_error", root=tmp_path)
    table.log({"x": 1})

    def build(payloads: list[Any]) -> dict[str, Any]:
        raise KeyError("bad")

    write = table.deferred_writer(build)
    write(1)
    write(2)
    with pytest.warns(RuntimeWarning, match="2 deferred rows could not be built"):
        table.flush()
    rows = table.to_arrow().to_pylist()
    assert len(rows) == 3
    assert rows[0]["x"] == 1
    assert [r["_log_error"] for r in rows[1:]] == ["KeyError: 'bad'"] * 2
    table.close()


def test_columns_of_the_wrong_length_are_reported_as_a_failure(tmp_path: Path) -> None:
    table = wnb.StreamTable("deferred_length", root=tmp_path)
    write = table.deferred_writer(lambda payloads: {"x": [1]})
    write(1)
    write(2)
    with pytest.warns(RuntimeWarning, match="other lengths than 2"):
        table.flush()
    assert len(table) == 2
    table.close()


def test_images_in_deferred_rows_are_encoded(tmp_path: Path) -> None:
    table = wnb.StreamTable("deferred_images", root=tmp_path)
    pixels = np.arange(12, dtype=np.uint8).reshape(2, 2, 3)
    write = table.deferred_writer(
        lambda payloads: {"inputs": [{"image": wnb.Image(pixels)} for _ in payloads]}
    )
    write(None)
    table.flush()
    (cell,) = table.to_pandas()["inputs"]
    image = wnb.Image.from_png(cell["image"]["png"])
    assert (image.to_numpy() == pixels).all()
    table.close()


def test_deferred_rows_on_a_read_only_or_closed_table_are_refused(tmp_path: Path) -> None:
    table = wnb.StreamTable("deferred_ro", root=tmp_path)
    write = table.deferred_writer(lambda payloads: {"x": list(payloads)})
    table.close()
    with pytest.raises(ValueError, match="closed"):
        write(1)
    reader = wnb.open_table("deferred_ro", root=tmp_path)
    with pytest.raises(PermissionError, match="read-only"):
        reader.deferred_writer(lambda payloads: {})


def test_an_intake_takes_items_like_its_writer_until_the_table_closes(tmp_path: Path) -> None:
    table = wnb.StreamTable("intake", root=tmp_path)
    write = table.deferred_writer(lambda payloads: {"x": list(payloads)})
    intake = intake_of(write)
    assert intake.limit > 0
    assert intake_of(print).limit == -1  # any other callable: never room, so it is called
    write(1)
    stamp = time.time_ns()
    intake.pending.append((stamp, intake.kind, 2))
    table.flush()
    got = table.to_arrow().sort_by("x")
    assert got["x"].to_pylist() == [1, 2]
    assert got["_timestamp"][1].value == stamp // 1000
    table.close()
    assert intake.limit == -1  # a hot path checking len(pending) <= limit stops appending
    with pytest.raises(ValueError, match="closed"):
        write(3)


def test_waiting_rows_are_not_tracked_by_the_garbage_collector(tmp_path: Path) -> None:
    # Tracked waiting rows would make every full collection scan them all.
    table = wnb.StreamTable("untracked", root=tmp_path, flush_interval=60)
    write = table.deferred_writer(lambda payloads: {"x": [p[0] for p in payloads]})
    gc.collect()
    before = len(gc.get_objects())
    for i in range(1000):
        table.log({"x": i, "text": "t", "score": 0.5})
        write((i, "a", (1, 2.5)))
    gc.collect()
    assert len(gc.get_objects()) - before < 200  # not one per row
    table.flush()
    assert len(table) == 2000
    table.close()
