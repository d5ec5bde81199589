"""Values that used to poison a table or change type on the way (issue 10, items 1, 9, 10).

Each test logs through ``StreamTable``, flushes, reopens with ``wnb.open_table`` and
compares what comes back; the rules are those of the README's "Any shape" and
"Images" paragraphs.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import re
import tempfile
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from PIL import Image as PILImage

import weave_nb as wnb
from weave_nb.store._normalize import DECIMAL_TYPE, MAX_DEPTH

Decimal = decimal.Decimal


def _reopened(root: Path, *rows: dict[str, Any], name: str = "t") -> pa.Table:
    """Log ``rows`` one by one after a plain row (which they must not poison), flush, reopen."""
    table = wnb.StreamTable(name, root=root, flush_interval=3600)
    table.log({"before": 1})
    for row in rows:
        table.log(row)
    table.flush()
    table.close()
    arrow = wnb.open_table(name, root=root).to_arrow()
    assert arrow.num_rows == 1 + len(rows)
    assert arrow.column("before").to_pylist()[0] == 1
    return arrow.slice(1)


def _refused(root: Path, row: dict[str, Any], error: type[Exception], column: str) -> str:
    """``log(row)`` raises ``error`` naming ``column``; the table stays writable."""
    with wnb.StreamTable("refused", root=root, flush_interval=3600) as table:
        table.log({"ok": 1})
        with pytest.raises(error) as info:
            table.log(row)
        assert f"'{column}" in str(info.value)
        table.log({"ok": 2})
    assert wnb.open_table("refused", root=root).to_arrow().column("ok").to_pylist() == [1, 2]
    return str(info.value)


def unescape(text: str) -> str:
    """Inverse of the README's surrogate rule, for values without a literal ``\\udXXX``."""
    return re.sub(
        r"\\u(d[89a-f][0-9a-f]{2})", lambda m: chr(int(m[1], 16)), text, flags=re.IGNORECASE
    )


# -- 1: lone surrogates -------------------------------------------------------------------


def test_lone_surrogate_in_a_fast_path_string_is_escaped(tmp_path: Path) -> None:
    value = json.loads('"\\ud83d"')
    arrow = _reopened(tmp_path, {"s": "plain"}, {"s": value}, {"s": f"a{value}b\udc00é"})
    got = arrow.column("s").to_pylist()
    assert got == ["plain", "\\ud83d", "a\\ud83db\\udc00é"]
    assert unescape(got[2]) == f"a{value}b\udc00é"


def test_lone_surrogate_in_keys_and_nested_values(tmp_path: Path) -> None:
    arrow = _reopened(
        tmp_path,
        {"k\ud800": 1},
        {"k\ud800": 2},  # now a known key: the fast path
        {"m": {"n\udfff": "v\ud800", "xs": ["\ud800", "ok"]}},
    )
    assert arrow.column("k\\ud800").to_pylist() == [1, 2, None]
    assert arrow.column("m").to_pylist()[2] == {"n\\udfff": "v\\ud800", "xs": ["\\ud800", "ok"]}


def test_lone_surrogate_in_a_text_conflict_column_and_annotations(tmp_path: Path) -> None:
    with wnb.StreamTable("t", root=tmp_path, flush_interval=3600) as table:
        table.log({"_id": "r", "v": "\ud800"})
        table.log({"_id": "q", "v": {"a": "\udc00"}})
        table.annotate("r", {"note\ud800": "x\ud800"})
    reader = wnb.open_table("t", root=tmp_path)
    values = reader.to_arrow().column("v").to_pylist()
    assert values[0] == "\\ud800"
    assert json.loads(values[1]) == {"a": "\\udc00"}
    assert reader.to_arrow().column("note\\ud800").to_pylist()[0] == "x\\ud800"


def test_surrogate_key_next_to_its_escaped_twin_keeps_both_values(tmp_path: Path) -> None:
    arrow = _reopened(tmp_path, {"k\ud800": 1}, {"k\\ud800": 2})
    assert arrow.column("k\\ud800").to_pylist() == [1, 2]


# -- 1: images ----------------------------------------------------------------------------


@pytest.mark.parametrize("size", [(0, 0), (0, 5), (5, 0)])
def test_empty_pil_image_is_refused_naming_the_column(
    tmp_path: Path, size: tuple[int, int]
) -> None:
    message = _refused(
        tmp_path, {"inputs": {"image": PILImage.new("RGB", size)}}, ValueError, "inputs.image"
    )
    assert "empty image" in message


def test_empty_numpy_image_is_refused() -> None:
    with pytest.raises(ValueError, match="empty image"):
        wnb.Image(np.zeros((0, 3, 3), dtype=np.uint8))


_MODES = ["1", "L", "LA", "La", "P", "PA", "RGB", "RGBA", "RGBa", "RGBX", "CMYK", "YCbCr",
          "LAB", "HSV", "I", "I;16", "I;16B", "I;16L", "I;16N", "F"]  # fmt: skip


def test_every_mode_of_this_pillow_is_covered() -> None:
    assert set(getattr(PILImage, "MODES", _MODES)) <= set(_MODES)


@pytest.mark.parametrize("mode", _MODES)
def test_every_pil_mode_is_stored_with_its_original_mode(tmp_path: Path, mode: str) -> None:
    source = PILImage.new(mode, (3, 2))
    arrow = _reopened(tmp_path, {"img": source})
    assert arrow.schema.field("img").type.field("png").type == pa.binary()
    image = wnb.open_table("t", root=tmp_path).to_pandas()["img"][1]
    assert isinstance(image, wnb.Image)
    assert image.size == (3, 2)
    assert image.mode == mode
    assert image.to_pil().mode in {"1", "L", "LA", "P", "RGB", "RGBA", "I;16"}


@pytest.mark.parametrize("mode", ["I", "I;16", "F"])
def test_16_bit_gray_is_exact_and_wider_values_clip(tmp_path: Path, mode: str) -> None:
    values = np.array([[0, 1, 300, 65535, 70000, -5]], dtype=np.int64)
    if mode == "I;16":
        values = np.clip(values, 0, 65535)
        source = PILImage.fromarray(values.astype(np.uint16))
    else:
        source = PILImage.fromarray(values.astype(np.int32 if mode == "I" else np.float32))
    assert source.mode == mode
    _reopened(tmp_path, {"img": source})
    image = wnb.open_table("t", root=tmp_path).to_pandas()["img"][1]
    assert image.to_numpy().tolist() == [[0, 1, 300, 65535, 65535, 0]]
    assert image.mode == mode


def test_cmyk_is_stored_as_its_rgb(tmp_path: Path) -> None:
    source = PILImage.fromarray(np.arange(24, dtype=np.uint8).reshape(2, 3, 4) * 9, mode="CMYK")
    _reopened(tmp_path, {"img": source})
    image = wnb.open_table("t", root=tmp_path).to_pandas()["img"][1]
    assert image.to_pil().tobytes() == source.convert("RGB").tobytes()
    assert image.mode == "CMYK"


# -- 1: _timestamp ------------------------------------------------------------------------


@pytest.mark.parametrize("missing", [pd.NaT, None, np.datetime64("NaT")])
def test_timestamp_nat_or_none_means_not_given(tmp_path: Path, missing: Any) -> None:
    start = dt.datetime.now(dt.timezone.utc)
    arrow = _reopened(tmp_path, {"_timestamp": missing, "x": 1})
    stamp = arrow.column("_timestamp").to_pylist()[0]
    assert start - dt.timedelta(seconds=1) <= stamp <= dt.datetime.now(dt.timezone.utc)
    assert arrow.schema.field("_timestamp").type == pa.timestamp("us", tz="UTC")


# -- 1, 10: nesting depth and circular values ----------------------------------------------


def _nested(levels: int, *, lists: bool = False) -> Any:
    """``levels`` nested containers around 1 (dicts, or dicts and lists alternating)."""
    value: Any = 1
    for i in range(levels):
        value = [value] if lists and i % 2 else {"a": value}
    return value


@pytest.mark.parametrize("levels", [MAX_DEPTH + 1, 200, 500])
def test_too_deep_values_are_refused_naming_the_path(tmp_path: Path, levels: int) -> None:
    message = _refused(tmp_path, {"d": _nested(levels)}, ValueError, "d.a.a")
    assert f"deeper than {MAX_DEPTH}" in message


@pytest.mark.parametrize("lists", [False, True])
def test_values_at_the_maximum_depth_round_trip_everywhere(tmp_path: Path, lists: bool) -> None:
    value = _nested(MAX_DEPTH, lists=lists)
    arrow = _reopened(tmp_path, {"d": value}, {"d": None})
    assert arrow.column("d").to_pylist() == [value, None]
    # the data files themselves, read by pyarrow.parquet and by DuckDB (not a transaction log)
    files = [f for f in (tmp_path / "t" / "rows").rglob("*.parquet") if "_delta_log" not in f.parts]
    tables = [pq.read_table(f) for f in files]
    assert [v for t in tables if "d" in t.column_names for v in t.column("d").to_pylist() if v] == [
        value
    ]
    paths = ", ".join(f"'{f}'" for f in files)
    query = f"SELECT count(d) FROM read_parquet([{paths}], union_by_name=true)"
    assert duckdb.connect().execute(query).fetchall() == [(1,)]
    reader = wnb.open_table("t", root=tmp_path)
    assert reader.count("d IS NOT NULL") == 1
    window = reader.window(0, 10, filter="d IS NOT NULL")
    assert window.column("d").to_pylist() == [value]


def test_monitor_depth_leaves_room_for_the_inputs_struct(tmp_path: Path) -> None:
    arrow = _reopened(tmp_path, {"inputs": {"arg": _nested(MAX_DEPTH - 1)}})
    assert arrow.column("inputs").to_pylist()[0]["arg"] == _nested(MAX_DEPTH - 1)


def test_circular_values_are_refused_naming_the_column(tmp_path: Path) -> None:
    loop: dict[str, Any] = {"x": 1}
    loop["self"] = loop
    ring: list[Any] = [1]
    ring.append(ring)
    message = _refused(tmp_path, {"c": {"inner": loop}}, ValueError, "c.inner.self")
    assert "circular" in message
    assert "circular" in _refused(tmp_path / "l", {"c": ring}, ValueError, "c[1]")


def test_a_shared_value_is_not_circular(tmp_path: Path) -> None:
    shared = {"v": 1}
    arrow = _reopened(tmp_path, {"pair": [shared, shared]})
    assert arrow.column("pair").to_pylist() == [[{"v": 1}, {"v": 1}]]


# -- 10: numpy oddities --------------------------------------------------------------------


def test_longdouble_is_float64_when_exact_else_refused(tmp_path: Path) -> None:
    arrow = _reopened(tmp_path, {"x": np.longdouble(1.5), "xs": np.array([0.25], np.longdouble)})
    assert arrow.column("x").to_pylist() == [1.5]
    assert arrow.column("xs").to_pylist() == [[0.25]]
    third = np.longdouble(1) / np.longdouble(3)
    if float(third) != third:  # 80-bit long double (x86-64 Linux); equal on other platforms
        message = _refused(tmp_path / "r", {"v": {"x": third}}, ValueError, "v.x")
        assert "float64" in message


def test_zero_dimensional_arrays_hold_their_element(tmp_path: Path) -> None:
    arrow = _reopened(tmp_path, {"o": np.array(None, dtype=object), "n": np.array(3)})
    assert arrow.column("o").to_pylist() == [None]
    assert arrow.column("n").to_pylist() == [3]
    _refused(tmp_path / "r", {"o": np.array(object(), dtype=object)}, TypeError, "o")


# -- 9: NaT, Decimal, datetime64, time zones, nanoseconds ---------------------------------


def test_nat_is_a_null_timestamp(tmp_path: Path) -> None:
    when = dt.datetime(2024, 1, 2, tzinfo=dt.timezone.utc)
    arrow = _reopened(tmp_path, {"t": when, "xs": [when, pd.NaT]}, {"t": pd.NaT, "xs": [pd.NaT]})
    assert arrow.schema.field("t").type == pa.timestamp("us", tz="UTC")
    assert arrow.column("t").to_pylist() == [when, None]
    assert arrow.column("xs").to_pylist() == [[when, None], [None]]


def test_decimals_are_decimal_38_18(tmp_path: Path) -> None:
    values = [Decimal("1.5"), Decimal("-12345678901234567890.123456789012345678"), Decimal("1E+2"),
              Decimal("0.000000000000000001"), Decimal("2.50000000000000000000000")]  # fmt: skip
    arrow = _reopened(tmp_path, *({"d": v, "m": {"d": v}} for v in values))
    assert arrow.schema.field("d").type == DECIMAL_TYPE
    assert arrow.column("d").to_pylist() == values
    assert [m["d"] for m in arrow.column("m").to_pylist()] == values
    total = wnb.open_table("t", root=tmp_path).sql("SELECT sum(d) AS s FROM t").column("s")[0]
    with decimal.localcontext(prec=60):  # the default 28 digits would round the sum
        assert total.as_py() == sum(values)


@pytest.mark.parametrize(
    ("value", "needle"),
    [
        (Decimal("1.234567890123456789012345678901"), "does not fit"),
        (Decimal("1e999"), "does not fit"),
        (Decimal("1" * 21), "does not fit"),
        (Decimal("NaN"), "finite"),
        (Decimal("sNaN"), "finite"),
        (Decimal("-Infinity"), "finite"),
    ],
)
def test_decimals_that_do_not_fit_are_refused(tmp_path: Path, value: Decimal, needle: str) -> None:
    assert needle in _refused(tmp_path, {"p": {"d": [value]}}, ValueError, "p.d[0]")


def test_decimals_mixed_with_ints_stay_decimal_and_with_floats_become_text(tmp_path: Path) -> None:
    arrow = _reopened(tmp_path, {"d": Decimal("1.5"), "e": Decimal("2.5")}, {"d": 7, "e": 0.5})
    assert arrow.column("d").to_pylist() == [Decimal("1.5"), Decimal(7)]
    assert arrow.column("e").to_pylist() == ["2.5", "0.5"]


def test_integers_and_decimals_in_separate_files_read_as_decimals(tmp_path: Path) -> None:
    table = wnb.StreamTable("t", root=tmp_path, flush_interval=3600)
    table.log({"d": 7})
    table.flush()
    table.log({"d": Decimal("1.5")})
    table.close()
    arrow = wnb.open_table("t", root=tmp_path).to_arrow()
    assert arrow.schema.field("d").type == DECIMAL_TYPE
    assert arrow.column("d").to_pylist() == [Decimal(7), Decimal("1.5")]


def test_datetime64_arrays_are_timestamps(tmp_path: Path) -> None:
    ns = np.array(["2024-01-01T00:00:00.123456789", "NaT"], dtype="datetime64[ns]")
    us = np.array(["2024-01-01T00:00:00.5"], dtype="datetime64[us]")
    days = np.array(["2024-01-01"], dtype="datetime64[D]")
    spans = np.array([1, 1500, -1], dtype="timedelta64[ns]")
    arrow = _reopened(tmp_path, {"ns": ns, "us": us, "days": days, "spans": spans})
    types = {
        name: arrow.schema.field(name).type.value_type for name in ("ns", "us", "days", "spans")
    }
    assert types == {
        "ns": pa.timestamp("us"),
        "us": pa.timestamp("us"),
        "days": pa.date32(),
        "spans": pa.duration("us"),
    }
    row = arrow.to_pylist()[0]
    assert row["ns"] == [dt.datetime(2024, 1, 1, 0, 0, 0, 123456), None]
    assert row["us"] == [dt.datetime(2024, 1, 1, 0, 0, 0, 500000)]
    assert row["days"] == [dt.date(2024, 1, 1)]
    micro = dt.timedelta(microseconds=1)
    assert row["spans"] == [dt.timedelta(0), micro, -micro]  # floored


def test_datetime64_outside_datetime_is_refused(tmp_path: Path) -> None:
    message = _refused(tmp_path, {"t": np.datetime64("12000-01-01")}, ValueError, "t")
    assert "datetime64" in message


def test_time_with_a_zone_is_refused_and_naive_time_kept(tmp_path: Path) -> None:
    zoned = dt.time(1, 2, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    assert "timezone" in _refused(tmp_path, {"at": zoned}, ValueError, "at")
    arrow = _reopened(tmp_path / "ok", {"at": dt.time(1, 2, 3, 4)})
    assert arrow.column("at").to_pylist() == [dt.time(1, 2, 3, 4)]


def test_nanoseconds_are_floored_to_microseconds(tmp_path: Path) -> None:
    stamp = pd.Timestamp("2024-01-01T00:00:00.123456789Z")
    before_1970 = pd.Timestamp(-1)  # 1969-12-31 23:59:59.999999999
    arrow = _reopened(
        tmp_path,
        {"t": stamp, "old": before_1970, "d": pd.Timedelta(-1), "n": {"t": stamp}},
        {"t": dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc), "d": dt.timedelta(seconds=1)},
    )
    assert arrow.schema.field("t").type == pa.timestamp("us", tz="UTC")
    assert arrow.schema.field("d").type == pa.duration("us")
    floored = dt.datetime(2024, 1, 1, 0, 0, 0, 123456, tzinfo=dt.timezone.utc)
    assert arrow.column("t").to_pylist()[0] == floored
    assert arrow.column("old").to_pylist()[0] == dt.datetime(1969, 12, 31, 23, 59, 59, 999999)
    assert arrow.column("d").to_pylist() == [-dt.timedelta(microseconds=1), dt.timedelta(seconds=1)]
    assert arrow.column("n").to_pylist()[0] == {"t": floored}


def test_pandas_values_next_to_any_datetime_stay_timestamps(tmp_path: Path) -> None:
    table = wnb.StreamTable("t", root=tmp_path, flush_interval=3600)
    table.log({"t": pd.Timestamp("2024-01-01T00:00:00.123456789")})
    table.flush()  # a file of its own: the merged view must read both files
    table.log({"t": dt.datetime(1500, 1, 1)})
    table.close()
    reader = wnb.open_table("t", root=tmp_path)
    want = [dt.datetime(2024, 1, 1, 0, 0, 0, 123456), dt.datetime(1500, 1, 1)]
    assert reader.to_arrow().column("t").to_pylist() == want
    assert reader.window(0, 5, filter="t IS NOT NULL").column("t").to_pylist() == want


def test_microsecond_pandas_values_stay_microseconds(tmp_path: Path) -> None:
    arrow = _reopened(
        tmp_path, {"t": pd.Timestamp("2024-01-01T00:00:00.5"), "d": pd.Timedelta("1s")}
    )
    assert arrow.schema.field("t").type == pa.timestamp("us")
    assert arrow.schema.field("d").type == pa.duration("us")


# -- property tests: every value either round-trips through disk or is refused at log() ----

_SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _through_disk(rows: list[dict[str, Any]]) -> pa.Table:
    with tempfile.TemporaryDirectory() as tmp:
        return _reopened(Path(tmp), *rows)


def _fits_decimal(value: Decimal) -> bool:
    """The README's rule, stated independently of the store's code."""
    if not value.is_finite() or abs(value) >= Decimal(10) ** 20:
        return False
    with decimal.localcontext(prec=200):
        return value == value.quantize(Decimal("1e-18"))


@_SETTINGS
@given(values=st.lists(st.decimals(allow_nan=True, allow_infinity=True), min_size=1, max_size=6))
@example(values=[Decimal("1.234567890123456789012345678901"), Decimal("1e999"), Decimal("sNaN")])
def test_decimals_round_trip_or_are_refused(values: list[Decimal]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        table = wnb.StreamTable("t", root=tmp, flush_interval=3600)
        table.log({"before": 1})
        kept = []
        for value in values:
            if _fits_decimal(value):
                table.log({"d": value})
                kept.append(value)
            else:
                with pytest.raises(ValueError, match="'d'"):
                    table.log({"d": value})
        table.close()
        arrow = wnb.open_table("t", root=tmp).to_arrow().slice(1)
    if kept:
        assert arrow.schema.field("d").type == DECIMAL_TYPE
        assert arrow.column("d").to_pylist() == kept


_NS_RANGE = st.integers(-(2**62), 2**62)  # well inside timestamp[ns] (1823..2116)


def _floor_us(value: pd.Timestamp | pd.Timedelta) -> Any:
    """The README's rule, stated with pandas' own rounding."""
    if isinstance(value, pd.Timestamp):
        return value.floor("us").to_pydatetime()
    return value.floor("us").to_pytimedelta()


@_SETTINGS
@given(
    stamps=st.lists(st.one_of(st.none(), _NS_RANGE), min_size=1, max_size=6),
    spans=st.lists(st.integers(-(10**15), 10**15), min_size=1, max_size=6),
    aware=st.booleans(),
)
def test_nanosecond_values_are_floored_to_microseconds(
    stamps: list[int | None], spans: list[int], aware: bool
) -> None:
    tz = "UTC" if aware else None
    logged = [pd.NaT if n is None else pd.Timestamp(n, tz=tz) for n in stamps]
    array = np.array([np.datetime64("NaT") if n is None else n for n in stamps], "datetime64[ns]")
    rows: list[dict[str, Any]] = [{"t": t} for t in logged] + [
        {"span": pd.Timedelta(d)} for d in spans
    ]
    arrow = _through_disk([*rows, {"array": array, "spans": np.array(spans, "timedelta64[ns]")}])
    want = [None if n is None else _floor_us(pd.Timestamp(n, tz=tz)) for n in stamps]
    assert arrow.column("t").to_pylist()[: len(stamps)] == want
    assert arrow.column("span").to_pylist()[len(stamps) : -1] == [
        _floor_us(pd.Timedelta(d)) for d in spans
    ]
    last = arrow.to_pylist()[-1]
    assert last["array"] == [None if n is None else _floor_us(pd.Timestamp(n)) for n in stamps]
    assert last["spans"] == [_floor_us(pd.Timedelta(d)) for d in spans]


_WITH_SURROGATES = st.text(
    alphabet=st.one_of(st.characters(), st.integers(0xD800, 0xDFFF).map(chr)), max_size=8
)


@_SETTINGS
@given(
    texts=st.lists(_WITH_SURROGATES, min_size=1, max_size=5),
    key=_WITH_SURROGATES.filter(lambda k: "\x00" not in k),  # NUL in a name is refused
)
@example(texts=["\ud800", "a\udfffb"], key="k\ud83d")
def test_strings_with_lone_surrogates_are_stored_escaped(texts: list[str], key: str) -> None:
    escaped = [t.encode("utf-8", "backslashreplace").decode("utf-8") for t in texts]
    rows = [{"s": t, "n": {"k" + key: t}} for t in texts]
    arrow = _through_disk(rows)
    assert arrow.column("s").to_pylist() == escaped
    name = ("k" + key).encode("utf-8", "backslashreplace").decode("utf-8")
    assert [n[name] for n in arrow.column("n").to_pylist()] == escaped
    for text, stored in zip(texts, escaped, strict=True):
        if "\\" not in text:
            assert unescape(stored) == text


@_SETTINGS
@given(levels=st.integers(1, MAX_DEPTH + 8), lists=st.booleans())
def test_nesting_round_trips_up_to_the_maximum_depth(levels: int, lists: bool) -> None:
    value = _nested(levels, lists=lists)
    if levels > MAX_DEPTH:
        with tempfile.TemporaryDirectory() as tmp:
            _refused(Path(tmp), {"d": value}, ValueError, "d")
    else:
        assert _through_disk([{"d": value}]).column("d").to_pylist() == [value]


def test_backfilled_timestamp_keeps_microseconds(tmp_path: Path) -> None:
    stamp = pd.Timestamp("2024-01-01T00:00:00.123456789Z")
    arrow = _reopened(tmp_path, {"_timestamp": stamp, "x": 1})
    assert arrow.column("_timestamp").to_pylist() == [_floor_us(stamp)]


_ODD_VALUE = st.one_of(
    st.none(),
    st.integers(-(2**63), 2**63 - 1),
    st.floats(),
    _WITH_SURROGATES,
    st.decimals(min_value=-(10**19), max_value=10**19, places=6, allow_nan=False),
    st.just(pd.NaT),
    _NS_RANGE.map(pd.Timestamp),
    _NS_RANGE.map(lambda n: pd.Timestamp(n, tz="UTC")),
    st.integers(-(10**15), 10**15).map(pd.Timedelta),
    st.just(dt.datetime(1500, 1, 1)),
    st.just(dt.time(1, 2)),
    st.sampled_from(["I", "F", "CMYK", "LA"]).map(lambda mode: PILImage.new(mode, (2, 1))),
    st.lists(_WITH_SURROGATES, max_size=2),
    st.dictionaries(st.sampled_from(["p", "\ud800"]), st.decimals(0, 9, places=2), min_size=1),
)


@_SETTINGS
@given(batches=st.lists(st.lists(_ODD_VALUE, min_size=1, max_size=5), min_size=1, max_size=3))
def test_any_mix_of_accepted_values_is_written(batches: list[list[Any]]) -> None:
    """Whatever log() accepts, the writer writes: every row kept, nulls where nothing was."""
    values = [v for batch in batches for v in batch]
    with tempfile.TemporaryDirectory() as tmp:
        with wnb.StreamTable("mix", root=tmp, flush_interval=3600) as table:
            for i, batch in enumerate(batches):
                table.log([{"i": i * 100 + j, "v": v} for j, v in enumerate(batch)])
                table.flush()
        reader = wnb.open_table("mix", root=tmp)
        got = reader.to_arrow().column("v").to_pylist()
        assert len(got) == len(values)
        assert [g is None for g in got] == [v is None or v is pd.NaT for v in values]
        assert reader.count("v IS NULL") == sum(v is None or v is pd.NaT for v in values)
        reader.close()
