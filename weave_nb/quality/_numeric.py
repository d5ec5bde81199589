"""Numeric columns: two-sample Kolmogorov-Smirnov and PSI over reference quantile bins.

One DuckDB query per column does both: it counts each distinct value in each window,
accumulates the counts in value order (the two empirical CDFs), takes the largest gap
between them (the KS statistic ``D``), and cuts the values into :data:`BINS` bins by the
reference CDF (bin ``k`` holds values whose reference CDF lies in ``((k-1)/BINS, k/BINS]``;
ties keep a value in one bin, so tied data has fewer bins). Values below or above every
reference value get bins of their own (0 and ``BINS + 1``), so values the reference never
reached read as drift even when the reference is constant. Only ~``BINS`` rows return.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from weave_nb.quality._comparison import Comparison
from weave_nb.quality._tests import ks_p_value, psi
from weave_nb.query import literal

__all__ = [
    "BINS",
    "ReferenceBins",
    "bin_number",
    "compare_numeric",
    "numeric_value",
    "reference_bins",
]

#: Quantile bins of the reference window for PSI (deciles).
BINS = 10

Run = Callable[[str], pa.Table]


def numeric_value(expr: str) -> str:
    """``expr`` as a DOUBLE, NaN made NULL (a missing value, counted with the nulls)."""
    return f"nullif(TRY_CAST({expr} AS DOUBLE), 'NaN'::DOUBLE)"


def bin_number(cumulative: str, count: str, total: str) -> str:
    """SQL: the bin of a value from the reference CDF there and its count in the reference.

    Bin ``ceil(BINS * cumulative / total)``, in integers so that a CDF of exactly 0.3 is
    bin 3, not bin 4 by a rounding error; 0 below every reference value, ``BINS + 1``
    above them all (a value not in the reference at which its CDF already is 1).
    """
    return (
        f"CASE WHEN {cumulative} = {total} AND {count} = 0 THEN {BINS + 1} "
        f"ELSE CAST((CAST({cumulative} AS BIGINT) * {BINS} + {total} - 1) // {total} AS INTEGER) "
        "END"
    )


def compare_numeric(run: Run, expr: str, reference: str, current: str) -> Comparison:
    """KS and PSI of ``expr`` between the rows matching ``reference`` and ``current``.

    ``run`` executes SQL in which the rows are the relation ``t`` (the store's ``sql``).
    """
    query = f"""
    WITH g AS MATERIALIZED (
        SELECT x, count(*) FILTER (WHERE a) AS ca, count(*) FILTER (WHERE b) AS cb
        FROM (
            SELECT {numeric_value(expr)} AS x,
                   coalesce(({reference}), FALSE) AS a, coalesce(({current}), FALSE) AS b
            FROM t WHERE ({reference}) OR ({current})
        ) GROUP BY x
    ),
    n AS (
        SELECT CAST(coalesce(sum(ca), 0) AS BIGINT) AS rows_a,
               CAST(coalesce(sum(cb), 0) AS BIGINT) AS rows_b,
               CAST(coalesce(sum(ca) FILTER (WHERE x IS NOT NULL), 0) AS BIGINT) AS na,
               CAST(coalesce(sum(cb) FILTER (WHERE x IS NOT NULL), 0) AS BIGINT) AS nb
        FROM g
    ),
    c AS (
        SELECT ca, sum(ca) OVER w AS sa, sum(cb) OVER w AS sb FROM g WHERE x IS NOT NULL
        WINDOW w AS (ORDER BY x ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
    ),
    k AS (
        SELECT {bin_number("sa", "ca", "n.na")} AS k, max(abs(sa / n.na - sb / n.nb)) AS d,
               CAST(max(sa) AS BIGINT) AS sa, CAST(max(sb) AS BIGINT) AS sb
        FROM c, n WHERE n.na > 0 AND n.nb > 0 GROUP BY 1
    )
    SELECT n.rows_a, n.rows_b, n.na, n.nb, k.k, k.d, k.sa, k.sb
    FROM n LEFT JOIN k ON TRUE ORDER BY k.k
    """
    result = run(query).to_pydict()
    rows_a, rows_b, na, nb = (result[c][0] for c in ("rows_a", "rows_b", "na", "nb"))
    nulls_a, nulls_b = rows_a - na, rows_b - nb
    if result["k"][0] is None:  # one window has no values: only the null shares compare
        statistic = math.nan
        ref_bins, cur_bins = [na], [nb]
    else:
        statistic = float(max(result["d"]))
        ref_bins = _counts(result["sa"])
        cur_bins = _counts(result["sb"])
    return Comparison(
        method="ks",
        statistic=statistic,
        p_value=ks_p_value(statistic, na, nb),
        psi=psi([*ref_bins, nulls_a], [*cur_bins, nulls_b]),
        reference_rows=rows_a,
        current_rows=rows_b,
        reference_nulls=nulls_a,
        current_nulls=nulls_b,
    )


def _counts(cumulative: list[int]) -> list[int]:
    """Counts per bin from the cumulative counts at each bin's end."""
    return [int(c) for c in np.diff(np.asarray(cumulative, dtype=np.int64), prepend=0)]


@dataclass(frozen=True)
class ReferenceBins:
    """The quantile bins of a reference window, to bin other rows the way drift() does.

    ``lows[i]`` is the smallest reference value of bin ``numbers[i]``, ``high`` the largest
    reference value; ``counts`` maps each bin number (and -1, the nulls) to its reference
    rows.
    """

    numbers: tuple[int, ...]
    lows: tuple[float, ...]
    high: float
    counts: dict[object, int]

    def key_sql(self, value: str) -> str:
        """SQL: the bin number of ``value`` (a :func:`numeric_value`; -1 for a null, 0 and
        BINS + 1 below and above the reference's range)."""
        if not self.numbers:
            return f"CASE WHEN {value} IS NULL THEN -1 ELSE 0 END"
        steps = " ".join(
            f"WHEN {value} >= {literal(low)} THEN {number}"
            for number, low in reversed(list(zip(self.numbers, self.lows, strict=True))[1:])
        )
        return (
            f"CASE WHEN {value} IS NULL THEN -1 WHEN {value} < {literal(self.lows[0])} THEN 0 "
            f"WHEN {value} > {literal(self.high)} THEN {BINS + 1} {steps} "
            f"ELSE {self.numbers[0]} END"
        )


def reference_bins(run: Run, expr: str, reference: str) -> ReferenceBins:
    """The quantile bins of ``expr`` over the rows matching ``reference``.

    Bin ``k`` starts at the reference's order statistic number ``floor((k-1) n / BINS) + 1``
    (the smallest value whose CDF exceeds ``(k-1)/BINS``). DuckDB's ``quantile_disc``
    finds those values by selection, without sorting; each is then checked by counting the
    values below and up to it, so the bins are exactly those of :func:`compare_numeric`.
    Should a check fail (another rounding convention of ``quantile_disc``), the bins come
    from the grouped query ``compare_numeric`` itself runs.
    """
    source = f"(SELECT {numeric_value(expr)} AS x FROM t WHERE {reference})"
    sizes = run(f"SELECT count(x) AS n, count(*) AS rows, max(x) AS high FROM {source}")
    n, rows, high = (sizes.column(i)[0].as_py() for i in range(3))
    nulls: dict[object, int] = {-1: rows - n} if rows > n else {}
    if n == 0:
        return ReferenceBins((), (), math.nan, nulls)
    # quantile_disc(q) is the value at 0-based index ceil(q n) - 1; aim at the middle of
    # the wanted index's interval so that float rounding cannot move it.
    levels = [min(1.0, (k * n // BINS + 0.5) / n) for k in range(BINS)]
    found = run(f"SELECT quantile_disc(x, {levels!r}) AS q FROM {source}").column("q")[0]
    candidates = [float(v) for v in found.as_py()]
    checks = ", ".join(
        f"count(*) FILTER (WHERE x < {literal(c)}) AS b{i}, "
        f"count(*) FILTER (WHERE x <= {literal(c)}) AS e{i}"
        for i, c in enumerate(candidates)
    )
    counted = run(f"SELECT {checks} FROM {source}").to_pylist()[0]
    below = [counted[f"b{i}"] for i in range(BINS)]
    upto = [counted[f"e{i}"] for i in range(BINS)]
    # Bin k starts at c when #(x < c) <= (k-1) n / BINS < #(x <= c), in integers.
    exact = all(below[k] * BINS <= k * n < upto[k] * BINS for k in range(BINS))
    if not exact:
        return _grouped_bins(run, expr, reference)
    starts: dict[float, tuple[int, int]] = {}
    for k, (low, before) in enumerate(zip(candidates, below, strict=True), start=1):
        starts[low] = (k, before)  # equal starts: the value is in the last bin's number
    lows = sorted(starts)
    firsts = [starts[low][1] for low in lows] + [n]
    counts: dict[object, int] = {
        starts[low][0]: firsts[i + 1] - firsts[i] for i, low in enumerate(lows)
    }
    return ReferenceBins(
        numbers=tuple(starts[low][0] for low in lows),
        lows=tuple(lows),
        high=float(high),
        counts={**counts, **nulls},
    )


def _grouped_bins(run: Run, expr: str, reference: str) -> ReferenceBins:
    """The bins by grouping the reference's distinct values (always exact, slower)."""
    query = f"""
    WITH g AS (
        SELECT {numeric_value(expr)} AS x, count(*) AS ca FROM t WHERE {reference} GROUP BY 1
    ),
    c AS (
        SELECT x, ca, sum(ca) OVER w AS sa, sum(ca) OVER () AS na FROM g WHERE x IS NOT NULL
        WINDOW w AS (ORDER BY x ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
    )
    SELECT {bin_number("sa", "ca", "na")} AS k, min(x) AS low, max(x) AS high,
           CAST(sum(ca) AS BIGINT) AS n
    FROM c GROUP BY 1
    UNION ALL SELECT -1, NULL, NULL, CAST(sum(ca) AS BIGINT) FROM g WHERE x IS NULL
    ORDER BY 1
    """
    bins = run(query).to_pydict()
    counts: dict[object, int] = {k: n for k, n in zip(bins["k"], bins["n"], strict=True) if n}
    rows = [i for i, k in enumerate(bins["k"]) if k >= 0]
    return ReferenceBins(
        numbers=tuple(bins["k"][i] for i in rows),
        lows=tuple(bins["low"][i] for i in rows),
        high=max((bins["high"][i] for i in rows), default=math.nan),
        counts=counts,
    )
