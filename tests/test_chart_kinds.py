"""Aggregations and selections of every chart kind, against the real StreamTable."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import altair as alt
import numpy as np
import pandas as pd
import pytest
import vl_convert

from weave_nb.charts import (
    DATA_NAME,
    Counts,
    Custom,
    ErrorRate,
    Feedback,
    Histogram,
    Latency,
    Mean,
    Scope,
    Volume,
    make_kind,
)
from weave_nb.charts._spec import BAD, GOOD, NEUTRAL, palette, time_axis
from weave_nb.charts.distribution import nice_step
from weave_nb.charts.export import static_spec
from weave_nb.store import StreamTable

T0 = dt.datetime(2026, 1, 5, 12, 0, tzinfo=dt.timezone.utc)


def at(seconds: float) -> dt.datetime:
    return T0 + dt.timedelta(seconds=seconds)


def ms(moment: dt.datetime) -> float:
    return moment.timestamp() * 1000


def rows_by(rows: list[dict[str, Any]], *keys: str) -> dict[tuple[Any, ...], dict[str, Any]]:
    return {tuple(row[k] for k in keys): row for row in rows}


# -- time buckets -------------------------------------------------------------------


def test_volume_bucket_edges_are_half_open(table: StreamTable) -> None:
    table.log(
        [
            {"_timestamp": at(0), "x": 1},
            {"_timestamp": at(59.999), "x": 1},
            {"_timestamp": at(60), "x": 1},
            {"_timestamp": at(179), "x": 1},
        ]
    )
    rows = Volume(every="1min").render(table, Scope()).rows
    assert [(r["bucket"], r["bucket_end"], r["value"]) for r in rows] == [
        (ms(at(0)), ms(at(60)), 2),
        (ms(at(60)), ms(at(120)), 1),
        (ms(at(120)), ms(at(180)), 1),
    ]


def test_buckets_adapt_to_the_span_of_the_data(table: StreamTable) -> None:
    table.log([{"_timestamp": at(s), "x": 1} for s in range(0, 7200, 7)])
    rows = Volume().render(table, Scope()).rows
    widths = {r["bucket_end"] - r["bucket"] for r in rows}
    assert widths == {120_000}  # 2 hours in at most 60 "nice" buckets: 2 minutes each
    assert len(rows) == 60
    assert sum(r["value"] for r in rows) == len(table)


def test_volume_grouped_counts_each_group(table: StreamTable) -> None:
    table.log([{"_timestamp": at(i), "model": f"v{i % 3}"} for i in range(30)])
    rows = Volume(every="1h", group_by="model").render(table, Scope()).rows
    assert {r["group"]: r["value"] for r in rows} == {"v0": 10, "v1": 10, "v2": 10}


def test_latency_percentiles_match_numpy_per_bucket(table: StreamTable) -> None:
    rng = np.random.default_rng(7)
    latencies = rng.lognormal(3, 1, size=400)
    table.log(
        [{"_timestamp": at(i * 0.5), "latency_ms": float(v)} for i, v in enumerate(latencies)]
    )
    rows = Latency(every="1min").render(table, Scope()).rows
    got = rows_by(rows, "bucket", "series")
    for start in range(0, 200, 60):
        part = latencies[start * 2 : (start + 60) * 2]
        for p in (50, 95, 99):
            expected = np.percentile(part, p)  # linear interpolation, as quantile_cont
            assert got[(ms(at(start)), f"p{p}")]["value"] == pytest.approx(expected)


def test_latency_grouped_has_a_line_per_group_and_percentile(table: StreamTable) -> None:
    table.log(
        [
            {"_timestamp": at(i), "latency_ms": float(i), "model": "a" if i < 10 else "b"}
            for i in range(20)
        ]
    )
    rows = Latency(every="1h", percentiles=(50,), group_by="model").render(table, Scope()).rows
    assert {(r["group"], r["series"]): r["value"] for r in rows} == {
        ("a", "p50"): 4.5,
        ("b", "p50"): 14.5,
    }


def test_latency_rejects_unknown_percentiles() -> None:
    with pytest.raises(ValueError, match="percentiles"):
        Latency(percentiles=(50, 75))


def test_error_rate_from_status_and_its_selection(table: StreamTable) -> None:
    statuses = ["error" if i % 4 == 0 else "success" for i in range(40)]
    table.log([{"_timestamp": at(i * 3), "status": s} for i, s in enumerate(statuses)])
    kind = ErrorRate(every="1min")
    rows = kind.render(table, Scope()).rows
    assert [(r["errors"], r["rows"], r["value"]) for r in rows] == [(5, 20, 0.25), (5, 20, 0.25)]
    selection = kind.select(rows[1])
    assert selection is not None
    picked = table.window(0, 100, filter=selection.filter)
    assert picked.num_rows == 5
    assert set(picked.column("status").to_pylist()) == {"error"}
    assert min(picked.column("_timestamp").to_pylist()) >= at(60)


def test_error_rate_falls_back_to_exception_then_needs_a_condition(
    table: StreamTable, tmp_path: Path
) -> None:
    table.log([{"exception": {"type": "KeyError"}}, {"exception": None}, {"exception": None}])
    rows = ErrorRate(every="1h").render(table, Scope()).rows
    assert rows[0]["value"] == pytest.approx(1 / 3)
    with StreamTable("plain", root=tmp_path) as plain:
        plain.log({"x": 1})
        with pytest.raises(ValueError, match="'status' or 'exception'"):
            ErrorRate().render(plain, Scope())
        custom = ErrorRate(every="1h", error="x > 0").render(plain, Scope()).rows
        assert custom[0]["value"] == 1.0


def test_error_rate_grouped(table: StreamTable) -> None:
    table.log(
        [
            {"status": "error" if m == "b" else "success", "model": m}
            for m in ["a", "a", "b", "b", "b"]
        ]
    )
    rows = ErrorRate(every="1h", group_by="model").render(table, Scope()).rows
    assert {r["group"]: r["value"] for r in rows} == {"a": 0.0, "b": 1.0}


def test_mean_over_time_ignores_nulls_and_takes_expressions(table: StreamTable) -> None:
    table.log(
        [{"score": 1.0}, {"score": None}, {"score": 3.0}, {"label": "right"}, {"label": "wrong"}]
    )
    assert Mean("score", every="1h").render(table, Scope()).rows[0]["value"] == 2.0
    accuracy = "CASE WHEN label = 'right' THEN 1.0 WHEN label = 'wrong' THEN 0.0 END"
    assert Mean(accuracy, every="1h").render(table, Scope()).rows[0]["value"] == 0.5


def test_grouping_by_a_missing_column_says_so(table: StreamTable) -> None:
    table.log({"x": 1})
    with pytest.raises(ValueError, match="no column 'thumbs'"):
        Volume(group_by="thumbs").render(table, Scope())


def test_time_selection_matches_the_clicked_bucket_and_group(table: StreamTable) -> None:
    table.log([{"_timestamp": at(i * 10), "model": f"v{i % 2}"} for i in range(18)])
    kind = Volume(every="1min", group_by="model")
    rows = kind.render(table, Scope()).rows
    for row in rows:
        selection = kind.select(row)
        assert selection is not None
        assert table.count(selection.filter) == row["value"]
        assert f"model = {row['group']}" in selection.label


def test_scope_filter_and_date_range_apply(table: StreamTable) -> None:
    table.log([{"_timestamp": at(i * 60), "x": i} for i in range(10)])
    scope = Scope(filter="x % 2 = 0", start=at(120), end=at(480))
    rows = Volume(every="1min").render(table, scope).rows
    assert [r["bucket"] for r in rows] == [ms(at(120)), ms(at(240)), ms(at(360))]


def test_relative_scope_slides_with_the_clock(table: StreamTable) -> None:
    now = dt.datetime.now(dt.timezone.utc)
    table.log([{"_timestamp": now - dt.timedelta(hours=2)}, {"_timestamp": now}])
    rows = Volume(every="1min").render(table, Scope(last=dt.timedelta(hours=1))).rows
    assert sum(r["value"] for r in rows) == 1


# -- distributions ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("span", "bins", "step"),
    [(100, 10, 10), (99, 10, 10), (101, 10, 20), (1, 30, 0.05), (0, 10, 1), (7_300, 30, 500)],
)
def test_nice_step(span: float, bins: int, step: float) -> None:
    assert nice_step(span, bins) == pytest.approx(step)


def test_histogram_bins_are_nice_and_half_open(table: StreamTable) -> None:
    table.log([{"v": float(i)} for i in range(100)] + [{"v": None}])
    kind = Histogram("v", bins=10)
    rows = kind.render(table, Scope()).rows
    assert [(r["bin_start"], r["bin_end"], r["count"]) for r in rows] == [
        (10.0 * k, 10.0 * (k + 1), 10) for k in range(10)
    ]
    table.log({"v": 100.0})  # exactly on an edge: opens the next bin
    rows = kind.render(table, Scope()).rows
    assert rows[-1]["bin_start"] == 100.0
    assert rows[-1]["count"] == 1


def test_histogram_grouped_and_selection(table: StreamTable) -> None:
    table.log([{"v": float(i % 10), "g": "a" if i < 50 else "b"} for i in range(100)])
    kind = Histogram("v", bins=5, group_by="g")
    rows = kind.render(table, Scope()).rows
    assert sum(r["count"] for r in rows if r["group"] == "a") == 50
    for row in rows:
        selection = kind.select(row)
        assert selection is not None
        assert table.count(selection.filter) == row["count"]


def test_histogram_of_an_empty_selection_is_empty(table: StreamTable) -> None:
    table.log({"v": 1.0})
    assert Histogram("v").render(table, Scope(filter="v > 5")).rows == []


def test_counts_top_values_in_order_with_selection(table: StreamTable) -> None:
    values = ["cat"] * 5 + ["dog"] * 3 + ["emu"] * 2 + ["fox"]
    table.log([{"animal": v} for v in values])
    kind = Counts("animal", top=3)
    rows = kind.render(table, Scope()).rows
    assert [(r["value"], r["count"]) for r in rows] == [("cat", 5), ("dog", 3), ("emu", 2)]
    selection = kind.select(rows[1])
    assert selection is not None
    assert table.count(selection.filter) == 3


def test_counts_grouped_keeps_the_overall_top_values(table: StreamTable) -> None:
    table.log(
        [{"animal": "cat", "g": "x"}] * 3
        + [{"animal": "cat", "g": "y"}]
        + [{"animal": "dog", "g": "y"}] * 2
        + [{"animal": "emu", "g": "x"}]
    )
    rows = Counts("animal", top=2, group_by="g").render(table, Scope()).rows
    assert {(r["value"], r["group"]): r["count"] for r in rows} == {
        ("cat", "x"): 3,
        ("cat", "y"): 1,
        ("dog", "y"): 2,
    }


# -- custom -------------------------------------------------------------------------


def points(df: pd.DataFrame) -> alt.Chart:
    chart: alt.Chart = alt.Chart(df).mark_point().encode(x="i:Q", y="v:Q")
    return chart


def test_custom_chart_sees_a_bounded_recent_slice(table: StreamTable) -> None:
    table.log([{"i": i, "v": float(i)} for i in range(50)])
    rendered = Custom(points, rows=10).render(table, Scope())
    assert rendered.spec["data"] == {"name": DATA_NAME}
    assert rendered.spec["width"] == "container"
    assert [r["i"] for r in rendered.rows] == list(range(40, 50))


def test_custom_chart_window_keeps_recent_rows_only(table: StreamTable) -> None:
    now = dt.datetime.now(dt.timezone.utc)
    table.log(
        [{"_timestamp": now - dt.timedelta(hours=3), "i": 0, "v": 0.0}]
        + [{"_timestamp": now, "i": i, "v": 1.0} for i in (1, 2)]
    )
    rendered = Custom(points, window="1h").render(table, Scope())
    assert [r["i"] for r in rendered.rows] == [1, 2]


def test_custom_chart_validation(table: StreamTable) -> None:
    with pytest.raises(ValueError, match="rows must be between"):
        Custom(points, rows=0)
    with pytest.raises(ValueError, match="cannot read"):
        Custom(points, window="soon")
    table.log({"i": 1, "v": 1.0})
    with pytest.raises(TypeError, match="must return an altair chart"):
        Custom(lambda df: df).render(table, Scope())  # type: ignore[arg-type,return-value]


def test_custom_chart_selects_a_row_by_id(table: StreamTable) -> None:
    table.log([{"_id": "r1", "i": 1, "v": 1.0}, {"_id": "r2", "i": 2, "v": 2.0}])
    selection = Custom(points).select({"_id": "r2"})
    assert selection is not None
    assert table.window(0, 10, filter=selection.filter).column("i").to_pylist() == [2]


# -- registry -----------------------------------------------------------------------


def test_make_kind_names_and_errors() -> None:
    assert isinstance(make_kind("error_rate"), ErrorRate)
    assert isinstance(make_kind("histogram", column="v"), Histogram)
    assert isinstance(make_kind(points, rows=5), Custom)
    assert make_kind("feedback", field="verdict").group_by == "verdict"  # type: ignore[attr-defined]
    with pytest.raises(ValueError, match="unknown chart kind 'pie'"):
        make_kind("pie")
    with pytest.raises(TypeError, match="chart kind 'volume'"):
        make_kind("volume", colour="red")
    with pytest.raises(TypeError, match="chart kind must be"):
        make_kind(42)


def test_specs_are_valid_vega_lite_over_the_named_source() -> None:
    kinds = [
        Volume(),
        Volume(group_by="g"),
        Latency(),
        Latency(group_by="g"),
        ErrorRate(),
        ErrorRate(group_by="g"),
        Mean("x"),
        Histogram("x"),
        Counts("x", group_by="g"),
        Feedback("thumbs"),
    ]
    for kind in kinds:
        spec = kind.spec()
        assert spec["data"] == {"name": DATA_NAME}
        assert spec["width"] == "container"
        assert spec["title"] == kind.title
        alt.Chart.from_dict(spec)  # schema validation


# -- look: time axes and colours -------------------------------------------------------


@pytest.mark.parametrize(
    ("every", "span", "label"),
    [
        (1, 3, "%H:%M:%S"),  # a few seconds of data: the clock to the second, never ".500"
        (2, 120, "%H:%M:%S"),
        (10, 600, "%H:%M"),
        (60, 3600, "%H:%M"),
        (1800, 86400, "%b %d %H:%M"),
        (3600 * 3, 7 * 86400, "%b %d"),
        (86400, 2 * 365 * 86400, "%Y-%m-%d"),
        (3600, 60, "%b %d %H:%M"),  # an explicit wide bucket: ticks no closer than a bucket
    ],
)
def test_time_axis_format_follows_bucket_width_and_span(every: int, span: int, label: str) -> None:
    axis = time_axis(dt.timedelta(seconds=every), dt.timedelta(seconds=span))
    assert axis.format == label
    # Ticks are never closer than the format can tell apart.
    assert axis.min_step_ms >= {"%H:%M:%S": 1000, "%H:%M": 60_000}.get(label, 3_600_000)


def x_axis(spec: dict[str, Any]) -> dict[str, Any]:
    axis: dict[str, Any] = spec["encoding"]["x"]["axis"]
    return axis


@pytest.mark.parametrize("kind", [Volume(), Latency("x"), ErrorRate(), Mean("x")])
def test_time_charts_label_their_axis_for_the_data_span(table: StreamTable, kind: Any) -> None:
    table.log([{"_timestamp": at(i * 0.25), "x": float(i), "status": "success"} for i in range(12)])
    seconds = kind.render(table, Scope())
    assert x_axis(seconds.spec)["format"] == "%H:%M:%S"
    assert x_axis(seconds.spec)["tickMinStep"] == 1000
    # In UTC, like the table's timestamps, whatever the browser's time zone.
    assert seconds.spec["encoding"]["x"]["scale"] == {"type": "utc"}
    tooltip_units = {t.get("timeUnit") for t in seconds.spec["encoding"]["tooltip"][:2]}
    assert tooltip_units == {"utcyearmonthdatehoursminutesseconds"}
    # Vega-Lite keeps the format when it compiles the spec (it drops unknown format types).
    vega = vl_convert.vegalite_to_vega(static_spec(seconds))
    assert "%H:%M:%S" in {axis.get("format") for axis in vega["axes"] if axis["scale"] == "x"}
    # Buckets are at least a second wide, whatever the span.
    assert {row["bucket_end"] - row["bucket"] for row in seconds.rows} == {1000.0}
    table.log({"_timestamp": at(3 * 3600), "x": 1.0, "status": "success"})
    hours = kind.render(table, Scope())
    assert x_axis(hours.spec)["format"] == "%H:%M"
    alt.Chart.from_dict(hours.spec)


def test_mean_leaves_out_buckets_without_values(table: StreamTable) -> None:
    table.log(
        [
            {"_timestamp": at(0), "label": "right"},
            {"_timestamp": at(1), "label": "wrong"},
            {"_timestamp": at(5), "label": None},
            {"_timestamp": at(9), "label": None},
        ]
    )
    accuracy = "CASE WHEN label = 'right' THEN 1.0 WHEN label = 'wrong' THEN 0.0 END"
    rows = Mean(accuracy, every="1s").render(table, Scope()).rows
    assert [(row["bucket"], row["value"]) for row in rows] == [(ms(at(0)), 1.0), (ms(at(1)), 0.0)]


def test_histogram_axis_starts_at_the_first_bin() -> None:
    # Vega-Lite pads bars by 5 px, which "nice" turns into a -20 on a 0-140 ms axis.
    assert Histogram("x").spec()["encoding"]["x"]["scale"] == {"padding": 0}


def test_mean_names_and_formats_its_value(table: StreamTable) -> None:
    table.log([{"_timestamp": at(0), "ok": 1.0}, {"_timestamp": at(1), "ok": 0.0}])
    spec = Mean("ok", label="accuracy", format=".0%").render(table, Scope()).spec
    assert spec["encoding"]["y"]["title"] == "accuracy"
    assert spec["encoding"]["y"]["axis"]["format"] == ".0%"
    assert spec["encoding"]["tooltip"][2] == {
        "field": "value",
        "type": "quantitative",
        "title": "accuracy",
        "format": ".0%",
    }
    assert Mean("ok").spec()["encoding"]["y"]["title"] == "mean ok"


def color_of(spec: dict[str, Any]) -> dict[str, str]:
    scale = spec["encoding"]["color"]["scale"]
    return dict(zip(scale["domain"], scale["range"], strict=True))


def test_outcomes_are_green_and_red_everywhere(table: StreamTable) -> None:
    table.log(
        [
            {"thumbs": "up", "status": "success", "verdict": "right", "model": "a", "x": 1.0},
            {"thumbs": "down", "status": "error", "verdict": "wrong", "model": "b", "x": 2.0},
            {"thumbs": "up", "status": "success", "verdict": "unsure", "model": "c", "x": 3.0},
        ]
    )
    for field in ("thumbs", "status", "verdict"):
        for kind in (Volume(group_by=field), Histogram("x", group_by=field)):
            colors = color_of(kind.render(table, Scope()).spec)
            good = {"thumbs": "up", "status": "success", "verdict": "right"}[field]
            bad = {"thumbs": "down", "status": "error", "verdict": "wrong"}[field]
            assert (colors[good], colors[bad]) == (GOOD, BAD)
    assert color_of(Counts("status").render(table, Scope()).spec) == {"success": GOOD, "error": BAD}
    # Neither good nor bad: neutral colours, never the outcome ones.
    neutral = color_of(Volume(group_by="model").render(table, Scope()).spec)
    assert not {GOOD, BAD} & set(neutral.values())
    assert len(set(neutral.values())) == 3
    assert color_of(Feedback("verdict").render(table, Scope()).spec)["unsure"] in NEUTRAL
    assert palette(["x", "up", "y"]) == [NEUTRAL[0], GOOD, NEUTRAL[1]]


def test_errors_are_red(table: StreamTable) -> None:
    table.log([{"status": "error", "exception": {"type": "ValueError"}}, {"status": "success"}])
    error_rate = ErrorRate().render(table, Scope()).spec
    assert error_rate["mark"]["color"] == BAD
    by_type = Counts("exception.type").render(table, Scope()).spec
    assert by_type["encoding"]["color"] == {"value": BAD}


def test_feedback_without_the_field_yet_is_an_empty_state(table: StreamTable) -> None:
    table.log([{"x": 1.0}, {"x": 2.0}])
    kind = Feedback("thumbs", empty_text="No feedback yet")
    empty = kind.render(table, Scope())
    assert (empty.rows, empty.empty) == ([], "No feedback yet")
    first = table.window(0, 1).column("_id")[0].as_py()
    table.annotate(first, {"thumbs": "up"})
    table.flush()
    drawn = kind.render(table, Scope())
    assert drawn.empty == ""
    assert [(row["group"], row["value"]) for row in drawn.rows] == [("up", 1.0)]
    assert color_of(drawn.spec) == {"up": GOOD}
