"""Charts as PNG or SVG files for reports, rendered offline by vl-convert."""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Any

from weave_nb.charts._kind import Rendered
from weave_nb.charts._spec import DATA_NAME

__all__ = ["EXPORT_WIDTH", "save_rendered", "static_spec"]

#: Plot width of exported charts, in pixels (live charts follow their container instead).
EXPORT_WIDTH = 600


def static_spec(rendered: Rendered, width: int = EXPORT_WIDTH) -> dict[str, Any]:
    """A self-contained Vega-Lite spec: the rows inline and a fixed width."""
    spec = copy.deepcopy(rendered.spec)
    if spec.get("data") == {"name": DATA_NAME}:
        spec.setdefault("datasets", {})[DATA_NAME] = rendered.rows
    if spec.get("width") == "container":
        spec["width"] = width
    return spec


def save_rendered(
    rendered: Rendered,
    path: str | os.PathLike[str],
    *,
    scale: float = 2.0,
    width: int = EXPORT_WIDTH,
) -> Path:
    """Write the chart to ``path``; the suffix (``.png`` or ``.svg``) picks the format."""
    target = Path(path)
    suffix = target.suffix.lower()
    if suffix not in (".png", ".svg"):
        raise ValueError(f"cannot save a chart as {target.name!r}: use a .png or .svg file name")
    try:
        import vl_convert
    except ImportError:
        raise ImportError(
            "saving charts needs vl-convert-python: pip install 'weave_nb[export]'"
        ) from None
    spec = static_spec(rendered, width)
    if suffix == ".png":
        target.write_bytes(vl_convert.vegalite_to_png(spec, scale=scale))
    else:
        target.write_text(vl_convert.vegalite_to_svg(spec), encoding="utf-8")
    return target
