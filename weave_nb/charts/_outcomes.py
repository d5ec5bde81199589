"""Values that read as good or bad outcomes, and the rate of good ones as SQL.

Kept apart from the chart specs (which import altair) so that ``t.aggregate`` users and
the quality module can build a quality rate without the chart stack.
"""

from __future__ import annotations

from weave_nb.query import literal

__all__ = ["BAD_VALUES", "GOOD_VALUES", "good_rate_sql"]

#: Lower-cased values whose meaning is a good outcome, wherever they show up: feedback
#: labels, thumbs, statuses, booleans.
GOOD_VALUES = frozenset(
    {"up", "👍", "right", "correct", "success", "ok", "good", "true", "yes", "pass", "passed"}
)
#: Lower-cased values whose meaning is a bad outcome.
BAD_VALUES = frozenset(
    {"down", "👎", "wrong", "incorrect", "error", "errors", "bad", "false", "no", "fail", "failed"}
)


def good_rate_sql(expr: str) -> str:
    """SQL: 1.0 for a good outcome, 0.0 for a bad one, NULL otherwise (no feedback yet).

    Its mean per bucket is the quality rate over the rated rows:
    ``t.aggregate(["mean"], column=good_rate_sql('"thumbs"'))``. Booleans count as
    outcomes (``correct = true``).
    """
    value = f"lower(trim(CAST({expr} AS VARCHAR)))"
    good = ", ".join(literal(v) for v in sorted(GOOD_VALUES))
    bad = ", ".join(literal(v) for v in sorted(BAD_VALUES))
    return f"CASE WHEN {value} IN ({good}) THEN 1.0 WHEN {value} IN ({bad}) THEN 0.0 END"
