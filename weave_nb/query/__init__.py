"""The query vocabulary every layer shares: SQL text built from Python values, time buckets,
and :class:`SqlTable`, what a reader needs of a table.

The bottom of weave_nb's layers: it imports nothing of weave_nb, so the store, the
charts, the drift checks and the widgets all build their DuckDB filters with the same
quoting and literals. Reads themselves (windows, counts, aggregates, SQL over the
merged view) are :class:`weave_nb.StreamTable`'s methods.
"""

from ._buckets import choose_bucket, parse_every
from ._sql import and_all, column_expr, equals, literal, quote_ident, time_range
from ._table import SqlTable

__all__ = [
    "SqlTable",
    "and_all",
    "choose_bucket",
    "column_expr",
    "equals",
    "literal",
    "parse_every",
    "quote_ident",
    "time_range",
]
