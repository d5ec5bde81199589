"""Live notebook widgets over StreamTables (anywidget front-ends built from ``js/``).

The widgets are loaded on first access: showing a table must not pay for the chart
stack (altair and its jsonschema validators take seconds to import), so ``Chart`` and
``Board`` import it only when one is first made.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .board import Board
    from .chart import Chart
    from .table import TableWidget

__all__ = ["Board", "Chart", "TableWidget"]

_MODULES = {"Board": ".board", "Chart": ".chart", "TableWidget": ".table"}


def __getattr__(name: str) -> Any:
    module = _MODULES.get(name)
    if module is None:
        raise AttributeError(f"module 'weave_nb.widgets' has no attribute {name!r}")
    return getattr(importlib.import_module(module, __name__), name)
