"""The segment files are an open format: other tools read them without weave_nb."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

import weave_nb as wnb

T0 = dt.datetime(2024, 6, 1, tzinfo=dt.timezone.utc)


def _rows(start: int, n: int) -> list[dict[str, Any]]:
    return [
        {
            "_id": f"row-{i}",
            "step": i,
            "score": i / 4,
            "label": ["cat", "dog", None][i % 3],
            "ok": i % 2 == 0,
            "when": T0 + dt.timedelta(seconds=i),
            "meta": {"model": f"m{i % 2}", "tokens": i * 10},
            "tags": ["a"] * (i % 3),
        }
        for i in range(start, start + n)
    ]


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict[str, Any]]]:
    """A table written in several segments by two writers."""
    root = tmp_path_factory.mktemp("interop")
    rows = _rows(0, 300)
    with wnb.StreamTable("open", root=root, flush_interval=60) as first:
        first.log(rows[:100])
        first.flush()
        first.log(rows[100:200])
    with wnb.StreamTable("open", root=root) as second:
        second.log(rows[200:])
    assert len(list((root / "open" / "rows").glob("*.parquet"))) == 3
    return root / "open" / "rows", rows


def _by_step(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(records, key=lambda r: r["step"])


def _check(records: list[dict[str, Any]], rows: list[dict[str, Any]]) -> None:
    got = _by_step(records)
    assert len(got) == len(rows)
    for have, want in zip(got, rows, strict=True):
        assert have["_id"] == want["_id"]
        assert have["step"] == want["step"]
        assert have["score"] == want["score"]
        assert have["label"] == want["label"]
        assert have["ok"] == want["ok"]
        assert pd.Timestamp(have["when"]) == pd.Timestamp(want["when"])
        assert dict(have["meta"]) == want["meta"]
        assert list(have["tags"]) == want["tags"]
        assert "_timestamp" in have
        assert "_client_id" in have


def test_duckdb_read_parquet(written: tuple[Path, list[dict[str, Any]]]) -> None:
    directory, rows = written
    con = duckdb.connect()
    relation = con.sql(f"SELECT * FROM read_parquet('{directory}/*.parquet', union_by_name = true)")
    table = relation.to_arrow_table()
    assert table.num_rows == len(rows)
    _check(table.to_pylist(), rows)
    summary = con.sql(
        f"SELECT count(*), sum(step), count(DISTINCT _client_id), "
        f"sum(meta.tokens) FROM read_parquet('{directory}/*.parquet')"
    ).fetchall()
    assert summary[0] == (300, sum(range(300)), 2, sum(i * 10 for i in range(300)))


def test_pyarrow_dataset(written: tuple[Path, list[dict[str, Any]]]) -> None:
    directory, rows = written
    dataset = ds.dataset(directory, format="parquet")
    table = dataset.to_table()
    assert table.num_rows == len(rows)
    assert table.schema.field("_timestamp").type == pa.timestamp("us", tz="UTC")
    _check(table.to_pylist(), rows)
    filtered = dataset.to_table(filter=ds.field("step") >= 250, columns=["step"])
    assert sorted(filtered.column("step").to_pylist()) == list(range(250, 300))


def test_pandas_read_parquet(written: tuple[Path, list[dict[str, Any]]]) -> None:
    directory, rows = written
    frame = pd.read_parquet(directory)
    assert len(frame) == len(rows)
    frame = frame.sort_values("step")
    assert frame["step"].tolist() == list(range(300))
    assert frame["score"].tolist() == [r["score"] for r in rows]
    assert frame["_id"].tolist() == [r["_id"] for r in rows]
    assert [m["tokens"] for m in frame["meta"]] == [r["meta"]["tokens"] for r in rows]
    assert [list(t) for t in frame["tags"]] == [r["tags"] for r in rows]


def test_polars(written: tuple[Path, list[dict[str, Any]]]) -> None:
    directory, rows = written
    frame = pl.read_parquet(directory / "*.parquet")
    assert frame.height == len(rows)
    _check(frame.to_dicts(), rows)
    lazy = pl.scan_parquet(directory / "*.parquet").filter(pl.col("ok")).select(pl.len())
    assert lazy.collect().item() == sum(r["ok"] for r in rows)


def test_merged_view_matches_raw_files(written: tuple[Path, list[dict[str, Any]]]) -> None:
    directory, rows = written
    view = wnb.open_table(directory.parent).to_arrow()
    raw = ds.dataset(directory, format="parquet").to_table()
    assert sorted(view.column("_id").to_pylist()) == sorted(raw.column("_id").to_pylist())
    _check(view.to_pylist(), rows)


def test_images_and_evolving_schema_read_by_duckdb_and_pyarrow(tmp_path: Path) -> None:
    pixels = (np.arange(48) * 5 % 256).astype(np.uint8).reshape(4, 4, 3)
    with wnb.StreamTable("mixed", root=tmp_path, flush_interval=60) as table:
        table.log({"step": 1, "img": wnb.Image(pixels)})
        table.flush()
        table.log({"step": 2, "extra": "new column", "score": 1.5})
        table.flush()
        table.log({"step": 3, "score": 2})
    directory = tmp_path / "mixed" / "rows"
    raw = duckdb.execute(
        f"SELECT step, img, extra, score FROM read_parquet('{directory}/*.parquet', "
        "union_by_name = true) ORDER BY step"
    ).fetchall()
    assert [r[0] for r in raw] == [1, 2, 3]
    assert [r[2] for r in raw] == [None, "new column", None]
    assert [r[3] for r in raw] == [None, 1.5, 2.0]
    png = raw[0][1]["png"]
    assert wnb.Image.from_png(png).to_numpy().tolist() == pixels.tolist()
    assert (raw[0][1]["width"], raw[0][1]["height"]) == (4, 4)

    schema = pa.unify_schemas(
        [pq.read_schema(p) for p in sorted(directory.glob("*.parquet"))],
        promote_options="permissive",
    )
    table = ds.dataset(directory, format="parquet", schema=schema).to_table()
    assert sorted(table.column("step").to_pylist()) == [1, 2, 3]
    assert wnb.store.is_image_type(table.schema.field("img").type)


def test_annotation_files_are_readable_too(tmp_path: Path) -> None:
    with wnb.StreamTable("ann", root=tmp_path) as table:
        table.log({"_id": "a", "v": 1})
        table.annotate("a", {"label": "good"})
    files = tmp_path / "ann" / "annotations" / "*.parquet"
    history = duckdb.execute(
        f"SELECT _target_id, _fields, label FROM read_parquet('{files}')"
    ).fetchall()
    assert history == [("a", ["label"], "good")]
