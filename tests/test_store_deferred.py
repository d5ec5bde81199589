"""StreamTable.log_deferred: rows built off the caller's thread (the @monitor hot path)."""

from __future__ import annotations

import datetime as dt
import threading
import time
from pathlib import Path

import numpy as np
import pytest

import weave_nb as wnb


def test_row_is_built_later_but_stamped_at_the_call(tmp_path: Path) -> None:
    table = wnb.StreamTable("deferred", root=tmp_path, flush_interval=60)
    built_in: list[str] = []

    def make_row() -> dict[str, object]:
        built_in.append(threading.current_thread().name)
        return {"x": 1, "inputs": {"a": 2}}

    before = dt.datetime.now(dt.timezone.utc)
    table.log_deferred(make_row)
    assert built_in == []  # nothing ran on the caller's path
    time.sleep(0.05)
    table.flush()
    (row,) = wnb.open_table("deferred", root=tmp_path).to_arrow().to_pylist()
    assert built_in == [threading.current_thread().name]  # built by the flush that needed it
    assert row["x"] == 1
    assert row["inputs"] == {"a": 2}
    assert before <= row["_timestamp"] < before + dt.timedelta(seconds=0.05)
    table.close()


def test_a_failing_builder_still_leaves_a_row(tmp_path: Path) -> None:
    table = wnb.StreamTable("deferred_error", root=tmp_path)
    table.log({"x": 1})
    table.log_deferred(lambda: {"bad": object()})
    with pytest.warns(RuntimeWarning, match="deferred row"):
        table.flush()
    rows = table.to_arrow().to_pylist()
    assert len(rows) == 2
    assert rows[0]["x"] == 1
    assert "TypeError" in rows[1]["_log_error"]
    assert "bad" in rows[1]["_log_error"]
    table.close()


def test_images_in_deferred_rows_are_encoded(tmp_path: Path) -> None:
    table = wnb.StreamTable("deferred_images", root=tmp_path)
    pixels = np.arange(12, dtype=np.uint8).reshape(2, 2, 3)
    table.log_deferred(lambda: {"inputs": {"image": wnb.Image(pixels)}})
    table.flush()
    (cell,) = table.to_pandas()["inputs"]
    image = wnb.Image.from_png(cell["image"]["png"])
    assert (image.to_numpy() == pixels).all()
    table.close()


def test_deferred_rows_on_a_read_only_table_are_refused(tmp_path: Path) -> None:
    wnb.StreamTable("deferred_ro", root=tmp_path).close()
    reader = wnb.open_table("deferred_ro", root=tmp_path)
    with pytest.raises(PermissionError, match="read-only"):
        reader.log_deferred(lambda: {"x": 1})
