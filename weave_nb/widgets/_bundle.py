"""The built front-end: ES modules that esbuild writes to ``weave_nb/static``."""

from __future__ import annotations

import functools
from pathlib import Path

__all__ = ["bundle"]

_STATIC = Path(__file__).resolve().parent.parent / "static"


@functools.cache
def bundle(name: str) -> str:
    """Source of the built ES module ``weave_nb/static/<name>.js``.

    Raises ``FileNotFoundError`` explaining how to build the front-end when the
    file is missing (a source checkout installed without running the build).
    """
    path = _STATIC / f"{name}.js"
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise FileNotFoundError(
            f"weave_nb's front-end bundle {path.name!r} is missing from {_STATIC}. "
            "Reinstall weave_nb with pip (the build runs during installation), or in a "
            "source checkout run `npm install && npm run build`."
        ) from None
