"""Image values: PNG bytes with their size, stored inside the table files."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Any

import pyarrow as pa

if TYPE_CHECKING:
    import numpy as np
    from PIL.Image import Image as PILImage

__all__ = ["IMAGE_METADATA", "IMAGE_TYPE", "Image", "is_image_type"]

IMAGE_TYPE = pa.struct(
    [
        pa.field("png", pa.binary()),
        pa.field("width", pa.int32()),
        pa.field("height", pa.int32()),
    ]
)
"""Arrow type of an image cell: PNG bytes plus pixel size, readable by any Arrow/Parquet tool."""

IMAGE_METADATA = {b"weave_nb.type": b"image"}


def is_image_type(type_: pa.DataType) -> bool:
    """Whether an Arrow type is the image struct (detected by shape, so it survives DuckDB)."""
    if not pa.types.is_struct(type_) or type_.num_fields != 3:
        return False
    names = {type_.field(i).name: type_.field(i).type for i in range(3)}
    return (
        names.keys() == {"png", "width", "height"}
        and pa.types.is_binary(names["png"]) | pa.types.is_large_binary(names["png"])
        and pa.types.is_integer(names["width"])
        and pa.types.is_integer(names["height"])
    )


class Image:
    """An image cell value.

    Build it from a PIL image or from an ``HxW``, ``HxWx3`` or ``HxWx4`` ``uint8``
    numpy array; PIL images logged directly are wrapped automatically. The pixels
    are snapshotted at construction, so later changes to the source do not leak
    into the table; PNG encoding happens lazily, off the ``log()`` hot path.
    """

    __slots__ = ("_height", "_pil", "_png", "_width")
    _pil: PILImage | None
    _png: bytes | None
    _width: int
    _height: int

    def __init__(self, data: PILImage | np.ndarray[Any, Any] | Image) -> None:
        self._png: bytes | None = None
        if isinstance(data, Image):
            self._pil, self._png = data._pil, data._png
            self._width, self._height = data._width, data._height
            return
        self._pil = _snapshot(data)
        self._width, self._height = self._pil.size

    @classmethod
    def from_png(cls, png: bytes, width: int | None = None, height: int | None = None) -> Image:
        """Wrap stored PNG bytes (as read back from a table) without decoding them."""
        image = cls.__new__(cls)
        image._png, image._pil = bytes(png), None
        if width is None or height is None:
            width, height = _load_png(png).size
        image._width, image._height = int(width), int(height)
        return image

    @property
    def width(self) -> int:
        """Width in pixels."""
        return self._width

    @property
    def height(self) -> int:
        """Height in pixels."""
        return self._height

    @property
    def png(self) -> bytes:
        """The image encoded as PNG (lossless)."""
        if self._png is None:
            buffer = io.BytesIO()
            assert self._pil is not None
            self._pil.save(buffer, format="PNG")
            self._png = buffer.getvalue()
        return self._png

    def to_pil(self) -> PILImage:
        """Decode to a PIL image."""
        return self._pil.copy() if self._pil is not None else _load_png(self.png)

    def to_numpy(self) -> np.ndarray[Any, Any]:
        """Decode to a ``uint8`` numpy array (``HxW``, ``HxWx3`` or ``HxWx4``)."""
        import numpy as np

        return np.asarray(self.to_pil())

    def to_cell(self) -> dict[str, Any]:
        """The Arrow struct value stored in the table."""
        return {"png": self.png, "width": self._width, "height": self._height}

    def _repr_png_(self) -> bytes:
        return self.png

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Image):
            return NotImplemented
        return self.size == other.size and self.to_pil().tobytes() == other.to_pil().tobytes()

    __hash__ = None  # type: ignore[assignment]

    @property
    def size(self) -> tuple[int, int]:
        """``(width, height)`` in pixels."""
        return self._width, self._height

    def __repr__(self) -> str:
        return f"Image({self._width}x{self._height})"


def _load_png(png: bytes) -> PILImage:
    from PIL import Image as PILModule

    image = PILModule.open(io.BytesIO(png))
    image.load()
    return image


def _snapshot(data: Any) -> PILImage:
    from PIL import Image as PILModule

    if isinstance(data, PILModule.Image):
        # PNG cannot hold every PIL mode; convert the rare ones once, here, so the
        # failure (if any) is raised to the caller of log(), not in the flusher.
        if data.mode not in {"1", "L", "LA", "I", "I;16", "P", "RGB", "RGBA"}:
            return data.convert("RGBA")
        return data.copy()
    import numpy as np

    if isinstance(data, np.ndarray):
        if data.dtype != np.uint8:
            raise TypeError(f"image arrays must be uint8, got dtype {data.dtype}")
        if data.ndim == 2 or (data.ndim == 3 and data.shape[2] in (3, 4)):
            return PILModule.fromarray(np.ascontiguousarray(data))
        raise ValueError(f"image arrays must be HxW, HxWx3 or HxWx4, got shape {data.shape}")
    raise TypeError(f"Image() takes a PIL image or a uint8 numpy array, got {type(data).__name__}")
