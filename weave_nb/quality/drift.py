"""``t.drift(...)``: compare every column between a reference and a current window.

Each column's statistics run as one DuckDB query over the table (the store's ``sql``), so
only a few numbers per column come back, whatever the table's size.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from weave_nb.quality._categorical import compare_categorical
from weave_nb.quality._columns import columns_to_compare
from weave_nb.quality._comparison import Comparison
from weave_nb.quality._embedding import compare_embedding
from weave_nb.quality._image import compare_image
from weave_nb.quality._numeric import compare_numeric
from weave_nb.quality._windows import Window, count_windows, current_sql, window_sql

if TYPE_CHECKING:
    import pandas as pd

    from weave_nb.store import StreamTable

__all__ = ["RESULT_COLUMNS", "Thresholds", "drift"]

#: Columns of the DataFrame ``drift()`` returns, in order.
RESULT_COLUMNS = (
    "column",
    "kind",
    "method",
    "statistic",
    "p_value",
    "psi",
    "reference_rows",
    "current_rows",
    "reference_nulls",
    "current_nulls",
    "drifted",
)


@dataclass(frozen=True)
class Thresholds:
    """When a column counts as drifted: significant *and* large enough to matter.

    A column drifted when its test's p-value is below ``p_value`` and its PSI is at least
    ``psi``. The p-value alone flags negligible shifts once windows hold many thousand
    rows; PSI alone is noisy on small windows; together they need both. When a test has no
    p-value (one window without values), PSI decides.
    """

    p_value: float = 0.05
    psi: float = 0.1

    def drifted(self, comparison: Comparison) -> bool:
        """Whether ``comparison`` crosses both thresholds."""
        if math.isnan(comparison.psi) or comparison.psi < self.psi:
            return False
        return math.isnan(comparison.p_value) or comparison.p_value < self.p_value


def drift(
    table: StreamTable,
    reference: Window,
    current: Window | None = None,
    columns: Sequence[str] | None = None,
    *,
    thresholds: Thresholds | None = None,
) -> pd.DataFrame:
    """Compare columns of ``table`` between two windows; one row per compared column.

    ``reference`` and ``current`` are ``(start, end)`` pairs of datetimes over
    ``_timestamp`` or SQL filters; ``current`` defaults to the rows after a time
    reference's end, else to the rows outside the reference. ``columns`` defaults to
    every numeric, categorical and image column, nested fields included (see
    :mod:`weave_nb.quality._columns`); an embedding (list of numbers) column is compared
    when named. Raises ``ValueError`` for an unknown column, a
    window that is not valid SQL or holds no rows, and a column of mixed types.
    """
    import pandas as pd

    limits = thresholds or Thresholds()
    ref = window_sql(reference, "reference")
    cur = current_sql(reference, current)
    count_windows(table, ref, cur)
    if isinstance(columns, str):
        columns = [columns]
    rows: list[dict[str, Any]] = []
    for column in columns_to_compare(table, f"({ref}) OR ({cur})", columns):
        if column.kind == "numeric":
            found = {column.name: compare_numeric(table.sql, column.sql, ref, cur)}
        elif column.kind == "categorical":
            found = {column.name: compare_categorical(table.sql, column.sql, ref, cur)}
        elif column.kind == "embedding":
            found = {column.name: compare_embedding(table.sql, column.sql, ref, cur)}
        else:
            found = {
                f"{column.name}.{part}": comparison
                for part, comparison in compare_image(table.sql, column.sql, ref, cur).items()
            }
        for name, comparison in found.items():
            rows.append(
                {
                    "column": name,
                    "kind": column.kind,
                    **{k: getattr(comparison, k) for k in RESULT_COLUMNS[2:-1]},
                    "drifted": limits.drifted(comparison),
                }
            )
    return pd.DataFrame(rows, columns=list(RESULT_COLUMNS))
