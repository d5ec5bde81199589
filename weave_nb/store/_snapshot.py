"""A consistent view of a table's two streams, and the schema of their merged view.

The merged view is the rows of every segment and of memory, conformed to one
schema, with the latest annotation per field applied (see ``_annotated``).
Segments are immutable, so a snapshot stays readable while writers go on.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from ._layout import ANNOTATION_META, TIMESTAMP_TYPE
from ._schema import conform, logical_schema, merge_schemas, unify_types
from ._stream import StreamSnapshot

__all__ = ["Snapshot"]

_BASE_SCHEMA = pa.schema(
    [("_id", pa.null()), ("_timestamp", TIMESTAMP_TYPE), ("_client_id", pa.string())]
)
"""Leading columns of every view; ``_id`` takes the type of the ids logged (int or text)."""

_EMPTY_HISTORY = pa.schema(
    [
        ("_target_id", pa.string()),
        ("_timestamp", TIMESTAMP_TYPE),
        ("_client_id", pa.string()),
        ("_fields", pa.list_(pa.string())),
    ]
)


@dataclass
class Snapshot:
    """A consistent view of both streams, with the merged schema."""

    rows: StreamSnapshot
    annotations: StreamSnapshot
    rows_schema: pa.Schema = field(init=False)
    ann_schema: pa.Schema = field(init=False)
    schema: pa.Schema = field(init=False)

    def __post_init__(self) -> None:
        rows = merge_schemas([_BASE_SCHEMA, *_stored(self.rows), *_memory(self.rows)])
        if pa.types.is_null(rows.field("_id").type):  # no row yet: ids are text by default
            rows = rows.set(rows.get_field_index("_id"), pa.field("_id", pa.string()))
        self.rows_schema = rows
        self.ann_schema = merge_schemas([*_stored(self.annotations), *_memory(self.annotations)])
        merged = dict(zip(self.rows_schema.names, self.rows_schema.types, strict=True))
        metadata = {f.name: f.metadata for f in self.rows_schema}
        for name in self.annotation_fields:
            ann_type = self.ann_schema.field(name).type
            merged[name] = unify_types(merged[name], ann_type) if name in merged else ann_type
        self.schema = pa.schema(
            [pa.field(n, t, metadata=metadata.get(n)) for n, t in merged.items()]
        )

    @property
    def annotation_fields(self) -> list[str]:
        """Fields set by annotations (columns of the annotation stream that are data)."""
        return [n for n in self.ann_schema.names if n not in ANNOTATION_META]

    def time_span(self) -> tuple[dt.datetime | None, dt.datetime | None] | None:
        """First and last ``_timestamp`` without scanning, or ``None`` if a footer lacks them."""
        lows, highs = [], []
        for segment in self.rows.segments:
            if segment.time_range is None:
                return None
            lows.append(segment.time_range[0])
            highs.append(segment.time_range[1])
        for table in self.rows.memory:
            bounds = pc.min_max(table.column("_timestamp"))
            if bounds["min"].is_valid:
                lows.append(bounds["min"].as_py())
                highs.append(bounds["max"].as_py())
        return (min(lows), max(highs)) if lows else (None, None)

    @property
    def annotations_key(self) -> tuple[Any, ...]:
        """Identifies the annotation data of this snapshot (segments are immutable)."""
        return (
            tuple(s.name for s in self.annotations.segments),
            tuple(id(t) for t in self.annotations.memory),
            self.annotations.num_rows,
        )

    @property
    def has_annotations(self) -> bool:
        """Whether any annotation exists."""
        return self.annotations.num_rows > 0

    def annotation_history(self) -> pa.Table:
        """Every annotation, oldest first, conformed to one schema."""
        tables = [s.read() for s in self.annotations.segments] + list(self.annotations.memory)
        if not tables:
            return _EMPTY_HISTORY.empty_table()
        conformed = [conform(t, self.ann_schema) for t in tables]
        return pa.concat_tables(conformed).sort_by("_timestamp")


def _memory(stream: StreamSnapshot) -> list[pa.Schema]:
    return [t.schema for t in stream.memory]


def _stored(stream: StreamSnapshot) -> list[pa.Schema]:
    """The committed files' schema as readers see it (from the Delta log, no footer read)."""
    if stream.schema is not None:
        return [logical_schema(stream.schema)]
    return [s.schema for s in stream.segments]
