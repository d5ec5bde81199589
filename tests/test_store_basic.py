"""StreamTable basics: log, flush, reopen, automatic columns, roots, names, lifecycle."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest

import weave_nb as wnb


@pytest.fixture(autouse=True)
def _reset_root() -> Iterator[None]:
    yield
    wnb.init()


def test_log_flush_reopen_keeps_rows_and_types(tmp_path: Path) -> None:
    with wnb.StreamTable("basic", root=tmp_path) as table:
        table.log({"step": 1, "text": "hi", "score": 0.5, "ok": True})
        table.log([{"step": 2, "text": "yo", "score": 1.5, "ok": False}, {"step": 3}])
        table.flush()
        assert len(table) == 3
    reopened = wnb.open_table("basic", root=tmp_path)
    arrow = reopened.to_arrow()
    assert arrow.num_rows == 3
    assert arrow.column("step").to_pylist() == [1, 2, 3]
    assert arrow.column("text").to_pylist() == ["hi", "yo", None]
    assert arrow.column("score").to_pylist() == [0.5, 1.5, None]
    assert arrow.column("ok").to_pylist() == [True, False, None]
    assert arrow.schema.field("step").type == pa.int64()
    assert arrow.schema.field("text").type == pa.string()
    assert arrow.schema.field("score").type == pa.float64()
    assert arrow.schema.field("ok").type == pa.bool_()
    assert reopened.schema == arrow.schema
    reopened.close()


def test_len_counts_unflushed_rows(tmp_path: Path) -> None:
    table = wnb.StreamTable("pending", root=tmp_path, flush_interval=60)
    for i in range(10):
        table.log({"i": i})
    assert len(table) == 10
    assert table.to_arrow().column("i").to_pylist() == list(range(10))
    assert not list((tmp_path / "pending" / "rows").glob("*.parquet"))
    table.flush()
    assert len(list((tmp_path / "pending" / "rows").glob("*.parquet"))) == 1
    table.close()


def test_automatic_columns(tmp_path: Path) -> None:
    before = dt.datetime.now(dt.timezone.utc)
    with wnb.StreamTable("auto", root=tmp_path) as table:
        table.log({"x": 1})
        table.log({"_id": "mine", "x": 2})
        table.log({"x": 3})
        after = dt.datetime.now(dt.timezone.utc)
        arrow = table.to_arrow()
        client = table.client_id
    assert arrow.column_names[:3] == ["_id", "_timestamp", "_client_id"]
    assert arrow.schema.field("_timestamp").type == pa.timestamp("us", tz="UTC")
    ids = arrow.column("_id").to_pylist()
    assert ids[1] == "mine"
    assert len(set(ids)) == 3
    assert all(isinstance(i, str) and i for i in ids)
    stamps = arrow.column("_timestamp").to_pylist()
    assert stamps == sorted(stamps)
    assert all(before - dt.timedelta(milliseconds=1) <= s <= after for s in stamps)
    assert set(arrow.column("_client_id").to_pylist()) == {client}


def test_timestamp_is_taken_at_log_not_flush(tmp_path: Path) -> None:
    with wnb.StreamTable("stamp", root=tmp_path, flush_interval=60) as table:
        table.log({"x": 1})
        logged = dt.datetime.now(dt.timezone.utc)
        import time

        time.sleep(0.3)
        table.flush()
        stamp = table.to_arrow().column("_timestamp")[0].as_py()
    assert stamp <= logged


def test_generated_ids_differ_between_writers(tmp_path: Path) -> None:
    ids = []
    for _ in range(2):
        with wnb.StreamTable("ids", root=tmp_path) as table:
            table.log([{"x": i} for i in range(5)])
    ids = wnb.open_table("ids", root=tmp_path).to_arrow().column("_id").to_pylist()
    assert len(ids) == 10
    assert len(set(ids)) == 10
    assert len(set(wnb.open_table("ids", root=tmp_path).to_arrow()["_client_id"].to_pylist())) == 2


def test_client_id_cannot_be_logged(tmp_path: Path) -> None:
    with wnb.StreamTable("cid", root=tmp_path) as table:
        with pytest.raises(ValueError, match="_client_id"):
            table.log({"_client_id": "x"})
        assert len(table) == 0


def test_user_timestamp_backfill(tmp_path: Path) -> None:
    when = dt.datetime(2024, 5, 1, 12, 0, tzinfo=dt.timezone.utc)
    with wnb.StreamTable("backfill", root=tmp_path) as table:
        table.log({"_timestamp": when, "x": 1})
        table.log({"_timestamp": dt.datetime(2024, 5, 1, 13, 0), "x": 2})  # naive = UTC
        with pytest.raises(TypeError, match="_timestamp"):
            table.log({"_timestamp": "yesterday"})
        stamps = table.to_arrow().column("_timestamp").to_pylist()
    assert stamps == [when, when + dt.timedelta(hours=1)]


def test_to_pandas(tmp_path: Path) -> None:
    with wnb.StreamTable("pd", root=tmp_path) as table:
        table.log([{"a": 1, "b": "x"}, {"a": 2, "b": None}])
        frame = table.to_pandas()
    assert isinstance(frame, pd.DataFrame)
    assert list(frame.columns) == ["_id", "_timestamp", "_client_id", "a", "b"]
    assert frame["a"].tolist() == [1, 2]
    assert frame["b"].tolist()[0] == "x"
    assert pd.isna(frame["b"].tolist()[1])
    assert str(frame["_timestamp"].dt.tz) == "UTC"


def test_empty_table(tmp_path: Path) -> None:
    with wnb.StreamTable("empty", root=tmp_path) as table:
        assert len(table) == 0
        arrow = table.to_arrow()
        assert arrow.num_rows == 0
        assert arrow.column_names == ["_id", "_timestamp", "_client_id"]
        assert table.window(0, 10).num_rows == 0
        assert table.count() == 0
        assert table.annotations().num_rows == 0


@pytest.mark.parametrize(
    "name", ["", "..", "a/b", "/abs", "a\\b", "a..b", ".hidden", "x" * 201, 5, None]
)
def test_invalid_names_raise(tmp_path: Path, name: object) -> None:
    with pytest.raises(ValueError, match="table name"):
        wnb.StreamTable(name, root=tmp_path)  # type: ignore[arg-type]
    assert not any(tmp_path.iterdir())


@pytest.mark.parametrize("name", ["plain", "with-dash", "with_underscore", "v1.2", "Mixed09"])
def test_valid_names(tmp_path: Path, name: str) -> None:
    with wnb.StreamTable(name, root=tmp_path) as table:
        table.log({"x": 1})
    assert (tmp_path / name).is_dir()
    assert wnb.open_table(name, root=tmp_path).to_arrow().num_rows == 1


def test_init_sets_default_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WEAVE_NB_ROOT", raising=False)
    assert wnb.init(tmp_path / "a") == str(tmp_path / "a")
    with wnb.StreamTable("t1") as table:
        table.log({"x": 1})
        assert table.path == tmp_path / "a" / "t1"
    assert list((tmp_path / "a" / "t1" / "rows").glob("*.parquet"))
    assert (tmp_path / "a" / "t1" / "rows" / "_delta_log").is_dir()
    assert wnb.open_table("t1").to_arrow().num_rows == 1


def test_env_root_and_fallback(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("WEAVE_NB_ROOT", raising=False)
    wnb.init()
    with wnb.StreamTable("fallback") as table:
        table.log({"x": 1})
    assert (tmp_path / "weave_nb_data" / "fallback" / "rows").is_dir()

    monkeypatch.setenv("WEAVE_NB_ROOT", str(tmp_path / "env"))
    with wnb.StreamTable("from_env") as table:
        table.log({"x": 1})
    assert (tmp_path / "env" / "from_env" / "rows").is_dir()

    wnb.init(tmp_path / "explicit")  # init() beats the environment
    with wnb.StreamTable("from_init") as table:
        table.log({"x": 1})
    assert (tmp_path / "explicit" / "from_init").is_dir()
    wnb.init()
    assert wnb.open_table("from_env").to_arrow().num_rows == 1


def test_persist_false_writes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("WEAVE_NB_ROOT", raising=False)
    with wnb.StreamTable("scratch", persist=False) as table:
        assert table.path is None
        table.log([{"x": i, "s": str(i)} for i in range(100)])
        table.flush()
        assert len(table) == 100
        assert table.window(95, 10).column("x").to_pylist() == [95, 96, 97, 98, 99]
        assert table.count("x >= 50") == 50
        table.annotate(table.to_arrow()["_id"][0].as_py(), {"label": "ok"})
        assert table.to_arrow().column("label")[0].as_py() == "ok"
    assert list(tmp_path.iterdir()) == []


def test_open_table_read_only(tmp_path: Path) -> None:
    with wnb.StreamTable("ro", root=tmp_path) as table:
        table.log({"x": 1})
    reader = wnb.open_table("ro", root=tmp_path)
    assert reader.read_only
    assert reader.name == "ro"
    with pytest.raises(PermissionError, match="read-only"):
        reader.log({"x": 2})
    with pytest.raises(PermissionError):
        reader.annotate("any", {"label": "x"})
    assert len(reader) == 1
    files = sorted(p.name for p in (tmp_path / "ro").rglob("*"))
    reader.close()
    assert sorted(p.name for p in (tmp_path / "ro").rglob("*")) == files


def test_open_table_by_path_and_read_write(tmp_path: Path) -> None:
    with wnb.StreamTable("rw", root=tmp_path) as table:
        table.log({"x": 1})
    writer = wnb.open_table(tmp_path / "rw", read_only=False)
    assert not writer.read_only
    writer.log({"x": 2})
    writer.close()
    assert wnb.open_table(tmp_path / "rw").to_arrow().column("x").to_pylist() == [1, 2]


def test_open_missing_table_raises(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="nope"):
        wnb.open_table("nope", root=tmp_path)
    with pytest.raises(ValueError, match="table name"):
        wnb.open_table("../escape", root=tmp_path)


def test_close_is_idempotent_and_final(tmp_path: Path) -> None:
    table = wnb.StreamTable("closing", root=tmp_path, flush_interval=60)
    table.log({"x": 1})
    table.close()
    assert table.closed
    table.close()
    with pytest.raises(ValueError, match="closed"):
        table.log({"x": 2})
    with pytest.raises(ValueError, match="closed"):
        table.to_arrow()
    assert "closed" in repr(table)
    assert wnb.open_table("closing", root=tmp_path).to_arrow().num_rows == 1


def test_context_manager_flushes_on_error(tmp_path: Path) -> None:
    table = wnb.StreamTable("ctx", root=tmp_path, flush_interval=60)

    def fail_inside() -> None:
        with table as t:
            t.log({"x": 1})
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        fail_inside()
    assert table.closed
    assert wnb.open_table("ctx", root=tmp_path).to_arrow().num_rows == 1


def test_background_flush_within_interval(tmp_path: Path) -> None:
    import time

    table = wnb.StreamTable("bg", root=tmp_path, flush_interval=0.1)
    table.log({"x": 1})
    deadline = time.monotonic() + 5
    rows_dir = tmp_path / "bg" / "rows"
    while time.monotonic() < deadline and not list(rows_dir.glob("*.parquet")):
        time.sleep(0.02)
    assert list(rows_dir.glob("*.parquet"))
    table.close()


def test_flush_interval_must_be_positive(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="flush_interval"):
        wnb.StreamTable("bad", root=tmp_path, flush_interval=0)


def test_version_grows_on_rows_and_annotations(tmp_path: Path) -> None:
    with wnb.StreamTable("ver", root=tmp_path) as table:
        v0 = table.version
        table.log({"x": 1})
        v1 = table.version
        assert v1 > v0
        table.annotate(table.to_arrow()["_id"][0].as_py(), {"label": "a"})
        assert table.version > v1


def test_repr_mentions_name_and_rows(tmp_path: Path) -> None:
    with wnb.StreamTable("shown", root=tmp_path) as table:
        table.log({"x": 1})
        assert repr(table).startswith("StreamTable('shown', 1 rows")
