"""Live notebook widgets over StreamTables (anywidget front-ends built from ``js/``)."""

from .board import Board
from .chart import Chart
from .table import TableWidget

__all__ = ["Board", "Chart", "TableWidget"]
