"""Drift benchmarks: ``t.drift()`` and one drift chart update, beside hand-written DuckDB.

Run: ``python tests/benchmarks/bench_drift.py`` (``--rows N`` to shrink the table; default
10M rows: 10 numeric and 5 categorical columns, the second half shifted). Each figure is
the median of 3 runs, beside DuckDB running the same statistics over the same Parquet
files directly (``read_parquet``), measured in the same run: compare the ratios.

The hand-written queries compute what drift() reports: per numeric column the KS
statistic (empirical CDFs over the distinct values) and PSI over reference deciles, per
categorical column the counts per category in each window (chi-square and PSI follow
from those in microseconds); p-values are computed from the results in both cases.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import duckdb
import numpy as np

import weave_nb as wnb
from weave_nb.charts import Scope, make_kind
from weave_nb.quality._tests import chi_square, ks_p_value, psi

NUMERIC = [f"num_{i}" for i in range(10)]
CATEGORICAL = [f"cat_{i}" for i in range(5)]
CHUNK = 1_000_000


def build(root: Path, rows: int) -> tuple[wnb.StreamTable, dt.datetime]:
    """A persisted table of ``rows`` rows; returns it and the time splitting its halves."""
    rng = np.random.default_rng(0)
    words = np.array(["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta"])
    table = wnb.StreamTable("drift_bench", root=root, flush_interval=5.0)
    half = rows // 2
    middle = None
    for start in range(0, rows, CHUNK):
        n = min(CHUNK, rows - start)
        shifted = np.arange(start, start + n) >= half
        columns: dict[str, object] = {}
        for i, name in enumerate(NUMERIC):
            columns[name] = rng.normal(0.0, 1.0 + i / 10, n) + shifted * 0.05 * i
        for i, name in enumerate(CATEGORICAL):
            choices = rng.integers(0, 4 + i, n) + shifted * (i % 2)
            columns[name] = words[np.minimum(choices, len(words) - 1)]
        write_rows = table.deferred_writer(_columns_of(columns))
        for j in range(n):
            if start + j == half:
                table.flush()
                middle = dt.datetime.now(dt.timezone.utc)
            write_rows(j)
        table.flush()
    assert middle is not None
    return table, middle


def _columns_of(columns: dict[str, object]) -> Callable[[list[int]], dict[str, object]]:
    def build(payloads: list[int]) -> dict[str, object]:
        index = np.asarray(payloads)
        return {name: values[index] for name, values in columns.items()}  # type: ignore[index]

    return build


def baseline_drift(files: str, middle: dt.datetime) -> dict[str, tuple[float, float, float]]:
    """The same statistics by hand: DuckDB over the Parquet files, one query per column."""
    con = duckdb.connect()
    con.execute(f"CREATE VIEW t AS SELECT * FROM read_parquet({files})")
    ref = f"_timestamp < TIMESTAMPTZ '{middle.isoformat()}'"
    out = {}
    for name in NUMERIC:
        rows = con.execute(
            f"""
            WITH g AS (SELECT {name} AS x, count(*) FILTER (WHERE {ref}) AS a,
                              count(*) FILTER (WHERE NOT ({ref})) AS b FROM t GROUP BY 1),
            c AS (SELECT sum(a) OVER w / sum(a) OVER () AS fa, sum(b) OVER w / sum(b) OVER () AS fb,
                         sum(a) OVER () AS na, sum(b) OVER () AS nb FROM g
                  WINDOW w AS (ORDER BY x ROWS UNBOUNDED PRECEDING))
            SELECT ceil(fa * 10) AS k, max(abs(fa - fb)) AS d, max(fa) AS fa, max(fb) AS fb,
                   any_value(na) AS na, any_value(nb) AS nb
            FROM c GROUP BY 1 ORDER BY 1
            """
        ).fetchall()
        d = max(r[1] for r in rows)
        fa, fb = np.diff([0.0] + [r[2] for r in rows]), np.diff([0.0] + [r[3] for r in rows])
        out[name] = (d, ks_p_value(d, int(rows[0][4]), int(rows[0][5])), psi(fa, fb))
    for name in CATEGORICAL:
        rows = con.execute(
            f"SELECT {name}, count(*) FILTER (WHERE {ref}), count(*) FILTER (WHERE NOT ({ref})) "
            "FROM t GROUP BY 1"
        ).fetchall()
        a, b = [r[1] for r in rows], [r[2] for r in rows]
        out[name] = (*chi_square(a, b), psi(a, b))
    con.close()
    return out


def baseline_chart(files: str, middle: dt.datetime, column: str, every_s: int) -> int:
    """A drift chart update by hand: reference deciles, then counts per bucket and decile."""
    con = duckdb.connect()
    con.execute(f"CREATE VIEW t AS SELECT * FROM read_parquet({files})")
    ref = f"_timestamp < TIMESTAMPTZ '{middle.isoformat()}'"
    edges = con.execute(
        f"SELECT quantile_disc({column}, [0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8,0.9]) FROM t WHERE {ref}"
    ).fetchone()[0]  # type: ignore[index]
    case = " ".join(f"WHEN {column} < {e!r} THEN {i}" for i, e in enumerate(edges))
    rows = con.execute(
        f"SELECT time_bucket(INTERVAL '{every_s} seconds', _timestamp) AS b, "
        f"CASE {case} ELSE {len(edges)} END AS k, count(*) FROM t GROUP BY ALL"
    ).fetchall()
    con.close()
    return len(rows)


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=10_000_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        table, middle = build(Path(tmp), args.rows)
        built = time.perf_counter() - start
        files = repr(sorted(str(p) for p in (Path(tmp) / "drift_bench" / "rows").glob("*.parquet")))
        reference = (None, middle)
        result = table.drift(reference)
        assert list(result["column"]) == NUMERIC + CATEGORICAL, list(result["column"])
        expected = baseline_drift(files, middle)
        for name, (statistic, _, _) in expected.items():
            got = result.set_index("column").loc[name, "statistic"]
            assert abs(got - statistic) < 1e-9, (name, got, statistic)
        # Drift chart: a first drawing (its columns resolved, the reference binned), and
        # a live update of an existing chart (the reference's bins reused, see
        # weave_nb.charts.drift.REFERENCE_REFRESH_SECONDS), each beside the same by hand.
        warm = make_kind("drift", column="num_9", reference=reference)
        first = warm.render(table, Scope()).rows[0]
        every = int(first["bucket_end"] - first["bucket"]) // 1000 or 1
        runs = []
        for _ in range(3):
            runs.append(
                (
                    timed(lambda: baseline_drift(files, middle)),
                    timed(lambda: table.drift(reference)),
                )
            )
        charts = []
        for _ in range(3):
            cold = make_kind("drift", column="num_9", reference=reference)
            charts.append(
                (
                    timed(lambda: baseline_chart(files, middle, "num_9", every)),
                    timed(lambda: cold.render(table, Scope())),  # noqa: B023
                    timed(lambda: warm.render(table, Scope())),
                )
            )
        base_drift, drift_s = (statistics.median(r[i] for r in runs) for i in range(2))
        base_chart, cold_s, warm_s = (statistics.median(r[i] for r in charts) for i in range(3))
        print(
            f"{args.rows:,}-row table, {len(NUMERIC)} numeric + {len(CATEGORICAL)} categorical "
            f"columns (built in {built:.0f} s), median of 3"
        )
        for label, seconds, base in (
            ("hand-written DuckDB, same statistics", base_drift, None),
            ("t.drift(reference)", drift_s, base_drift),
            ("hand-written drift chart update", base_chart, None),
            ("drift chart update (1 column, live)", warm_s, base_chart),
            ("drift chart, first drawing", cold_s, base_chart),
        ):
            ratio = "" if base is None else f"  ({seconds / base:.2f}x)"
            print(f"  {label:<37}: {seconds:8.2f} s{ratio}")
        table.close()


if __name__ == "__main__":
    main()
