"""What a reader needs of a table: its name, the schema of its view, and SQL over it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["SqlTable"]


class SqlTable(Protocol):
    """A table queried with DuckDB SQL in which its merged view is the relation ``t``.

    :class:`weave_nb.StreamTable` is one; code that only reads through SQL (the
    trace and session views) asks for this, not for the store.
    """

    @property
    def name(self) -> str:
        """The table's name, for messages."""
        ...

    @property
    def schema(self) -> pa.Schema:
        """Schema of the view ``t``."""
        ...

    def sql(self, query: str) -> pa.Table:
        """Run ``query`` over the view ``t``."""
        ...
