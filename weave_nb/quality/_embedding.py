"""Embedding columns: drift of each row's cosine distance to the reference's mean embedding.

An embedding (a list of numbers per row, e.g. an image or text encoder's output) is
reduced to one number per row, its cosine distance to the mean embedding of the reference
window, then compared like a numeric column (KS and PSI). New inputs that move away from
what the reference looked like raise the distances. Named explicitly only: a list column
is not compared by default.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import pyarrow as pa

from weave_nb.quality._comparison import Comparison
from weave_nb.quality._numeric import compare_numeric

__all__ = ["compare_embedding", "is_embedding_type"]

Run = Callable[[str], pa.Table]


def is_embedding_type(kind: pa.DataType) -> bool:
    """Whether ``kind`` is a list of numbers."""
    if not (
        pa.types.is_list(kind) or pa.types.is_large_list(kind) or pa.types.is_fixed_size_list(kind)
    ):
        return False
    value = kind.value_type
    return bool(pa.types.is_floating(value) or pa.types.is_integer(value))


def compare_embedding(run: Run, expr: str, reference: str, current: str) -> Comparison:
    """KS and PSI of the cosine distance to the reference's mean embedding."""
    centre = run(
        f"SELECT i, avg(e) AS m FROM (SELECT unnest({expr}) AS e, "
        f"generate_subscripts({expr}, 1) AS i FROM t WHERE {reference}) GROUP BY i ORDER BY i"
    ).column("m")
    mean = "[" + ", ".join(repr(float(v)) for v in centre.to_pylist()) + "]::DOUBLE[]"
    distance = f"list_cosine_distance(CAST({expr} AS DOUBLE[]), {mean})"
    return replace(compare_numeric(run, distance, reference, current), method="ks (cosine)")
