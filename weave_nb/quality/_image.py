"""Image columns: drift of simple image statistics, width, height and mean brightness.

Width and height are fields of the stored image struct and are compared over every row in
DuckDB like any numeric column. Brightness needs the pixels, so it is measured on a
reservoir sample of at most :data:`SAMPLE` images per window (decoding every PNG of a large
table would be the whole table in memory), then compared by the same KS/PSI query run by
DuckDB over the sampled values.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import replace

import duckdb
import numpy as np
import pyarrow as pa

from weave_nb.quality._comparison import Comparison
from weave_nb.quality._numeric import compare_numeric
from weave_nb.query import quote_ident

__all__ = ["SAMPLE", "compare_image"]

#: Images decoded per window for the brightness comparison.
SAMPLE = 1000

Run = Callable[[str], pa.Table]


def compare_image(run: Run, expr: str, reference: str, current: str) -> dict[str, Comparison]:
    """Comparisons of ``width``, ``height`` and ``brightness`` (sampled) of an image column."""
    out = {
        field: compare_numeric(run, f"{expr}.{quote_ident(field)}", reference, current)
        for field in ("width", "height")
    }
    sides = [_brightness(run, expr, where) for where in (reference, current)]
    sample = pa.table(
        {
            "x": pa.array(np.concatenate(sides), pa.float64()),
            "a": pa.array([True] * len(sides[0]) + [False] * len(sides[1])),
        }
    )
    connection = duckdb.connect()
    try:
        connection.register("t", sample)
        brightness = compare_numeric(
            lambda sql: connection.sql(sql).to_arrow_table(), "x", "a", "NOT a"
        )
    finally:
        connection.close()
    out["brightness"] = replace(brightness, method="ks (sample)")
    return out


def _brightness(run: Run, expr: str, where: str) -> np.ndarray:
    """Mean grey level (0-255) of a sample of the window's images; NaN for a missing image."""
    sample = run(
        f"SELECT png FROM (SELECT {expr}.png AS png FROM t WHERE {where}) "
        f"USING SAMPLE reservoir({SAMPLE} ROWS) REPEATABLE (7)"
    )
    from PIL import Image

    values = []
    for png in sample.column("png").to_pylist():
        if png is None:
            values.append(np.nan)
        else:
            with Image.open(io.BytesIO(png)) as image:
                values.append(float(np.asarray(image.convert("L"), dtype=np.float64).mean()))
    return np.asarray(values, dtype=np.float64)
