"""Queries over the merged view: windows, counts, aggregates, SQL and annotations."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

import weave_nb as wnb

T0 = dt.datetime(2024, 3, 1, 12, 0, tzinfo=dt.timezone.utc)


def _reference_order(rows: list[dict[str, Any]], sort: list[tuple[str, str]]) -> list[int]:
    """Positions of ``rows`` in pandas' stable sort by ``sort``, nulls last."""
    if not rows:
        return []
    frame = pd.DataFrame(rows)
    ordered = frame.sort_values(
        by=[name for name, _ in sort],
        ascending=[direction == "asc" for _, direction in sort],
        kind="stable",
        na_position="last",
    )
    return [int(i) for i in ordered.index]


def _make_rows(n: int, seed: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        rows.append(
            {
                "i": i,
                "x": rng.choice([None, *range(8)]),  # many ties and nulls
                "f": None if rng.random() < 0.1 else round(rng.uniform(-5, 5), 1),
                "s": rng.choice([None, "apple", "Banana", "cherry", "apple pie", ""]),
                "g": rng.choice(["a", "b", "c"]),
            }
        )
    return rows


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[wnb.StreamTable, list[Any]]]:
    """A table spread over several segments plus unflushed rows in memory."""
    root = tmp_path_factory.mktemp("query")
    rows = _make_rows(700, seed=1)
    table = wnb.StreamTable("q", root=root, flush_interval=60)
    for start in range(0, 600, 150):
        table.log(rows[start : start + 150])
        table.flush()
    table.log(rows[600:])  # still in memory
    yield table, rows
    table.close()


SORTS = [
    [("x", "asc")],
    [("x", "desc")],
    [("f", "asc")],
    [("f", "desc")],
    [("s", "asc")],
    [("s", "desc")],
    [("g", "asc"), ("x", "desc")],
    [("x", "desc"), ("s", "asc"), ("f", "desc")],
    [("_timestamp", "desc")],
]


@pytest.mark.parametrize("sort", SORTS, ids=lambda s: ",".join(f"{n} {d}" for n, d in s))
@pytest.mark.parametrize(("offset", "limit"), [(0, 25), (140, 30), (590, 20), (680, 50), (0, 700)])
def test_sorted_windows_match_reference(
    sample: tuple[wnb.StreamTable, list[Any]], sort: list[tuple[str, str]], offset: int, limit: int
) -> None:
    table, rows = sample
    if sort == [("_timestamp", "desc")]:
        expected = list(range(len(rows)))[::-1]  # log order reversed (stamps are increasing)
        stamps = table.to_arrow().column("_timestamp").to_pylist()
        if len(set(stamps)) != len(stamps):
            # ties (one batch shares a stamp): stable within each batch
            expected = _reference_order([{"t": s} for s in stamps], [("t", "desc")])
    else:
        expected = _reference_order(rows, sort)
    window = table.window(offset, limit, sort=sort)  # type: ignore[arg-type]
    assert window.column("i").to_pylist() == expected[offset : offset + limit]
    assert window.schema == table.schema


@pytest.mark.parametrize(("offset", "limit"), [(0, 10), (145, 10), (595, 10), (690, 100)])
def test_unsorted_windows_follow_log_order(
    sample: tuple[wnb.StreamTable, list[Any]], offset: int, limit: int
) -> None:
    table, rows = sample
    window = table.window(offset, limit)
    assert window.column("i").to_pylist() == list(range(len(rows)))[offset : offset + limit]
    assert window.to_pylist()[0]["s"] == rows[offset]["s"]


FILTERS = [
    ("x > 3", lambda r: r["x"] is not None and r["x"] > 3),
    ("s = 'apple' OR s IS NULL", lambda r: r["s"] == "apple" or r["s"] is None),
    ("g = 'b' AND f < 0", lambda r: r["g"] == "b" and r["f"] is not None and r["f"] < 0),
    ("s LIKE 'apple%'", lambda r: r["s"] is not None and r["s"].startswith("apple")),
    ("i % 7 = 0", lambda r: r["i"] % 7 == 0),
    ("false", lambda r: False),
]


@pytest.mark.parametrize(("expr", "keep"), FILTERS, ids=[f for f, _ in FILTERS])
@pytest.mark.parametrize("sort", [None, [("f", "desc")], [("s", "asc"), ("i", "desc")]])
def test_filtered_windows_and_counts(
    sample: tuple[wnb.StreamTable, list[Any]], expr: str, keep: Any, sort: Any
) -> None:
    table, rows = sample
    matching = [i for i, r in enumerate(rows) if keep(r)]
    assert table.count(expr) == len(matching)
    subset = [rows[i] for i in matching]
    order = [matching[j] for j in _reference_order(subset, sort)] if sort else matching
    for offset, limit in [(0, 15), (len(order) // 2, 40), (len(order) + 5, 10)]:
        window = table.window(offset, limit, sort=sort, filter=expr)
        assert window.column("i").to_pylist() == order[offset : offset + limit]


def test_window_columns_and_offsets_past_end(sample: tuple[wnb.StreamTable, list[Any]]) -> None:
    table, _ = sample
    window = table.window(3, 2, columns=["s", "i"])
    assert window.column_names == ["s", "i"]
    assert window.column("i").to_pylist() == [3, 4]
    empty = table.window(10_000, 10, sort=[("x", "asc")])
    assert empty.num_rows == 0
    assert empty.schema == table.schema
    assert table.window(10_000, 10).num_rows == 0
    assert table.window(699, 10).num_rows == 1
    assert table.window(5, 0).num_rows == 0
    with pytest.raises(ValueError, match="offset"):
        table.window(-1, 10)
    with pytest.raises(KeyError, match="nope"):
        table.window(0, 10, columns=["nope"])
    with pytest.raises(KeyError, match="nope"):
        table.window(0, 10, sort=[("nope", "asc")])
    with pytest.raises(ValueError, match="direction"):
        table.window(0, 10, sort=[("x", "up")])  # type: ignore[list-item]


@pytest.mark.parametrize("expr", ["x >", "no_such_column = 1", "x = 'a' +* 2", "1; DROP TABLE t"])
def test_bad_filter_raises_value_error(
    sample: tuple[wnb.StreamTable, list[Any]], expr: str
) -> None:
    table, rows = sample
    with pytest.raises(ValueError, match="query failed"):
        table.window(0, 10, filter=expr)
    with pytest.raises(ValueError, match="query failed"):
        table.count(expr)
    assert len(table) == len(rows)  # the table is unharmed
    assert table.count() == len(rows)


def test_sql(sample: tuple[wnb.StreamTable, list[Any]]) -> None:
    table, rows = sample
    result = table.sql("SELECT g, count(*) AS n, max(i) AS top FROM t GROUP BY g ORDER BY g")
    expected = {g: [r["i"] for r in rows if r["g"] == g] for g in "abc"}
    assert result.column("g").to_pylist() == ["a", "b", "c"]
    assert result.column("n").to_pylist() == [len(expected[g]) for g in "abc"]
    assert result.column("top").to_pylist() == [max(expected[g]) for g in "abc"]
    with pytest.raises(ValueError, match="query failed"):
        table.sql("SELECT nope FROM t")


def test_large_int_sort_keeps_precision(tmp_path: Path) -> None:
    values = [2**62 + 3, 2**62 + 1, None, 2**62 + 2, -(2**62)]
    with wnb.StreamTable("bigint", root=tmp_path) as table:
        table.log([{"v": v} for v in values])
        got = table.window(0, 10, sort=[("v", "asc")]).column("v").to_pylist()
    assert got == [-(2**62), 2**62 + 1, 2**62 + 2, 2**62 + 3, None]


def test_sort_on_timestamps_and_bools(tmp_path: Path) -> None:
    with wnb.StreamTable("kinds", root=tmp_path) as table:
        table.log(
            [
                {"k": i, "when": None if m is None else T0 + dt.timedelta(minutes=m), "ok": b}
                for i, (m, b) in enumerate([(5, True), (1, None), (3, False), (None, True)])
            ]
        )
        by_when = table.window(0, 10, sort=[("when", "desc")]).column("k").to_pylist()
        by_ok = table.window(0, 10, sort=[("ok", "asc")]).column("k").to_pylist()
    assert by_when == [0, 2, 1, 3]
    assert by_ok == [2, 0, 3, 1]


@pytest.mark.parametrize("direction", ["asc", "desc"])
@pytest.mark.parametrize("key", ["f", "c"])
def test_windows_near_the_top_rank_as_the_whole_column(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, direction: str, key: str
) -> None:
    """Windows near the top (found by DuckDB, row groups pruned) and deeper ones (the
    key column ranked) give one order: ties in log order, NaN and nulls last together."""
    from weave_nb.store import _windows

    rng = random.Random(3)
    floats = [float("nan"), float("inf"), -float("inf"), 0.0, -0.0, 1.5, -2.5, None]
    rows = [
        {"i": i, "f": rng.choice(floats), "c": rng.choice([None, "a", "b", "a b", ""])}
        for i in range(400)
    ]
    table = wnb.StreamTable("near_top", root=tmp_path, flush_interval=60)
    for start in range(0, 300, 100):
        table.log(rows[start : start + 100])
        table.flush()
    table.log(rows[300:])  # still in memory
    sort = [(key, direction)]
    expected = _reference_order(rows, sort)
    windows = [(0, 10), (95, 20), (290, 30), (380, 50)]
    near_top = [table.window(o, n, sort=sort).column("i").to_pylist() for o, n in windows]  # type: ignore[arg-type]
    monkeypatch.setattr(_windows, "_TOP_RANKS", 0)
    ranked = [table.window(o, n, sort=sort).column("i").to_pylist() for o, n in windows]  # type: ignore[arg-type]
    table.close()
    assert near_top == ranked == [expected[o : o + n] for o, n in windows]


# -- aggregates --------------------------------------------------------------------------------


def _timed_table(tmp_path: Path, rows: list[dict[str, Any]]) -> wnb.StreamTable:
    table = wnb.StreamTable("agg", root=tmp_path, flush_interval=60)
    half = len(rows) // 2
    table.log(rows[:half])
    table.flush()
    table.log(rows[half:])  # half on disk, half in memory
    return table


def test_aggregate_bucket_edges(tmp_path: Path) -> None:
    offsets = [0, 59.999, 60, 61, 119.5, 180, 239.999999]
    rows = [
        {"_timestamp": T0 + dt.timedelta(seconds=s), "v": float(i)} for i, s in enumerate(offsets)
    ]
    table = _timed_table(tmp_path, rows)
    result = table.aggregate(["count", "sum"], column="v", every="1min")
    table.close()
    assert result.column("bucket").to_pylist() == [T0 + dt.timedelta(minutes=m) for m in (0, 1, 3)]
    assert result.column("count").to_pylist() == [2, 3, 2]
    assert result.column("sum").to_pylist() == [0.0 + 1.0, 2.0 + 3.0 + 4.0, 5.0 + 6.0]
    assert result.schema.field("bucket").type == pa.timestamp("us", tz="UTC")
    assert float(result.schema.metadata[b"every_seconds"]) == 60.0


def test_aggregate_percentiles_match_numpy(tmp_path: Path) -> None:
    rng = np.random.default_rng(7)
    rows = []
    for minute in range(5):
        for j in range(37 + minute * 11):
            rows.append(
                {
                    "_timestamp": T0 + dt.timedelta(minutes=minute, seconds=float(j % 60)),
                    "latency": float(rng.lognormal(3, 1)),
                    "status": "error" if rng.random() < 0.2 else "ok",
                }
            )
    rows = [
        dict(r, _timestamp=T0 + dt.timedelta(minutes=i * 5 // len(rows)))
        for i, r in enumerate(rows)
    ]
    table = _timed_table(tmp_path, rows)
    stats = ["count", "mean", "min", "max", "sum", "stddev", "p50", "p90", "p95", "p99"]
    result = table.aggregate(stats, column="latency", every=dt.timedelta(minutes=1))
    rate = table.aggregate(
        ["mean"], column="CASE WHEN status = 'error' THEN 1.0 ELSE 0.0 END", every="1min"
    )
    table.close()
    assert result.num_rows == 5
    for b, bucket in enumerate(result.column("bucket").to_pylist()):
        values = np.array([r["latency"] for r in rows if r["_timestamp"] == bucket])
        got = {s: result.column(s)[b].as_py() for s in stats}
        assert got["count"] == len(values)
        assert got["mean"] == pytest.approx(values.mean())
        assert got["min"] == values.min()
        assert got["max"] == values.max()
        assert got["sum"] == pytest.approx(values.sum())
        assert got["stddev"] == pytest.approx(values.std(ddof=1))
        for name, q in [("p50", 50), ("p90", 90), ("p95", 95), ("p99", 99)]:
            assert got[name] == pytest.approx(np.percentile(values, q, method="linear"))
        errors = [r["status"] == "error" for r in rows if r["_timestamp"] == bucket]
        assert rate.column("mean")[b].as_py() == pytest.approx(np.mean(errors))


def test_aggregate_group_by_filter_start_end(tmp_path: Path) -> None:
    rows: list[dict[str, Any]] = [
        {"_timestamp": T0 + dt.timedelta(minutes=m), "model": model, "v": m * 10 + k}
        for m in range(6)
        for k, model in enumerate(["a", "b", "b"])
    ]
    table = _timed_table(tmp_path, rows)
    grouped = table.aggregate(["count", "max"], column="v", every="2min", group_by="model")
    assert grouped.column_names == ["bucket", "model", "count", "max"]
    got = list(zip(*(grouped.column(c).to_pylist() for c in grouped.column_names), strict=True))
    expected = []
    for start in (0, 2, 4):
        bucket = T0 + dt.timedelta(minutes=start)
        expected.append((bucket, "a", 2, (start + 1) * 10))
        expected.append((bucket, "b", 4, (start + 1) * 10 + 2))
    assert got == expected

    filtered = table.aggregate(["count"], every="1min", filter="model = 'b' AND v % 2 = 0")
    assert sum(filtered.column("count").to_pylist()) == sum(
        1 for r in rows if r["model"] == "b" and r["v"] % 2 == 0
    )

    window = table.aggregate(
        ["count"],
        every="1min",
        start=T0 + dt.timedelta(minutes=1),
        end=T0 + dt.timedelta(minutes=3),
    )
    table.close()
    assert window.column("bucket").to_pylist() == [T0 + dt.timedelta(minutes=m) for m in (1, 2)]
    assert window.column("count").to_pylist() == [3, 3]


@pytest.mark.parametrize(
    ("every", "seconds"),
    [
        ("500ms", 0.5),
        ("30s", 30),
        ("5min", 300),
        ("5m", 300),
        ("1h", 3600),
        ("1d", 86400),
        ("2w", 14 * 86400),
        (" 10 sec ", 10),
        ("1.5h", 5400),
    ],
)
def test_every_strings(tmp_path: Path, every: str, seconds: float) -> None:
    assert wnb.query.parse_every(every) == dt.timedelta(seconds=seconds)
    with wnb.StreamTable("every", root=tmp_path) as table:
        table.log({"_timestamp": T0, "v": 1})
        result = table.aggregate(["count"], every=every)
    assert float(result.schema.metadata[b"every_seconds"]) == seconds
    assert result.column("count").to_pylist() == [1]


@pytest.mark.parametrize("every", ["", "5", "5 parsecs", "-1h", "h"])
def test_bad_every_strings(tmp_path: Path, every: str) -> None:
    with wnb.StreamTable("every", root=tmp_path) as table:
        table.log({"v": 1})
        with pytest.raises(ValueError, match="bucket width"):
            table.aggregate(["count"], every=every)


@pytest.mark.parametrize(
    ("span", "width"),
    [
        (dt.timedelta(seconds=30), 1),
        (dt.timedelta(minutes=10), 10),
        (dt.timedelta(hours=2), 120),
        (dt.timedelta(days=3), 3600 * 2),
        (dt.timedelta(days=900), 30 * 86400),
    ],
)
def test_auto_bucket_width(tmp_path: Path, span: dt.timedelta, width: float) -> None:
    with wnb.StreamTable("auto", root=tmp_path) as table:
        table.log([{"_timestamp": T0}, {"_timestamp": T0 + span}])
        result = table.aggregate()
    every = float(result.schema.metadata[b"every_seconds"])
    assert every == width
    assert span.total_seconds() / every <= 60
    assert sum(result.column("count").to_pylist()) == 2


def test_aggregate_errors(tmp_path: Path) -> None:
    with wnb.StreamTable("aggerr", root=tmp_path) as table:
        table.log({"v": 1})
        with pytest.raises(ValueError, match="unknown statistic"):
            table.aggregate(["median"], column="v")
        with pytest.raises(ValueError, match="column="):
            table.aggregate(["mean"])
        with pytest.raises(ValueError, match="positive"):
            table.aggregate(["count"], every=dt.timedelta(0))
        with pytest.raises(ValueError, match="query failed"):
            table.aggregate(["mean"], column="nope")
        empty = table.aggregate(["count"], filter="v > 100")
        assert empty.num_rows == 0


# -- annotations ---------------------------------------------------------------------------


def test_annotations_latest_wins_none_clears_history_kept(tmp_path: Path) -> None:
    with wnb.StreamTable("ann", root=tmp_path) as table:
        table.log([{"_id": f"r{i}", "v": i} for i in range(4)])
        table.annotate("r1", {"label": "cat", "score": 1})
        table.flush()
        table.annotate("r1", {"label": "dog"})
        table.annotate("r2", {"note": "check", "score": 0.5})
        table.annotate("r2", {"note": None})
        merged = table.to_arrow()
        history = table.annotations()
    assert merged.column("_id").to_pylist() == ["r0", "r1", "r2", "r3"]
    assert merged.column("label").to_pylist() == [None, "dog", None, None]
    assert merged.column("score").to_pylist() == [None, 1.0, 0.5, None]
    assert merged.column("note").to_pylist() == [None, None, None, None]
    assert history.num_rows == 4
    assert history.column("_target_id").to_pylist() == ["r1", "r1", "r2", "r2"]
    assert history.column("_fields").to_pylist() == [
        ["label", "score"],
        ["label"],
        ["note", "score"],
        ["note"],
    ]
    assert history.column("label").to_pylist() == ["cat", "dog", None, None]
    stamps = history.column("_timestamp").to_pylist()
    assert stamps == sorted(stamps)

    reopened = wnb.open_table("ann", root=tmp_path)
    assert reopened.to_arrow().equals(merged)
    assert reopened.annotations().num_rows == 4


def test_annotations_on_unflushed_rows_and_int_ids(tmp_path: Path) -> None:
    table = wnb.StreamTable("annmem", root=tmp_path, flush_interval=60)
    table.log([{"_id": 1, "v": "a"}, {"_id": 2, "v": "b"}])
    table.annotate(2, {"feedback": "👍"})
    assert table.to_arrow().column("feedback").to_pylist() == [None, "👍"]
    assert table.window(0, 10, filter="feedback = '👍'").column("v").to_pylist() == ["b"]
    table.close()
    assert wnb.open_table("annmem", root=tmp_path).to_arrow()["feedback"].to_pylist() == [
        None,
        "👍",
    ]


def test_annotation_fields_in_filter_sort_and_windows(tmp_path: Path) -> None:
    with wnb.StreamTable("annq", root=tmp_path, flush_interval=60) as table:
        table.log([{"_id": f"r{i}", "v": i, "label": "orig"} for i in range(10)])
        table.flush()
        for i in (7, 2, 5):
            table.annotate(f"r{i}", {"rating": 10 - i})
        table.annotate("r3", {"label": "fixed"})
        assert table.count("rating IS NOT NULL") == 3
        assert table.count("label = 'fixed'") == 1
        assert table.count("label = 'orig'") == 9
        by_rating = table.window(0, 5, sort=[("rating", "desc")])
        assert by_rating.column("v").to_pylist() == [2, 5, 7, 0, 1]
        assert by_rating.column("rating").to_pylist() == [8, 5, 3, None, None]
        filtered = table.window(0, 10, filter="rating > 4", sort=[("rating", "asc")])
        assert filtered.column("v").to_pylist() == [5, 2]
        plain = table.window(2, 3)
        assert plain.column("label").to_pylist() == ["orig", "fixed", "orig"]
        assert plain.column("rating").to_pylist() == [8, None, None]
        sql = table.sql("SELECT _id FROM t WHERE label = 'fixed'")
        assert sql.column("_id").to_pylist() == ["r3"]
        by_label = table.window(0, 2, sort=[("label", "asc")]).column("v").to_pylist()
        assert by_label == [3, 0]


def test_annotation_type_conflict_with_row_column(tmp_path: Path) -> None:
    with wnb.StreamTable("anntype", root=tmp_path) as table:
        table.log([{"_id": "a", "score": 1}, {"_id": "b", "score": 2}])
        table.annotate("a", {"score": "great"})
        merged = table.to_arrow()
        assert merged.column("score").to_pylist() == ["great", "2"]
        assert table.count("score = 'great'") == 1


@pytest.mark.parametrize("sort", [[("xs", "asc")], [("xs", "desc"), ("v", "asc")]])
def test_sorting_by_an_unsortable_column_names_it(tmp_path: Path, sort: Any) -> None:
    with wnb.StreamTable("unsortable", root=tmp_path) as table:
        table.log([{"xs": [1, 2], "v": 1}, {"xs": [0], "v": 2}])
        with pytest.raises(ValueError, match=r"cannot sort by .*'xs'"):
            table.window(0, 10, sort=sort)


def test_conflict_column_is_filterable_and_sortable_as_text(tmp_path: Path) -> None:
    with wnb.StreamTable("conflict", root=tmp_path, flush_interval=60) as table:
        table.log({"v": "a", "n": 1})
        table.flush()
        table.log({"v": {"k": 1}, "n": 2})
        table.flush()
        table.log({"v": [1, 2], "n": 3})  # still in memory
        assert table.window(0, 10, filter="v LIKE '%k%'").column("n").to_pylist() == [2]
        assert table.count("v = 'a'") == 1
        by_v = table.window(0, 10, sort=[("v", "desc")]).column("v").to_pylist()
        assert by_v == ['{"k": 1}', "a", "[1, 2]"]
        assert table.sql("SELECT v FROM t ORDER BY n").column("v").to_pylist() == [
            "a",
            '{"k": 1}',
            "[1, 2]",
        ]


def test_aggregate_of_an_empty_table(tmp_path: Path) -> None:
    with wnb.StreamTable("emptyagg", root=tmp_path) as table:
        result = table.aggregate(["count", "p50"], column="1.0")
    assert result.num_rows == 0
    assert result.column_names == ["bucket", "count", "p50"]
