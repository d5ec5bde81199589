"""Quality over time: the share of good outcomes per time bucket, from feedback or labels.

``field`` is a feedback or label column (👍/👎 thumbs, ``correct`` booleans, a verdict
label such as right/wrong): values that read as good outcomes count 1, bad ones 0, others
(no feedback yet) are left out, so the line is the rate of good outcomes among the rated
rows (see :func:`weave_nb.charts._outcomes.good_rate_sql`).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import pyarrow as pa

from weave_nb.charts._kind import Scope
from weave_nb.charts._outcomes import good_rate_sql
from weave_nb.charts.timeseries import Mean
from weave_nb.query import quote_ident

if TYPE_CHECKING:
    from weave_nb.store import StreamTable

__all__ = ["Quality"]


class Quality(Mean):
    """Rate of good outcomes in ``field`` per time bucket (see the module doc)."""

    name = "quality"

    def __init__(
        self,
        field: str = "thumbs",
        *,
        every: str | dt.timedelta | None = None,
        group_by: str | None = None,
        where: str | None = None,
        title: str | None = None,
    ) -> None:
        super().__init__(
            good_rate_sql(quote_ident(field)),
            every=every,
            group_by=group_by,
            where=where,
            title=title or f"Quality over time ({field})",
            label="good outcome rate",
            format=".0%",
        )
        self.field = field
        self.empty_text = f"No {field} yet"

    def data(self, table: StreamTable, scope: Scope) -> pa.Table:
        if self.field not in table.schema.names:
            stamp = pa.timestamp("us", "UTC")
            columns = {"bucket": stamp, "bucket_end": stamp, "value": pa.float64()}
            if self.group_by is not None:
                columns["group"] = pa.string()
            return pa.schema({**columns, "rows": pa.int64()}).empty_table()
        return super().data(table, scope)
