"""The table widget's building blocks: wire encoding, thumbnails, the throttled ticker."""

from __future__ import annotations

import io
import itertools
import json
import threading
import time

import pyarrow as pa
import pytest
from PIL import Image as PILImage

import weave_nb as wnb
from weave_nb.query import literal
from weave_nb.store import IMAGE_TYPE
from weave_nb.widgets._arrow import (
    ThumbnailCache,
    column_kind,
    describe_columns,
    encode_ipc,
    nested_images,
    sql_value,
    with_nested_images,
)
from weave_nb.widgets._cells import MAX_BYTES, MAX_CHARS, MAX_ITEMS, TRUNCATED_KEY, shorten
from weave_nb.widgets._ticker import Ticker


@pytest.mark.parametrize(
    ("type_", "kind"),
    [
        (pa.int64(), "number"),
        (pa.float32(), "number"),
        (pa.decimal128(10, 2), "number"),
        (pa.timestamp("us", tz="UTC"), "time"),
        (pa.date32(), "time"),
        (pa.string(), "text"),
        (pa.large_string(), "text"),
        (pa.dictionary(pa.int32(), pa.string()), "text"),
        (pa.bool_(), "bool"),
        (IMAGE_TYPE, "image"),
        (pa.struct([pa.field("a", pa.int64())]), "nested"),
        (pa.list_(pa.int64()), "nested"),
        (pa.map_(pa.string(), pa.int64()), "nested"),
        (pa.binary(), "binary"),
        (pa.null(), "other"),
    ],
)
def test_column_kind(type_: pa.DataType, kind: str) -> None:
    assert column_kind(type_) == kind


def test_describe_columns_puts_identity_first_and_writer_last() -> None:
    schema = pa.schema(
        [
            ("z", pa.int64()),
            ("_client_id", pa.string()),
            ("_timestamp", pa.timestamp("us")),
            ("_id", pa.string()),
        ]
    )
    assert [c["name"] for c in describe_columns(schema)] == ["_id", "_timestamp", "z", "_client_id"]
    assert describe_columns(schema)[2] == {"name": "z", "kind": "number", "type": "int64"}


def test_describe_columns_leads_monitor_tables_with_the_call_summary() -> None:
    monitor = pa.schema(
        [(n, pa.string()) for n in ("_id", "_timestamp", "name", "inputs", "output", "status")]
        + [(n, pa.string()) for n in ("exception", "start_time", "latency_ms", "trace_id")]
    )
    assert [c["name"] for c in describe_columns(monitor)] == [
        "_id",
        "_timestamp",
        "name",
        "status",
        "latency_ms",
        "exception",
        "inputs",
        "output",
        "start_time",
        "trace_id",
    ]
    # The kernel tells the browser which column marks failed rows; no other column has a role.
    assert [c["name"] for c in describe_columns(monitor) if "role" in c] == ["exception"]
    assert describe_columns(monitor)[5]["role"] == "error"
    # Without every monitor column, the schema's order stands.
    plain = pa.schema([(n, pa.string()) for n in ("output", "name", "status")])
    assert [c["name"] for c in describe_columns(plain)] == ["output", "name", "status"]


def test_describe_columns_leads_the_data_with_image_columns() -> None:
    schema = pa.schema(
        [
            ("_id", pa.string()),
            ("label", pa.string()),
            ("digit", IMAGE_TYPE),
            ("score", pa.float64()),
        ]
    )
    assert [c["name"] for c in describe_columns(schema)] == ["_id", "digit", "label", "score"]


def test_images_one_level_inside_structs_become_columns() -> None:
    wide_image = pa.struct([("png", pa.binary()), ("width", pa.int64()), ("height", pa.int64())])
    schema = pa.schema(
        [
            ("_id", pa.string()),
            ("inputs", pa.struct([("image", wide_image), ("k", pa.int64())])),
            ("output", pa.struct([("mask", IMAGE_TYPE), ("deep", pa.struct([("x", IMAGE_TYPE)]))])),
            ("photo", IMAGE_TYPE),  # an image struct is not looked into
            ("output.mask", pa.string()),  # a real column keeps its name
        ]
    )
    assert nested_images(schema) == {"inputs.image": ("inputs", "image")}
    names = [c["name"] for c in describe_columns(schema)]
    assert names[:3] == ["_id", "photo", "inputs.image"]
    table = pa.table(
        {
            "_id": ["a"],
            "inputs": pa.array([{"image": {"png": b"p", "width": 2, "height": 3}, "k": 1}]),
        }
    )
    grown = with_nested_images(table, nested_images(schema))
    assert grown.column("inputs.image").to_pylist() == [{"png": b"p", "width": 2, "height": 3}]
    assert with_nested_images(table.select(["_id"]), nested_images(schema)).column_names == ["_id"]


def test_sql_value_quotes_ids() -> None:
    assert sql_value("it's") == "'it''s'"
    assert sql_value(42) == "42"
    for bad in (True, 1.5, None):
        with pytest.raises(TypeError, match="row ids are str or int"):
            sql_value(bad)


@pytest.mark.parametrize(
    "row_id", ["", "plain", "it's", "''", "naïve ✓", "a\nb", 0, -7, 2**63 - 1, 10**30]
)
def test_sql_value_is_the_query_literal_of_a_row_id(row_id: str | int) -> None:
    """The same text as the rule it had of its own before it used ``weave_nb.query.literal``."""
    own = str(row_id) if isinstance(row_id, int) else "'" + row_id.replace("'", "''") + "'"
    assert sql_value(row_id) == own == literal(row_id)


def test_encode_ipc_round_trips() -> None:
    t = pa.table({"a": [1, 2], "b": ["x", None]})
    assert pa.ipc.open_stream(encode_ipc(t)).read_all().equals(t)


def _png(width: int, height: int) -> bytes:
    out = io.BytesIO()
    PILImage.new("RGB", (width, height), (200, 10, 10)).save(out, format="PNG")
    return out.getvalue()


def test_thumbnails_shrink_large_images_only_and_stay_bounded() -> None:
    cache = ThumbnailCache(max_px=32, capacity=2)
    small = _png(20, 10)
    assert cache.thumbnail(small) == small
    large = _png(200, 100)
    with PILImage.open(io.BytesIO(cache.thumbnail(large))) as image:
        assert image.size == (32, 16)
    assert cache.thumbnail(large) is cache.thumbnail(large)  # served from the cache
    cache.thumbnail(_png(300, 300))
    assert len(cache._items) == 2


def test_ticker_validates_its_limits(table: wnb.StreamTable) -> None:
    with pytest.raises(ValueError, match="max_rate"):
        Ticker(table, lambda: None, max_rate=0)
    with pytest.raises(ValueError, match="max_busy"):
        Ticker(table, lambda: None, max_busy=2)


def test_ticker_coalesces_changes_and_respects_its_rate(table: wnb.StreamTable) -> None:
    pushes: list[float] = []

    def push() -> None:
        pushes.append(time.monotonic())
        time.sleep(0.05)  # a slow push: changes meanwhile must coalesce

    ticker = Ticker(table, push, max_rate=5.0)
    try:
        started = time.monotonic()
        while time.monotonic() - started < 1.5:
            table.log({"x": 1})
            time.sleep(0.001)
        time.sleep(0.5)
        assert 3 <= len(pushes) <= 5 * (time.monotonic() - started) + 1
        gaps = [b - a for a, b in itertools.pairwise(pushes)]
        assert min(gaps) >= 0.2 - 0.01
    finally:
        ticker.close()
    assert not ticker.running


@pytest.mark.filterwarnings("ignore:weave_nb. live update:RuntimeWarning")
def test_ticker_survives_a_failing_push(table: wnb.StreamTable) -> None:
    calls: list[int] = []
    first, second = threading.Event(), threading.Event()

    def push() -> None:
        calls.append(len(table))
        if len(calls) == 1:
            first.set()
            raise RuntimeError("boom")
        second.set()

    ticker = Ticker(table, push, max_rate=20.0)
    try:
        table.log({"x": 1})
        assert first.wait(5)
        table.log({"x": 2})
        assert second.wait(5), "the ticker stopped after a failing push"
        assert calls[-1] == 2
    finally:
        ticker.close()


def test_shorten_cuts_long_cells_and_lists_them_in_the_metadata() -> None:
    window = pa.table(
        {
            "text": ["é" * (MAX_CHARS + 1), "short", None],
            "blob": [b"", None, b"x" * (MAX_BYTES * 3)],
            "nested": [
                {"prompt": "p" * (MAX_CHARS * 2), "ids": [1]},
                {"prompt": "ok", "ids": list(range(MAX_ITEMS * 5))},
                {"prompt": "ok", "ids": [2]},
            ],
            "tags": pa.array(
                [[("k", "v" * (MAX_CHARS + 5))], [], None], pa.map_(pa.string(), pa.string())
            ),
            "n": list(range(3)),
        }
    )
    short = shorten(window)
    assert short.schema.types == window.schema.types
    marks = json.loads(short.schema.metadata[TRUNCATED_KEY])
    assert marks == {
        "text": {"0": MAX_CHARS + 1},
        "blob": {"2": MAX_BYTES * 3},
        "nested": {"0": None, "1": None},
        "tags": {"0": None},
    }
    assert short.column("text").to_pylist() == ["é" * MAX_CHARS, "short", None]
    assert short.column("blob").to_pylist() == [b"", None, b"x" * MAX_BYTES]
    nested = short.column("nested").to_pylist()
    assert nested[0] == {"prompt": "p" * MAX_CHARS, "ids": [1]}
    assert nested[1]["ids"] == list(range(MAX_ITEMS))
    assert nested[2] == {"prompt": "ok", "ids": [2]}
    assert short.column("tags")[0].as_py() == [("k", "v" * MAX_CHARS)]
    assert short.column("n").to_pylist() == [0, 1, 2]
    assert len(encode_ipc(short)) < len(encode_ipc(window))


def test_shorten_leaves_small_windows_untouched() -> None:
    window = pa.table({"text": ["a" * MAX_CHARS] + ["b"] * 50, "image": [None] * 51})
    assert shorten(window) is window
