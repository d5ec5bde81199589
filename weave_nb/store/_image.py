"""Image values: PNG bytes with their size, stored inside the table files."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Any

import pyarrow as pa

if TYPE_CHECKING:
    import numpy as np
    from PIL.Image import Image as PILImage

__all__ = ["IMAGE_TYPE", "MODE_KEY", "PNG_MODES", "Image", "is_image_type"]

IMAGE_TYPE = pa.struct(
    [
        pa.field("png", pa.binary()),
        pa.field("width", pa.int32()),
        pa.field("height", pa.int32()),
    ]
)
"""Arrow type of an image cell: PNG bytes plus pixel size, readable by any Arrow/Parquet tool."""


PNG_MODES = frozenset({"1", "L", "LA", "P", "RGB", "RGBA", "I;16"})
"""PIL modes stored as they are; every other mode is converted (see ``_storable``)."""

MODE_KEY = "weave_nb.mode"
"""PNG text chunk holding the PIL mode an image was logged in, when it was converted."""

_EXACT_TWIN = {"La": "LA", "RGBa": "RGBA", "PA": "RGBA", "I;16B": "I;16"}


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

    __slots__ = ("_height", "_mode", "_pil", "_png", "_width")
    _pil: PILImage | None
    _png: bytes | None
    _mode: str | None
    _width: int
    _height: int

    def __init__(self, data: PILImage | np.ndarray[Any, Any] | Image) -> None:
        self._png: bytes | None = None
        if isinstance(data, Image):
            self._pil, self._png, self._mode = data._pil, data._png, data._mode
            self._width, self._height = data._width, data._height
            return
        self._pil, self._mode = _snapshot(data)
        self._width, self._height = self._pil.size

    @classmethod
    def from_png(cls, png: bytes, width: int | None = None, height: int | None = None) -> Image:
        """Wrap stored PNG bytes (as read back from a table) without decoding them."""
        image = cls.__new__(cls)
        image._png, image._pil, image._mode = bytes(png), None, None
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
    def mode(self) -> str:
        """The PIL mode the image was logged in (the PNG may hold a converted one)."""
        if self._mode is None:
            pil = self.to_pil()
            self._mode = str(getattr(pil, "text", {}).get(MODE_KEY, pil.mode))
        return self._mode

    @property
    def png(self) -> bytes:
        """The image encoded as PNG (lossless for the modes in ``PNG_MODES``)."""
        if self._png is None:
            buffer = io.BytesIO()
            assert self._pil is not None
            info = None
            if self._mode is not None and self._mode != self._pil.mode:
                from PIL.PngImagePlugin import PngInfo

                info = PngInfo()  # the original mode travels inside the PNG itself
                info.add_text(MODE_KEY, self._mode)
            self._pil.save(buffer, format="PNG", pnginfo=info)
            self._png = buffer.getvalue()
        return self._png

    def to_pil(self) -> PILImage:
        """Decode to a PIL image."""
        return self._pil.copy() if self._pil is not None else _load_png(self.png)

    def to_numpy(self) -> np.ndarray[Any, Any]:
        """Decode to a numpy array (``HxW``, ``HxWx3`` or ``HxWx4``; ``uint16`` for 16-bit gray)."""
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


def _snapshot(data: Any) -> tuple[PILImage, str]:
    """A private copy of the pixels in a mode PNG can hold, and the original mode."""
    from PIL import Image as PILModule

    if isinstance(data, PILModule.Image):
        _check_size(data.size)
        # Converted here, once, so a failure is raised to the caller of log(),
        # never in the flusher (which must be able to write every accepted value).
        return _storable(data), data.mode
    import numpy as np

    if isinstance(data, np.ndarray):
        if data.dtype != np.uint8:
            raise TypeError(f"image arrays must be uint8, got dtype {data.dtype}")
        if data.ndim == 2 or (data.ndim == 3 and data.shape[2] in (3, 4)):
            _check_size((data.shape[1], data.shape[0]))
            image = PILModule.fromarray(np.ascontiguousarray(data))
            return image, image.mode
        raise ValueError(f"image arrays must be HxW, HxWx3 or HxWx4, got shape {data.shape}")
    raise TypeError(f"Image() takes a PIL image or a uint8 numpy array, got {type(data).__name__}")


def _check_size(size: tuple[int, int]) -> None:
    if 0 in size:
        raise ValueError(
            f"cannot store an empty image ({size[0]}x{size[1]}): PNG needs 1x1 or more"
        )


def _storable(image: PILImage) -> PILImage:
    """``image`` in a mode PNG can hold (the README's "Images" rule).

    Integer and float grayscale ("I", "F", "I;16L"...) become 16-bit grayscale,
    values rounded and clipped to 0-65535 (exact for 16-bit data); premultiplied
    or paletted alpha becomes its straight-alpha twin; every other mode (CMYK,
    YCbCr, LAB, HSV, RGBX) becomes RGB.
    """
    mode = image.mode
    if mode in PNG_MODES:
        return image.copy()
    try:
        if mode in _EXACT_TWIN:
            return image.convert(_EXACT_TWIN[mode])
        if mode.startswith(("I", "F")):
            import numpy as np
            from PIL import Image as PILModule

            pixels = np.asarray(image if mode == "F" else image.convert("I"), dtype=np.float64)
            return PILModule.fromarray(np.clip(np.rint(pixels), 0, 65535).astype(np.uint16))
        return image.convert("RGB")
    except (ValueError, OSError) as error:  # a mode this Pillow cannot convert
        raise ValueError(f"cannot store a PIL image of mode {mode!r}: {error}") from None
