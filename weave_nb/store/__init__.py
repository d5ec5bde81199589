"""The StreamTable store: columnar, persisted, multi-writer, with annotations and queries."""

from ._aggregate import STATS
from ._convert import rows_to_columns, struct_column
from ._image import IMAGE_TYPE, Image, is_image_type
from ._location import StorageError
from ._normalize import PLAIN_TYPES
from ._table import StreamTable, open_table
from ._writing import Intake, intake_of

__all__ = [
    "IMAGE_TYPE",
    "PLAIN_TYPES",
    "STATS",
    "Image",
    "Intake",
    "StorageError",
    "StreamTable",
    "intake_of",
    "is_image_type",
    "open_table",
    "rows_to_columns",
    "struct_column",
]
