"""Values of any shape: conversion, images, the conflict rule and bad input."""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from PIL import Image as PILImage

import weave_nb as wnb
from weave_nb.store import _stream, is_image_type


def _roundtrip(tmp_path: Path, rows: list[dict[str, Any]], *, flush_each: bool = False) -> pa.Table:
    """Log ``rows``, close, and read them back from disk in a fresh reader."""
    with wnb.StreamTable("values", root=tmp_path) as table:
        for row in rows:
            table.log(row)
            if flush_each:
                table.flush()
    return wnb.open_table("values", root=tmp_path).to_arrow()


@dataclasses.dataclass
class Point:
    x: int
    y: float
    tags: list[str]


class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


class Level(enum.IntEnum):
    LOW = 1
    HIGH = 2


def test_scalars_and_none(tmp_path: Path) -> None:
    arrow = _roundtrip(
        tmp_path,
        [
            {"i": 1, "f": 1.5, "s": "a", "b": True, "raw": b"\x00\x01", "n": None},
            {"i": None, "f": None, "s": None, "b": None, "raw": None, "n": None},
        ],
    )
    assert arrow.column("i").to_pylist() == [1, None]
    assert arrow.column("f").to_pylist() == [1.5, None]
    assert arrow.column("s").to_pylist() == ["a", None]
    assert arrow.column("b").to_pylist() == [True, None]
    assert arrow.column("raw").to_pylist() == [b"\x00\x01", None]
    assert arrow.column("n").to_pylist() == [None, None]
    assert arrow.schema.field("raw").type == pa.binary()


def test_disjoint_keys_fill_nulls(tmp_path: Path) -> None:
    arrow = _roundtrip(tmp_path, [{"a": 1}, {"b": "x"}, {"c": 2.0, "a": 3}])
    assert arrow.column("a").to_pylist() == [1, None, 3]
    assert arrow.column("b").to_pylist() == [None, "x", None]
    assert arrow.column("c").to_pylist() == [None, None, 2.0]


def test_nested_dicts_are_structs_and_lists_are_lists(tmp_path: Path) -> None:
    rows: list[dict[str, Any]] = [
        {"meta": {"model": "m1", "cfg": {"t": 0.5, "k": 3}}, "xs": [1, 2, 3], "ws": ["a"]},
        {"meta": {"model": "m2", "cfg": {"t": 0.1, "k": 1}}, "xs": [], "ws": None},
        {"meta": None, "xs": [4], "ws": ["b", None]},
    ]
    arrow = _roundtrip(tmp_path, rows)
    meta = arrow.schema.field("meta").type
    assert pa.types.is_struct(meta)
    assert pa.types.is_struct(meta.field("cfg").type)
    assert arrow.schema.field("xs").type == pa.list_(pa.int64())
    assert arrow.column("meta").to_pylist() == [r["meta"] for r in rows]
    assert arrow.column("xs").to_pylist() == [[1, 2, 3], [], [4]]
    assert arrow.column("ws").to_pylist() == [["a"], None, ["b", None]]


def test_struct_fields_merge_across_flushes(tmp_path: Path) -> None:
    arrow = _roundtrip(tmp_path, [{"m": {"a": 1}}, {"m": {"b": "x"}}], flush_each=True)
    assert arrow.column("m").to_pylist() == [{"a": 1, "b": None}, {"a": None, "b": "x"}]


def test_temporal_values(tmp_path: Path) -> None:
    aware = dt.datetime(2024, 1, 2, 3, 4, 5, 678901, tzinfo=dt.timezone.utc)
    rows = [
        {
            "when": aware,
            "day": dt.date(2024, 1, 2),
            "clock": dt.time(3, 4, 5),
            "took": dt.timedelta(seconds=1.5),
            "pd_ts": pd.Timestamp("2024-01-02T03:04:05.123456Z"),
            "np_ts": np.datetime64("2024-01-02T03:04:05.123456789"),
        }
    ]
    arrow = _roundtrip(tmp_path, rows)
    row = arrow.to_pylist()[0]
    assert row["when"] == aware
    assert row["day"] == dt.date(2024, 1, 2)
    assert row["clock"] == dt.time(3, 4, 5)
    assert row["took"] == dt.timedelta(seconds=1.5)
    assert row["pd_ts"] == pd.Timestamp("2024-01-02T03:04:05.123456Z").to_pydatetime()
    assert row["np_ts"] == dt.datetime(2024, 1, 2, 3, 4, 5, 123456)
    assert pa.types.is_timestamp(arrow.schema.field("when").type)
    assert arrow.schema.field("day").type == pa.date32()


def test_numpy_scalars_and_arrays(tmp_path: Path) -> None:
    rows = [
        {
            "i": np.int32(7),
            "u": np.uint8(200),
            "f": np.float32(0.5),
            "b": np.bool_(True),
            "s": np.str_("text"),
            "vec": np.arange(4, dtype=np.float64),
            "mat": np.arange(6, dtype=np.int64).reshape(2, 3),
            "strs": np.array(["a", "bb"]),
        }
    ]
    row = _roundtrip(tmp_path, rows).to_pylist()[0]
    assert row["i"] == 7
    assert row["u"] == 200
    assert row["f"] == 0.5
    assert row["b"] is True
    assert row["s"] == "text"
    assert row["vec"] == [0.0, 1.0, 2.0, 3.0]
    assert row["mat"] == [[0, 1, 2], [3, 4, 5]]
    assert row["strs"] == ["a", "bb"]


def test_dataclasses_and_enums(tmp_path: Path) -> None:
    rows = [
        {"p": Point(1, 2.5, ["a"]), "color": Color.RED, "level": Level.HIGH},
        {"p": Point(3, 0.0, []), "color": Color.BLUE, "level": Level.LOW},
    ]
    arrow = _roundtrip(tmp_path, rows)
    assert pa.types.is_struct(arrow.schema.field("p").type)
    assert arrow.column("p").to_pylist() == [
        {"x": 1, "y": 2.5, "tags": ["a"]},
        {"x": 3, "y": 0.0, "tags": []},
    ]
    assert arrow.column("color").to_pylist() == ["red", "blue"]
    assert arrow.column("level").to_pylist() == [2, 1]


def test_dataclass_as_a_whole_row(tmp_path: Path) -> None:
    with wnb.StreamTable("dc", root=tmp_path) as table:
        table.log(Point(1, 2.0, ["t"]))  # type: ignore[arg-type]
        row = table.to_arrow().to_pylist()[0]
    assert (row["x"], row["y"], row["tags"]) == (1, 2.0, ["t"])


def test_logged_values_are_snapshotted(tmp_path: Path) -> None:
    row: dict[str, Any] = {"xs": [1, 2], "d": {"a": 1}, "n": 1}
    with wnb.StreamTable("snap", root=tmp_path, flush_interval=60) as table:
        table.log(row)
        row["xs"].append(3)
        row["d"]["a"] = 99
        row["n"] = 2
        got = table.to_arrow().to_pylist()[0]
    assert (got["xs"], got["d"], got["n"]) == ([1, 2], {"a": 1}, 1)


# -- images ------------------------------------------------------------------------------


def _pattern(shape: tuple[int, ...]) -> np.ndarray[Any, Any]:
    return (np.arange(int(np.prod(shape))) * 37 % 256).astype(np.uint8).reshape(shape)


@pytest.mark.parametrize("shape", [(5, 7), (5, 7, 3), (5, 7, 4)])
def test_numpy_images_round_trip(tmp_path: Path, shape: tuple[int, ...]) -> None:
    pixels = _pattern(shape)
    arrow = _roundtrip(tmp_path, [{"img": wnb.Image(pixels)}, {"img": None}])
    assert is_image_type(arrow.schema.field("img").type)
    cell = arrow.column("img")[0].as_py()
    assert (cell["width"], cell["height"]) == (7, 5)
    assert cell["png"].startswith(b"\x89PNG")
    frame = wnb.open_table("values", root=tmp_path).to_pandas()
    image = frame["img"][0]
    assert isinstance(image, wnb.Image)
    assert image.size == (7, 5)
    assert np.array_equal(image.to_numpy(), pixels)
    assert image == wnb.Image(pixels)
    assert frame["img"][1] is None


@pytest.mark.parametrize("mode", ["RGB", "RGBA", "L", "P", "1", "CMYK"])
def test_pil_images_logged_directly(tmp_path: Path, mode: str) -> None:
    source = PILImage.fromarray(_pattern((6, 4, 3))).convert(mode)
    _roundtrip(tmp_path, [{"img": source, "label": 3}])
    frame = wnb.open_table("values", root=tmp_path).to_pandas()
    image = frame["img"][0]
    assert isinstance(image, wnb.Image)
    assert image.size == source.size
    expected = source if mode != "CMYK" else source.convert("RGBA")
    assert image.to_pil().convert("RGBA").tobytes() == expected.convert("RGBA").tobytes()


def test_image_pixels_are_snapshotted_at_log(tmp_path: Path) -> None:
    pixels = _pattern((4, 4, 3))
    original = pixels.copy()
    with wnb.StreamTable("imgsnap", root=tmp_path, flush_interval=60) as table:
        table.log({"img": wnb.Image(pixels)})
        pixels[:] = 0
        image = table.to_pandas()["img"][0]
    assert np.array_equal(image.to_numpy(), original)


def test_images_in_nested_values_are_png(tmp_path: Path) -> None:
    img = wnb.Image(_pattern((3, 3)))
    row = _roundtrip(tmp_path, [{"pair": {"img": img, "score": 1.0}}]).to_pylist()[0]
    assert row["pair"]["img"]["png"] == img.png
    assert row["pair"]["score"] == 1.0


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (np.zeros((4, 4), dtype=np.float32), TypeError),
        (np.zeros((4, 4, 2), dtype=np.uint8), ValueError),
        (np.zeros((4,), dtype=np.uint8), ValueError),
        ("not an image", TypeError),
    ],
)
def test_bad_image_data(data: Any, error: type[Exception]) -> None:
    with pytest.raises(error):
        wnb.Image(data)


# -- conflict rule -------------------------------------------------------------------------


def test_int_then_float_widens_in_one_batch_and_across_flushes(tmp_path: Path) -> None:
    arrow = _roundtrip(tmp_path, [{"x": 1}, {"x": 2.5}])
    assert arrow.schema.field("x").type == pa.float64()
    assert arrow.column("x").to_pylist() == [1.0, 2.5]
    arrow = _roundtrip(tmp_path / "b", [{"x": 1}, {"x": 2.5}], flush_each=True)
    assert arrow.schema.field("x").type == pa.float64()
    assert arrow.column("x").to_pylist() == [1.0, 2.5]


@pytest.mark.parametrize("flush_each", [False, True])
def test_str_then_dict_is_kept_as_text(tmp_path: Path, flush_each: bool) -> None:
    rows: list[dict[str, Any]] = [
        {"v": "plain"},
        {"v": {"a": 1, "b": [1, 2]}},
        {"v": 3},
        {"v": None},
    ]
    arrow = _roundtrip(tmp_path, rows, flush_each=flush_each)
    assert arrow.num_rows == 4
    assert arrow.schema.field("v").type == pa.string()
    values = arrow.column("v").to_pylist()
    assert values[0] == "plain"
    assert json.loads(values[1]) == {"a": 1, "b": [1, 2]}
    assert values[2] == "3"
    assert values[3] is None


def test_conflicting_files_keep_original_types(tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    arrow = _roundtrip(tmp_path, [{"v": "plain"}, {"v": {"a": 1}}], flush_each=True)
    assert arrow.column("v").to_pylist() == ["plain", '{"a": 1}']
    files = sorted((tmp_path / "values" / "rows").glob("*.parquet"))
    stored = {
        (field.name, str(field.type))
        for f in files
        for field in pq.read_schema(f)
        if field.name.startswith("v")
    }
    # A Delta column has one type: the struct values live in the companion column.
    assert stored == {("v", "string"), ("v~struct", "struct<a: int64>")}


def test_conflict_rule_for_lists_of_mixed_items(tmp_path: Path) -> None:
    arrow = _roundtrip(tmp_path, [{"v": [1, "a"]}, {"v": [2]}])
    values = arrow.column("v").to_pylist()
    assert [json.loads(v) for v in values] == [[1, "a"], [2]]


@pytest.mark.parametrize(
    "values",
    [["", b""], [b"x", "y"], [{"a": "x"}, {"a": b"y"}], [[b"a", "b"]]],
    ids=["str-bytes", "bytes-str", "in-struct", "in-list"],
)
def test_str_mixed_with_bytes_stays_str(tmp_path: Path, values: list[Any]) -> None:
    # Arrow alone would store these str as bytes (they would come back as b"...").
    arrow = _roundtrip(tmp_path, [{"v": v} for v in values])
    assert arrow.schema.field("v").type == pa.string()
    stored = arrow.column("v").to_pylist()
    for have, want in zip(stored, values, strict=True):
        if isinstance(want, str):
            assert have == want
        else:
            assert isinstance(have, str)
            assert have != ""


def test_str_then_bytes_in_later_batches_of_one_flush_stays_str(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Batches of one flush are merged before writing: a merge that promoted types
    # would turn the str batch into bytes.
    monkeypatch.setattr(_stream, "CHUNK_ROWS", 4)
    arrow = _roundtrip(tmp_path, [{"v": f"s{i}"} for i in range(8)] + [{"v": b"x"}] * 4)
    assert arrow.schema.field("v").type == pa.string()
    stored = arrow.column("v").to_pylist()
    assert stored[:8] == [f"s{i}" for i in range(8)]
    assert all(isinstance(v, str) and v for v in stored[8:])


def test_ints_then_floats_in_later_batches_of_one_flush_widen(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_stream, "CHUNK_ROWS", 4)
    arrow = _roundtrip(tmp_path, [{"v": i} for i in range(8)] + [{"v": 0.5}] * 4)
    assert arrow.column("v").to_pylist() == [float(i) for i in range(8)] + [0.5] * 4


def test_bool_then_int_is_not_lost(tmp_path: Path) -> None:
    arrow = _roundtrip(tmp_path, [{"v": True}, {"v": 5}], flush_each=True)
    assert [str(v) for v in arrow.column("v").to_pylist()] in (["True", "5"], ["1", "5"])


def test_huge_ints_are_kept_as_text(tmp_path: Path) -> None:
    arrow = _roundtrip(tmp_path, [{"v": 2**70}, {"v": 1}])
    assert arrow.column("v").to_pylist() == [str(2**70), "1"]


# -- bad input -----------------------------------------------------------------------------


class Opaque:
    pass


@pytest.mark.parametrize(
    ("row", "error", "column", "type_name"),
    [
        ({"obj": Opaque()}, TypeError, "obj", "Opaque"),
        ({"deep": {"a": {"b": [1, Opaque()]}}}, TypeError, "deep.a.b[1]", "Opaque"),
        ({"c": 1 + 2j}, TypeError, "c", "complex"),
        ({"arr": np.array([1 + 1j])}, TypeError, "arr[0]", "complex"),
        ({"objarr": np.array([1, Opaque()], dtype=object)}, TypeError, "objarr[1]", "Opaque"),
        ({"fn": len}, TypeError, "fn", "builtin_function_or_method"),
        ({"keys": {1: "a"}}, TypeError, "keys", "int"),
        ({"gen": (i for i in range(3))}, TypeError, "gen", "generator"),
        ({"img": PILImage.new("F", (2, 2))}, None, None, None),
    ],
)
def test_unstorable_values_raise_naming_column_and_type(
    tmp_path: Path,
    row: dict[str, Any],
    error: type[Exception] | None,
    column: str | None,
    type_name: str | None,
) -> None:
    with wnb.StreamTable("bad", root=tmp_path) as table:
        table.log({"ok": 1})
        if error is None:  # a mode PNG cannot hold is converted, not rejected
            table.log(row)
            assert len(table) == 2
            return
        with pytest.raises(error) as info:
            table.log(row)
        message = str(info.value)
        assert f"'{column}'" in message
        assert f"{type_name}" in message
        assert len(table) == 1
        table.log({"ok": 2})
    arrow = wnb.open_table("bad", root=tmp_path).to_arrow()
    assert arrow.column("ok").to_pylist() == [1, 2]


@pytest.mark.parametrize(
    ("row", "error", "needle"),
    [
        ({1: "x"}, TypeError, "column names must be str"),
        ({"": 1}, ValueError, "empty"),
        ({"_client_id": "x"}, ValueError, "_client_id"),
        ({"_timestamp": 5}, TypeError, "_timestamp"),
    ],
)
def test_bad_keys(tmp_path: Path, row: dict[Any, Any], error: type[Exception], needle: str) -> None:
    with wnb.StreamTable("badkeys", root=tmp_path) as table:
        with pytest.raises(error, match=needle):
            table.log(row)
        assert len(table) == 0


@pytest.mark.parametrize("rows", ["text", 5, [1, 2], None, [{"a": 1}, "x"]])
def test_log_rejects_non_rows(tmp_path: Path, rows: Any) -> None:
    with wnb.StreamTable("nonrows", root=tmp_path) as table:
        with pytest.raises(TypeError):
            table.log(rows)
        assert len(table) == 0


def test_a_list_with_one_bad_row_accepts_none(tmp_path: Path) -> None:
    with wnb.StreamTable("batch", root=tmp_path) as table:
        table.log([{"i": 0}])
        with pytest.raises(TypeError, match=r"row 2.*'x'.*Opaque"):
            table.log([{"i": 1}, {"i": 2}, {"i": 3, "x": Opaque()}, {"i": 4}])
        assert len(table) == 1
        table.log([{"i": 5}])
    arrow = wnb.open_table("batch", root=tmp_path).to_arrow()
    assert arrow.column("i").to_pylist() == [0, 5]


def test_bad_value_never_surfaces_in_background(tmp_path: Path, recwarn: Any) -> None:
    table = wnb.StreamTable("bg", root=tmp_path, flush_interval=0.05)
    for value in [1, "a", {"x": 1}, [1, "b"], 2**80, b"raw", None, float("nan")]:
        table.log({"mixed": value})
    table.flush()
    table.close()
    assert not [w for w in recwarn if "weave_nb" in str(w.message)]
    values = wnb.open_table("bg", root=tmp_path).to_arrow().column("mixed").to_pylist()
    assert len(values) == 8
    assert values[0] == "1"
    assert values[1] == "a"
    assert values[6] is None


def test_annotate_validates_too(tmp_path: Path) -> None:
    with wnb.StreamTable("ann", root=tmp_path) as table:
        table.log({"_id": "r1"})
        with pytest.raises(TypeError, match=r"note.*Opaque"):
            table.annotate("r1", {"note": Opaque()})
        with pytest.raises(TypeError):
            table.annotate("r1", {})
        with pytest.raises(TypeError, match="row_id"):
            table.annotate(None, {"note": "x"})
        with pytest.raises(ValueError, match="reserved"):
            table.annotate("r1", {"_id": "x"})
        assert table.annotations().num_rows == 0
