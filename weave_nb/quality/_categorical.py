"""Categorical columns: chi-square test and PSI over the categories of both windows.

One DuckDB query counts each value in each window. A value seen in only one window (an
unseen category) is a category of the table like any other: chi-square counts it, PSI
gives its missing side a tiny share (:data:`~weave_nb.quality._tests.PSI_EPSILON`). Nulls
are a category of their own.
"""

from __future__ import annotations

from collections.abc import Callable

import pyarrow as pa

from weave_nb.quality._comparison import Comparison
from weave_nb.quality._tests import chi_square, psi

__all__ = ["category_value", "compare_categorical", "reference_categories"]

Run = Callable[[str], pa.Table]


def category_value(expr: str) -> str:
    """``expr`` as text: booleans read ``true``/``false``, numbers their digits."""
    return f"CAST({expr} AS VARCHAR)"


def compare_categorical(run: Run, expr: str, reference: str, current: str) -> Comparison:
    """Chi-square and PSI of ``expr`` between the rows matching ``reference`` and ``current``."""
    query = (
        f"SELECT {category_value(expr)} AS v, "
        f"count(*) FILTER (WHERE coalesce(({reference}), FALSE)) AS ca, "
        f"count(*) FILTER (WHERE coalesce(({current}), FALSE)) AS cb "
        f"FROM t WHERE ({reference}) OR ({current}) GROUP BY 1 ORDER BY 1"
    )
    counts = run(query).to_pydict()
    ref, cur = counts["ca"], counts["cb"]
    statistic, p_value = chi_square(ref, cur)
    nulls = [i for i, v in enumerate(counts["v"]) if v is None]
    return Comparison(
        method="chi2",
        statistic=statistic,
        p_value=p_value,
        psi=psi(ref, cur),
        reference_rows=sum(ref),
        current_rows=sum(cur),
        reference_nulls=sum(ref[i] for i in nulls),
        current_nulls=sum(cur[i] for i in nulls),
    )


def reference_categories(run: Run, expr: str, reference: str) -> dict[object, int]:
    """Rows per category (``None``: nulls) of ``expr`` over the rows matching ``reference``."""
    counts = run(
        f"SELECT {category_value(expr)} AS v, count(*) AS n FROM t WHERE {reference} GROUP BY 1"
    ).to_pydict()
    return dict(zip(counts["v"], counts["n"], strict=True))
