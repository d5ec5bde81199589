"""Large flushes: each part converted while the previous one is encoded, into one file."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

import weave_nb as wnb
from weave_nb.store import _encoder, _stream
from weave_nb.store._encoder import Encoder

PART = 1_000


@pytest.fixture(autouse=True)
def _small_parts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_stream, "PART_ITEMS", PART)
    monkeypatch.setattr(_encoder, "ROW_GROUP_ROWS", 2 * PART)


def data_files(root: Path, name: str) -> list[Path]:
    return sorted((root / name / "rows").glob("*.parquet"))


def logged(root: Path | str, name: str, n: int) -> wnb.StreamTable:
    """A table holding ``n`` rows ``{"i": i}``, not flushed yet."""
    table = wnb.StreamTable(name, root=root, flush_interval=60)
    for i in range(n):
        table.log({"i": i})
    return table


def stored(root: Path | str, name: str, column: str = "i") -> list[Any]:
    """The committed values of ``column``, read back from storage."""
    return [r[column] for r in wnb.open_table(name, root=root).to_arrow().to_pylist()]


def test_a_large_flush_is_one_file_of_whole_row_groups(tmp_path: Path) -> None:
    table = wnb.StreamTable("big", root=tmp_path, flush_interval=60)
    for i in range(5 * PART + 17):
        table.log({"i": i, "s": f"row {i}"})
    table.flush()
    [file] = data_files(tmp_path, "big")
    metadata = pq.ParquetFile(file).metadata
    groups = [metadata.row_group(g).num_rows for g in range(metadata.num_row_groups)]
    assert groups == [2 * PART, 2 * PART, PART + 17]
    reopened = wnb.open_table("big", root=tmp_path)
    rows = reopened.to_arrow().to_pylist()
    assert [r["i"] for r in rows] == list(range(5 * PART + 17))
    assert len({r["_id"] for r in rows}) == len(rows)
    assert len(table) == len(reopened) == 5 * PART + 17
    table.close()


def test_rows_logged_during_a_large_flush_are_kept_in_order(tmp_path: Path) -> None:
    table = logged(tmp_path, "busy", 4 * PART)
    done = threading.Event()

    def keep_logging() -> None:
        for i in range(4 * PART, 8 * PART):
            table.log({"i": i})
        done.set()

    logger = threading.Thread(target=keep_logging)
    logger.start()
    table.flush()
    logger.join()
    assert done.is_set()
    table.flush()
    assert stored(tmp_path, "busy") == list(range(8 * PART))
    table.close()


def test_parts_of_other_columns_fall_back_to_one_file_per_schema(tmp_path: Path) -> None:
    table = wnb.StreamTable("evolving", root=tmp_path, flush_interval=60)
    for i in range(2 * PART):
        table.log({"a": i})
    for i in range(2 * PART):
        table.log({"a": i, "b": f"b{i}"})
    table.flush()
    assert stored(tmp_path, "evolving", "a") == list(range(2 * PART)) * 2
    assert stored(tmp_path, "evolving", "b") == [None] * (2 * PART) + [
        f"b{i}" for i in range(2 * PART)
    ]
    table.close()


def test_a_storage_failure_keeps_every_row_for_the_next_flush(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    table = logged(tmp_path, "flaky", 3 * PART)
    failures = iter([OSError("disk full")])
    original = Encoder.finish

    def finish(self: Encoder) -> int:
        size = original(self)
        error = next(failures, None)
        if error is not None:
            raise error
        return size

    monkeypatch.setattr(Encoder, "finish", finish)
    with pytest.raises(wnb.StorageError):
        table.flush()
    assert len(table) == 3 * PART
    table.flush()
    rows = wnb.open_table("flaky", root=tmp_path).to_arrow().to_pylist()
    assert [r["i"] for r in rows] == list(
        range(3 * PART)
    )  # once each: the file was never committed
    table.close()


def test_an_encoding_failure_falls_back_without_losing_or_doubling_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    table = logged(tmp_path, "fallback", 3 * PART)
    added: list[Any] = []

    def add(self: Encoder, part: Any) -> None:
        added.append(part)
        raise ValueError("a value no check caught")

    monkeypatch.setattr(Encoder, "add", add)
    table.flush()
    assert added  # the pipelined path was taken, and failed
    assert stored(tmp_path, "fallback") == list(range(3 * PART))
    table.close()


def test_a_large_flush_to_s3_is_one_object(s3_root: str) -> None:
    table = logged(s3_root, "big", 3 * PART)
    table.flush()
    assert stored(s3_root, "big") == list(range(3 * PART))
    assert len(wnb.open_table("big", root=s3_root)._rows.index.segments) == 1
    table.close()
