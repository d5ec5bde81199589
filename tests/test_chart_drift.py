"""Chart kinds drift, compare and quality: what they compute, and that they draw."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterator

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import weave_nb as wnb
from weave_nb.charts import KINDS, Scope, make_kind
from weave_nb.charts._outcomes import good_rate_sql
from weave_nb.quality import drift
from weave_nb.quality._numeric import _grouped_bins, reference_bins

T0 = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)
HALF = (None, T0 + dt.timedelta(seconds=1000))


@pytest.fixture
def drifting() -> Iterator[wnb.StreamTable]:
    """2,000 rows a second apart; x shifts and a new category appears after 1,000 s."""
    rng = np.random.default_rng(3)
    with wnb.StreamTable("drifting", persist=False) as t:
        t.log(
            [
                {
                    "_timestamp": T0 + dt.timedelta(seconds=i),
                    "x": float(rng.normal(0.0 if i < 1000 else 1.0)),
                    "color": "rgb"[i % 3] if i < 1000 else "rgby"[i % 4],
                    "thumbs": "up" if i % 4 else ("down" if i < 1000 else None),
                }
                for i in range(2000)
            ]
        )
        t.flush()
        yield t


def test_kinds_are_registered() -> None:
    assert {"drift", "compare", "quality"} <= set(KINDS)


def test_drift_per_bucket_equals_drift_over_the_same_rows(drifting: wnb.StreamTable) -> None:
    kind = make_kind("drift", column=["x", "color"], reference=HALF, every="2000s")
    rows = kind.render(drifting, Scope(start=HALF[1])).rows
    expected = drift(drifting, HALF, columns=["x", "color"]).set_index("column")["psi"]
    assert {r["series"]: r["value"] for r in rows} == pytest.approx(expected.to_dict())
    assert {r["rows"] for r in rows} == {1000}


def test_drift_over_time_rises_after_the_shift(drifting: wnb.StreamTable) -> None:
    rendered = make_kind("drift", column="x", reference=HALF).render(drifting, Scope())
    shift = HALF[1].timestamp() * 1000  # epoch ms, as the rows carry times
    before = [r["value"] for r in rendered.rows if r["bucket_end"] <= shift]
    after = [r["value"] for r in rendered.rows if r["bucket"] >= shift]
    assert len(before) > 1
    assert len(after) > 1
    assert max(before) < 0.25 < min(after)  # noise stays under "large drift", the shift not
    layers = rendered.spec["layer"]
    assert layers[1]["encoding"]["y"]["datum"] == 0.1  # the threshold is drawn


def test_compare_numeric_shares_per_window(drifting: wnb.StreamTable) -> None:
    rows = make_kind("compare", column="x", reference=HALF).render(drifting, Scope()).rows
    for window in ("reference", "current"):
        shares = [r["share"] for r in rows if r["window"] == window]
        assert sum(shares) == pytest.approx(1.0)
    assert all(r["bin_end"] > r["bin_start"] for r in rows)


def test_compare_categories_show_the_unseen_one(drifting: wnb.StreamTable) -> None:
    rows = make_kind("compare", column="color", reference=HALF).render(drifting, Scope()).rows
    shares = {(r["window"], r["value"]): r["share"] for r in rows}
    assert ("reference", "y") not in shares
    assert shares[("current", "y")] == pytest.approx(0.25)


def test_compare_refuses_an_unknown_column(drifting: wnb.StreamTable) -> None:
    with pytest.raises(ValueError, match="no column 'nope'"):
        make_kind("compare", column="nope", reference=HALF).render(drifting, Scope())


def test_quality_rate_per_bucket(drifting: wnb.StreamTable) -> None:
    kind = make_kind("quality", field="thumbs", every="1h")  # one bucket per half
    before = kind.render(drifting, Scope(end=HALF[1])).rows
    after = kind.render(drifting, Scope(start=HALF[1])).rows
    assert [r["value"] for r in before + after] == pytest.approx([0.75, 1.0])
    # The same rate from aggregate(), as a user would compute it.
    by_hand = drifting.aggregate(
        ["mean"], column=good_rate_sql('"thumbs"'), every="1h", end=HALF[1]
    )
    assert by_hand.column("mean").to_pylist() == pytest.approx([0.75])


def test_quality_before_any_feedback_says_so() -> None:
    with wnb.StreamTable("quiet", persist=False) as t:
        t.log({"x": 1})
        rendered = make_kind("quality", field="thumbs").render(t, Scope())
    assert rendered.rows == []
    assert rendered.empty == "No thumbs yet"


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    values=st.lists(
        st.none() | st.integers(-5, 5).map(float) | st.floats(-1e3, 1e3, allow_nan=False),
        min_size=1,
        max_size=300,
    )
)
def test_reference_bins_by_selection_equal_the_grouped_ones(values: list[float | None]) -> None:
    """The fast bins (quantile_disc, checked by counting) are the exact grouped bins."""
    with wnb.StreamTable("bins", persist=False) as t:
        t.log([{"x": v} for v in values])
        t.flush()
        fast = reference_bins(t.sql, '"x"', "TRUE")
        grouped = _grouped_bins(t.sql, '"x"', "TRUE")
    assert fast.numbers == grouped.numbers
    assert fast.lows == grouped.lows
    assert fast.counts == grouped.counts
    assert fast.high == grouped.high or (math.isnan(fast.high) and math.isnan(grouped.high))


def test_reference_bins_take_the_fast_path(
    drifting: wnb.StreamTable, monkeypatch: pytest.MonkeyPatch
) -> None:
    """quantile_disc's rounding is aimed at, so the grouped fallback is not needed."""

    def fail(*_: object) -> None:
        raise AssertionError("fell back to grouping the reference")

    monkeypatch.setattr("weave_nb.quality._numeric._grouped_bins", fail)
    bins = reference_bins(drifting.sql, '"x"', f"_timestamp < TIMESTAMPTZ '{HALF[1].isoformat()}'")
    assert sum(bins.counts.values()) == 1000
