"""The StreamTable store: columnar, persisted, multi-writer, with annotations and queries."""

from ._aggregate import STATS
from ._image import IMAGE_TYPE, Image, is_image_type
from ._table import StorageError, StreamTable, open_table
from ._values import PLAIN_TYPES, rows_to_columns, struct_column

__all__ = [
    "IMAGE_TYPE",
    "PLAIN_TYPES",
    "STATS",
    "Image",
    "StorageError",
    "StreamTable",
    "is_image_type",
    "open_table",
    "rows_to_columns",
    "struct_column",
]
