"""The built-in chart kinds by name, and ``make_kind``."""

from __future__ import annotations

from typing import Any

from weave_nb.charts._kind import ChartKind
from weave_nb.charts.custom import Custom
from weave_nb.charts.distribution import Counts, Histogram
from weave_nb.charts.drift import Compare, Drift
from weave_nb.charts.quality import Quality
from weave_nb.charts.timeseries import ErrorRate, Feedback, Latency, Mean, Volume

__all__ = ["KINDS", "make_kind"]

#: Built-in kinds by the name ``table.chart(name, ...)`` takes.
KINDS: dict[str, type[ChartKind]] = {
    kind.name: kind
    for kind in (
        Volume,
        Latency,
        ErrorRate,
        Mean,
        Histogram,
        Counts,
        Feedback,
        Drift,
        Compare,
        Quality,
    )
}


def make_kind(kind: str | ChartKind | Any, **options: Any) -> ChartKind:
    """The chart kind for ``kind``: a built-in name, a ready :class:`ChartKind`, or a function.

    A function receives a pandas DataFrame of recent rows and returns an altair chart
    (``options`` are ``window=`` / ``rows=``, see :mod:`weave_nb.charts.custom`).
    """
    if isinstance(kind, ChartKind):
        if options:
            raise TypeError(f"options {sorted(options)} given with a ready chart kind {kind!r}")
        return kind
    if isinstance(kind, str):
        cls = KINDS.get(kind)
        if cls is None:
            raise ValueError(f"unknown chart kind {kind!r}; choose from {sorted(KINDS)}")
        try:
            return cls(**options)
        except TypeError as error:
            raise TypeError(f"chart kind {kind!r}: {error}") from None
    if callable(kind):
        return Custom(kind, **options)
    raise TypeError(
        f"chart kind must be a name among {sorted(KINDS)}, a ChartKind or a function "
        f"DataFrame -> altair chart, got {type(kind).__name__}"
    )
