"""t.drift(): statistics equal scipy's, columns and windows resolved, bad input refused."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import stats

import weave_nb as wnb
from weave_nb.quality import Thresholds, drift
from weave_nb.quality._tests import PSI_EPSILON, psi

T0 = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)


def _at(i: int) -> dt.datetime:
    return T0 + dt.timedelta(seconds=i)


def _memory_table(
    reference: list[object], current: list[object], column: str = "x"
) -> wnb.StreamTable:
    t = wnb.StreamTable("drift", persist=False)
    values = [*reference, *current]
    t.log([{"_timestamp": _at(i), column: v} for i, v in enumerate(values)])
    t.flush()
    return t


def _split(n_reference: int) -> tuple[dt.datetime | None, dt.datetime]:
    return (None, _at(n_reference))


finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, width=32)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    reference=st.lists(finite | st.integers(-3, 3).map(float), min_size=1, max_size=60),
    current=st.lists(finite | st.integers(-3, 3).map(float), min_size=1, max_size=60),
)
def test_ks_equals_scipy_asymptotic(reference: list[float], current: list[float]) -> None:
    with _memory_table(reference, current) as t:
        row = drift(t, _split(len(reference)), columns=["x"]).iloc[0]
    expected = stats.ks_2samp(reference, current, method="asymp")
    assert row["method"] == "ks"
    assert row["statistic"] == pytest.approx(expected.statistic, rel=1e-12, abs=1e-15)
    assert row["p_value"] == pytest.approx(expected.pvalue, rel=1e-9, abs=1e-300, nan_ok=True)


def test_ks_equals_scipy_default_on_large_windows() -> None:
    rng = np.random.default_rng(1)
    reference, current = rng.normal(0, 1, 12_000), rng.normal(0.03, 1, 11_000)
    with _memory_table(list(reference), list(current)) as t:
        row = drift(t, _split(len(reference)), columns=["x"]).iloc[0]
    expected = stats.ks_2samp(reference, current)  # method="auto" is asymptotic above 10,000
    assert row["statistic"] == pytest.approx(expected.statistic, rel=1e-12)
    assert row["p_value"] == pytest.approx(expected.pvalue, rel=1e-9)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    reference=st.lists(st.sampled_from("abcd"), min_size=1, max_size=80),
    current=st.lists(st.sampled_from("abcde"), min_size=1, max_size=80),
)
def test_chi_square_equals_scipy(reference: list[str], current: list[str]) -> None:
    with _memory_table(reference, current, column="label") as t:
        row = drift(t, _split(len(reference)), columns=["label"]).iloc[0]
    categories = sorted(set(reference) | set(current))
    table = [[reference.count(c) for c in categories], [current.count(c) for c in categories]]
    assert row["kind"] == "categorical"
    if len(categories) == 1:
        assert (row["statistic"], row["p_value"]) == (0.0, 1.0)
        return
    expected = stats.chi2_contingency(table)
    assert row["statistic"] == pytest.approx(expected.statistic, rel=1e-9, abs=1e-12)
    assert row["p_value"] == pytest.approx(expected.pvalue, rel=1e-9, abs=1e-300, nan_ok=True)


def test_psi_of_categories_with_an_unseen_one() -> None:
    reference, current = ["a"] * 50 + ["b"] * 50, ["a"] * 40 + ["b"] * 40 + ["c"] * 20
    with _memory_table(reference, current, column="label") as t:
        row = drift(t, _split(100), columns=["label"]).iloc[0]
    r, c = np.array([0.5, 0.5, PSI_EPSILON]), np.array([0.4, 0.4, 0.2])
    assert row["psi"] == pytest.approx(float(((c - r) * np.log(c / r)).sum()))


def test_psi_over_reference_deciles() -> None:
    reference = [float(i) for i in range(100)]  # deciles 0-9, 10-19, ...
    current = [float(i) for i in range(50, 150)]  # half in the top deciles, half above
    with _memory_table(reference, current) as t:
        row = drift(t, _split(100), columns=["x"]).iloc[0]
    # Ten deciles, a bin above the reference's maximum, and the nulls' bin.
    expected = psi([10] * 10 + [0, 0], [0] * 5 + [10] * 5 + [50, 0])
    assert row["psi"] == pytest.approx(expected)
    assert row["drifted"]


def test_nulls_are_counted_and_drift_by_their_share() -> None:
    reference = [1.0, 2.0, 3.0, 4.0] * 25
    current = [1.0, 2.0, None, None] * 25
    with _memory_table(reference, current) as t:
        row = drift(t, _split(100), columns=["x"]).iloc[0]
    assert (row["reference_rows"], row["current_rows"]) == (100, 100)
    assert (row["reference_nulls"], row["current_nulls"]) == (0, 50)
    assert row["psi"] > 0.25


def test_default_columns_walk_nested_fields_and_skip_ids_and_times(tmp_path: Path) -> None:
    with wnb.StreamTable("calls", root=tmp_path) as t:
        t.log(
            [
                {
                    "_timestamp": _at(i),
                    "request_id": f"r{i}",
                    "inputs": {"question_len": i % 97 + (i >= 300) * 40, "lang": "en"},
                    "output": {"score": (i % 89) / 89, "ok": i % 2 == 0},
                    "status": "success",
                    "start_time": _at(i),
                    "note": f"free text {i}",
                }
                for i in range(600)
            ]
        )
        t.flush()
        result = drift(t, _split(300))
    kinds = dict(zip(result["column"], result["kind"], strict=True))
    assert kinds == {
        "inputs.question_len": "numeric",
        "inputs.lang": "categorical",
        "output.score": "numeric",
        "output.ok": "categorical",
        "status": "categorical",
    }
    drifted = set(result.loc[result["drifted"], "column"])
    assert drifted == {"inputs.question_len"}


def test_low_cardinality_integers_are_categories() -> None:
    with _memory_table([i % 10 for i in range(100)], [i % 3 for i in range(100)], "digit") as t:
        row = drift(t, _split(100), columns=["digit"]).iloc[0]
    assert (row["kind"], row["method"], row["drifted"]) == ("categorical", "chi2", True)


def test_windows_as_filters_and_thresholds() -> None:
    with _memory_table([0.0] * 50, [0.1] * 50) as t:
        t.log([{"_timestamp": _at(200 + i), "x": 0.0, "model": "b"} for i in range(50)])
        result = drift(t, "model IS NULL AND x = 0", "x > 0.05", ["x"])
        assert result.iloc[0]["reference_rows"] == 50
        assert result.iloc[0]["current_rows"] == 50
        lenient = drift(t, "x = 0", "x > 0.05", ["x"], thresholds=Thresholds(psi=100.0))
        assert not lenient.iloc[0]["drifted"]


def test_image_columns_compare_brightness_and_size() -> None:
    dark = [wnb.Image(np.full((8, 8, 3), 20 + i % 5, np.uint8)) for i in range(60)]
    light = [wnb.Image(np.full((8, 12, 3), 200 + i % 5, np.uint8)) for i in range(60)]
    with _memory_table(dark, light, column="img") as t:
        result = drift(t, _split(60)).set_index("column")
    assert set(result.index) == {"img.width", "img.height", "img.brightness"}
    assert set(result["kind"]) == {"image"}
    assert result.loc["img.brightness", "drifted"]
    assert result.loc["img.width", "drifted"]
    assert not result.loc["img.height", "drifted"]


@pytest.mark.parametrize(
    ("reference", "current", "columns", "message"),
    [
        ((None, _at(50)), None, ["nope"], "no column 'nope'"),
        ((None, _at(50)), None, ["inputs.nope"], "no column 'inputs.nope'"),
        ((_at(10_000), None), "x > 0", None, "reference window .* has no rows"),
        ((None, _at(50)), "x >>> 1", None, "current window 'x >>> 1' is not a valid condition"),
        ("no_such_column = 1", None, None, "reference window .* not a valid condition"),
        ([1, 2], None, None, "reference window must be a .start, end. pair"),
        ((None, _at(50)), None, ["mixed"], "column 'mixed' mixes types"),
    ],
)
def test_bad_input_names_the_problem(
    reference: object, current: object, columns: list[str] | None, message: str
) -> None:
    with wnb.StreamTable("bad", persist=False) as t:
        t.log(
            [
                {"_timestamp": _at(i), "x": float(i), "inputs": {"a": i}, "mixed": i}
                for i in range(100)
            ]
        )
        t.log({"_timestamp": _at(100), "x": 1.0, "mixed": "many"})
        t.flush()
        with pytest.raises(ValueError, match=message):
            drift(t, reference, current, columns)  # type: ignore[arg-type]


def test_an_embedding_column_compares_distances_to_the_reference_mean() -> None:
    rng = np.random.default_rng(5)
    near = [list(v) for v in rng.normal([1.0, 0.0, 0.0], 0.1, (80, 3))]
    far = [list(v) for v in rng.normal([0.0, 1.0, 0.0], 0.1, (80, 3))]
    with _memory_table(near, far, column="emb") as t:
        row = drift(t, _split(80), columns=["emb"]).iloc[0]
        assert "emb" not in set(drift(t, _split(80))["column"])  # named only
    assert (row["kind"], row["method"], row["drifted"]) == ("embedding", "ks (cosine)", True)
    centre = np.mean(near, axis=0)

    def distance(v: list[float]) -> float:
        return float(1 - np.dot(v, centre) / np.linalg.norm(v) / np.linalg.norm(centre))

    expected = stats.ks_2samp([distance(v) for v in near], [distance(v) for v in far])
    assert row["statistic"] == pytest.approx(expected.statistic)
