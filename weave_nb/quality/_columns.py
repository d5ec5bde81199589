"""Which columns a drift comparison covers, and how each is compared.

* **numeric**: integer, float and decimal columns (and fields of struct columns such as a
  monitor table's ``inputs`` / ``output``), except integers with at most
  :data:`MAX_CATEGORIES` distinct values, which are categories (digit labels, ratings);
* **categorical**: booleans, text with at most :data:`MAX_CATEGORIES` distinct values and
  low-cardinality integers;
* **image**: image columns (``{png, width, height}`` structs);
* **embedding**: lists of numbers, when named (see :mod:`weave_nb.quality._embedding`).

Skipped by default: ``_``-prefixed columns, ids (``id``, ``*_id``), times and durations,
free text (more distinct values than :data:`MAX_CATEGORIES`), binary and list columns,
and text columns mixing numbers with words (a column whose logged types conflicted is
stored as text; comparing "3" with "three" as categories would hide that), with a
warning. Naming a column that cannot be compared raises ``ValueError`` instead.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, cast

import pyarrow as pa

from weave_nb.quality._embedding import is_embedding_type
from weave_nb.query import quote_ident
from weave_nb.store import is_image_type

if TYPE_CHECKING:
    from weave_nb.store import StreamTable

__all__ = ["MAX_CATEGORIES", "Column", "Kind", "columns_to_compare", "field_paths", "resolve"]

Kind = Literal["numeric", "categorical", "image", "embedding"]

#: Text and integer columns with at most this many distinct values are compared as categories.
MAX_CATEGORIES = 50

_COUNTED = ("integer", "text")
_ID = re.compile(r"(^id$|_id$)", re.I)


@dataclass(frozen=True)
class Column:
    """A compared column: its dotted name, its SQL expression over ``t``, its kind."""

    name: str
    sql: str
    kind: Kind


def field_paths(schema: pa.Schema) -> Iterator[tuple[str, str, pa.DataType]]:
    """Every leaf of ``schema`` as ``(dotted name, SQL, type)``; struct fields are walked.

    Image structs are leaves; ``_``-prefixed top-level columns are left out.
    """
    for field in schema:
        if not field.name.startswith("_"):
            yield from _walk(field.name, quote_ident(field.name), field.type)


def _walk(name: str, sql: str, kind: pa.DataType) -> Iterator[tuple[str, str, pa.DataType]]:
    if pa.types.is_struct(kind) and not is_image_type(kind):
        for child in kind:
            yield from _walk(f"{name}.{child.name}", f"{sql}.{quote_ident(child.name)}", child.type)
    else:
        yield name, sql, kind


def resolve(schema: pa.Schema, name: str) -> tuple[str, pa.DataType]:
    """SQL and type of the column or nested field ``name`` (``"inputs.question_len"``)."""
    if name in schema.names:
        return quote_ident(name), schema.field(name).type
    head, *rest = name.split(".")
    if head not in schema.names:
        raise ValueError(f"no column {name!r} in the table; columns are {schema.names}")
    sql, kind = quote_ident(head), schema.field(head).type
    for part in rest:
        if not pa.types.is_struct(kind) or kind.get_field_index(part) < 0:
            raise ValueError(f"no column {name!r} in the table: {head!r} has no field {part!r}")
        sql, kind = f"{sql}.{quote_ident(part)}", kind.field(part).type
    return sql, kind


def columns_to_compare(
    table: StreamTable, within: str, names: Sequence[str] | None = None
) -> list[Column]:
    """The columns to compare over the rows matching ``within``, with their kinds.

    ``names=None`` picks every comparable column (see the module's rules); named columns
    that cannot be compared raise ``ValueError`` naming them.
    """
    schema = table.schema
    if names is None:
        leaves = [(n, s, k) for n, s, k in field_paths(schema) if _default(n, k)]
    else:
        leaves = [(n, *resolve(schema, n)) for n in names]
        for name, _, kind in leaves:
            if _base_kind(kind) is None and not is_embedding_type(kind):
                raise ValueError(f"column {name!r} holds {kind} values, which drift cannot compare")
    counted = [(s, _base_kind(k) == "text") for _, s, k in leaves if _base_kind(k) in _COUNTED]
    distinct = _distinct(table, within, counted)
    columns = []
    for name, sql, kind in leaves:
        base = _base_kind(kind)
        if base in _COUNTED:
            few, mixed = distinct[sql]
            if mixed:
                message = (
                    f"column {name!r} mixes types: some values are numbers, others text; "
                    "compare a column of one type (or cast it in the window's SQL)"
                )
                if names is not None:
                    raise ValueError(message)
                warnings.warn(f"weave_nb drift: skipped {message}", stacklevel=3)
                continue
            if base == "text" and not few:
                if names is not None:
                    raise ValueError(
                        f"column {name!r} has more than {MAX_CATEGORIES} distinct text values: "
                        "free text cannot be compared as categories"
                    )
                continue
            columns.append(Column(name, sql, "categorical" if few else "numeric"))
        elif base is not None:
            columns.append(Column(name, sql, cast("Kind", base)))
        elif is_embedding_type(kind):
            columns.append(Column(name, sql, "embedding"))
    return columns


def _base_kind(kind: pa.DataType) -> Kind | Literal["integer", "text"] | None:
    if is_image_type(kind):
        return "image"
    if pa.types.is_boolean(kind):
        return "categorical"
    if pa.types.is_integer(kind):
        return "integer"
    if pa.types.is_floating(kind) or pa.types.is_decimal(kind):
        return "numeric"
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        return "text"
    return None


def _default(name: str, kind: pa.DataType) -> bool:
    leaf = name.rsplit(".", 1)[-1]
    return _base_kind(kind) is not None and not _ID.search(leaf)


def _distinct(
    table: StreamTable, within: str, expressions: Sequence[tuple[str, bool]]
) -> dict[str, tuple[bool, bool]]:
    """For each ``(expression, is_text)``: (few distinct values, text mixing numbers and words).

    One query over ``within`` for every column.
    """
    if not expressions:
        return {}
    parts = []
    for expr, text in expressions:
        parts.append(f"approx_count_distinct({expr}) <= {MAX_CATEGORIES}")
        number = f"TRY_CAST({expr} AS DOUBLE) IS NOT NULL"
        mixed = (
            f"bool_or({number}) AND bool_or({expr} IS NOT NULL AND NOT {number})"
            if text
            else "FALSE"
        )
        parts.append(f"coalesce({mixed}, FALSE)")
    values = list(
        table.sql(f"SELECT {', '.join(parts)} FROM t WHERE {within}").to_pylist()[0].values()
    )
    return {expr: (values[2 * i], values[2 * i + 1]) for i, (expr, _) in enumerate(expressions)}
