"""Chart kinds: what each chart computes in the kernel and the Vega-Lite spec that draws it.

``make_kind("latency", column="latency_ms")`` builds a kind from the name given to
``table.chart(...)``; a callable builds a :class:`~weave_nb.charts.custom.Custom` chart. The
widgets in :mod:`weave_nb.widgets` run a kind whenever the table changes and send its small
result to the browser.

Names are loaded on first use, so that importing one module of this package (the outcome
values ``t.aggregate`` users filter on, say) does not import altair, which takes seconds.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from weave_nb.charts._kind import AggregateChart, ChartKind, Rendered, Scope, Selection
    from weave_nb.charts._registry import KINDS, make_kind
    from weave_nb.charts._spec import DATA_NAME
    from weave_nb.charts.custom import Custom
    from weave_nb.charts.distribution import Counts, Histogram
    from weave_nb.charts.drift import Compare, Drift
    from weave_nb.charts.quality import Quality
    from weave_nb.charts.timeseries import ErrorRate, Feedback, Latency, Mean, Volume

__all__ = [
    "DATA_NAME",
    "KINDS",
    "AggregateChart",
    "ChartKind",
    "Compare",
    "Counts",
    "Custom",
    "Drift",
    "ErrorRate",
    "Feedback",
    "Histogram",
    "Latency",
    "Mean",
    "Quality",
    "Rendered",
    "Scope",
    "Selection",
    "Volume",
    "make_kind",
]

_WHERE = {
    "AggregateChart": "_kind",
    "ChartKind": "_kind",
    "Rendered": "_kind",
    "Scope": "_kind",
    "Selection": "_kind",
    "DATA_NAME": "_spec",
    "Custom": "custom",
    "Counts": "distribution",
    "Histogram": "distribution",
    "Compare": "drift",
    "Drift": "drift",
    "Quality": "quality",
    "ErrorRate": "timeseries",
    "Feedback": "timeseries",
    "Latency": "timeseries",
    "Mean": "timeseries",
    "Volume": "timeseries",
    "KINDS": "_registry",
    "make_kind": "_registry",
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'weave_nb.charts' has no attribute {name!r}")
    return getattr(importlib.import_module(f"weave_nb.charts.{module}"), name)
