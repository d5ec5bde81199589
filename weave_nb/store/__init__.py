"""The StreamTable store: columnar, persisted, multi-writer, with annotations and queries."""

from ._image import IMAGE_TYPE, Image, is_image_type
from ._query import STATS, choose_bucket
from ._table import StorageError, StreamTable, open_table, parse_every
from ._values import rows_to_columns, struct_column

__all__ = [
    "IMAGE_TYPE",
    "STATS",
    "Image",
    "StorageError",
    "StreamTable",
    "choose_bucket",
    "is_image_type",
    "open_table",
    "parse_every",
    "rows_to_columns",
    "struct_column",
]
