"""The Delta Lake layout: commits, companions, retention, refusals, the second line of defence."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from deltalake import DeltaTable

import weave_nb as wnb


def test_a_flush_is_one_append_commit_and_tables_are_delta(tmp_path: Path) -> None:
    table = wnb.StreamTable("t", root=tmp_path, flush_interval=3600)
    before = DeltaTable(str(tmp_path / "t" / "rows")).version()
    table.log([{"i": i} for i in range(10)])
    table.flush()
    rows = DeltaTable(str(tmp_path / "t" / "rows"))
    assert rows.version() == before + 2  # the new column (schema), then the data
    table.log({"i": 10})
    table.flush()
    assert DeltaTable(str(tmp_path / "t" / "rows")).version() == before + 3
    history = DeltaTable(str(tmp_path / "t" / "rows")).history(1)
    assert history[0]["operation"] == "WRITE"
    assert (
        DeltaTable(str(tmp_path / "t" / "annotations"))
        .metadata()
        .description.startswith("weave_nb")
    )
    table.close()


def test_integer_ids_stay_integers_everywhere(tmp_path: Path) -> None:
    table = wnb.StreamTable("ids", root=tmp_path, flush_interval=3600)
    table.log([{"_id": i, "x": i * 2} for i in range(5)])
    table.annotate(2, {"label": "ok"})
    table.flush()
    frame = table.to_pandas()
    assert frame.set_index("_id").loc[2, "label"] == "ok"
    assert table.window(0, 2, sort=[("x", "desc")])["_id"].to_pylist() == [4, 3]
    assert table.sql("SELECT _id FROM t WHERE label = 'ok'")["_id"].to_pylist() == [2]
    assert wnb.open_table("ids", root=tmp_path).schema.field("_id").type == "int64"
    table.close()


def test_conflicting_types_go_to_companion_columns(tmp_path: Path) -> None:
    table = wnb.StreamTable("c", root=tmp_path, flush_interval=3600)
    table.log({"score": 1, "label": "a"})
    table.flush()
    table.log({"score": 2.5, "label": {"k": 1}})
    table.flush()
    stored = {f.name for f in DeltaTable(str(tmp_path / "c" / "rows")).schema().fields}
    assert {"score", "score~float", "label", "label~struct"} <= stored
    arrow = table.to_arrow()
    assert arrow["score"].to_pylist() == [1.0, 2.5]  # numbers widen in the view
    assert [json.loads(v) if v.startswith("{") else v for v in arrow["label"].to_pylist()] == [
        "a",
        {"k": 1},
    ]
    assert table.count("score > 2") == 1
    table.close()


def test_delete_before_and_vacuum(tmp_path: Path) -> None:
    table = wnb.StreamTable("old", root=tmp_path, flush_interval=3600)
    old = dt.datetime(2020, 1, 1, tzinfo=dt.timezone.utc)
    table.log([{"_id": i, "_timestamp": old, "v": i} for i in range(5)])
    table.log([{"_id": 10 + i, "v": i} for i in range(3)])
    table.annotate(1, {"fb": "x"})
    table.flush()
    assert table.delete(before=dt.datetime(2021, 1, 1)) == 5
    assert sorted(table.to_arrow()["_id"].to_pylist()) == [10, 11, 12]
    on_disk = len(list((tmp_path / "old" / "rows").glob("*.parquet")))
    assert table.vacuum(retention=dt.timedelta(0)) >= 1
    assert len(list((tmp_path / "old" / "rows").glob("*.parquet"))) < on_disk
    assert sorted(wnb.open_table("old", root=tmp_path).to_arrow()["_id"].to_pylist()) == [
        10,
        11,
        12,
    ]
    table.close()


def test_uncommitted_files_are_invisible_and_vacuumed(tmp_path: Path) -> None:
    table = wnb.StreamTable("crash", root=tmp_path, flush_interval=3600)
    table.log({"i": 1})
    table.flush()
    data = next((tmp_path / "crash" / "rows").glob("*.parquet")).read_bytes()
    orphan = tmp_path / "crash" / "rows" / "0000000000000009-deadbeef-00000000-00000000.parquet"
    orphan.write_bytes(data)  # a writer died between writing its file and committing it
    assert len(wnb.open_table("crash", root=tmp_path)) == 1
    table.vacuum(retention=dt.timedelta(0))
    assert not orphan.exists()
    table.close()


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ({"a\x00b": 1}, "NUL"),
        ({"x~float": 1}, "companion"),
    ],
)
def test_names_delta_cannot_hold_are_refused_at_log(
    tmp_path: Path, row: dict[str, int], message: str
) -> None:
    with wnb.StreamTable("names", root=tmp_path) as table, pytest.raises(ValueError, match=message):
        table.log(row)


def test_names_the_query_engine_uses_stay_queryable(tmp_path: Path) -> None:
    with wnb.StreamTable("q", root=tmp_path, flush_interval=3600) as table:
        table.log([{"file_row_number": i, "__pos": -i, 'odd "name"': i} for i in range(5)])
        table.flush()
        assert table.count("file_row_number >= 2") == 3
        assert table.window(0, 2, filter="__pos < -2")["file_row_number"].to_pylist() == [3, 4]
        assert table.window(0, 1, sort=[('odd "name"', "desc")])["__pos"].to_pylist() == [-4]
        assert table.sql('SELECT sum("odd ""name""") AS s FROM t')["s"].to_pylist() == [10]


def test_a_row_no_file_can_hold_costs_only_itself(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from weave_nb.store import _fit

    table = wnb.StreamTable("poison", root=tmp_path, flush_interval=3600)
    table.log([{"x": 1}, {"bad": "kaboom", "x": 2}, {"x": 3}])
    fit = _fit.fit_to_schema

    def picky(batch, schema):  # type: ignore[no-untyped-def]  # stands in for a writer bug
        if "bad" in batch.column_names and batch.column("bad").null_count < batch.num_rows:
            raise ValueError("cannot hold 'bad'")
        return fit(batch, schema)

    monkeypatch.setattr("weave_nb.store._writer.fit_to_schema", picky)
    with pytest.warns(RuntimeWarning, match="could not be written"):
        table.flush()
    assert table.rejected_rows == 1
    table.log({"x": 4})  # the table keeps working
    table.close()
    arrow = wnb.open_table("poison", root=tmp_path).to_arrow()
    assert sorted(v for v in arrow["x"].to_pylist() if v is not None) == [1, 3, 4]
    assert [e for e in arrow["_log_error"].to_pylist() if e] == ["ValueError: cannot hold 'bad'"]


def test_nested_names_with_nul_are_refused_at_log(tmp_path: Path) -> None:
    with wnb.StreamTable("nulkeys", root=tmp_path) as table, pytest.raises(ValueError, match="n"):
        table.log({"n": {"a\x00b": 1}})


@pytest.mark.parametrize("name", ["con", "NUL", "com1", "aux.txt", "LPT9"])
def test_windows_reserved_table_names_are_refused(tmp_path: Path, name: str) -> None:
    with pytest.raises(ValueError, match="reserved on Windows"):
        wnb.StreamTable(name, root=tmp_path)


def test_long_table_names_raise_value_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="1 to 200 characters"):
        wnb.StreamTable("x" * 201, root=tmp_path)


def test_legacy_segment_layout_is_refused_with_the_way_out(tmp_path: Path) -> None:
    (tmp_path / "old" / "rows").mkdir(parents=True)
    (tmp_path / "old" / "_table.json").write_text("{}")
    with pytest.raises(ValueError, match="pre-release segment layout"):
        wnb.open_table("old", root=tmp_path)


def test_unsupported_schemes_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="gs:// is not supported"):
        wnb.StreamTable("t", root="gs://bucket/x")
