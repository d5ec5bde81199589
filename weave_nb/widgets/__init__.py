"""Live notebook widgets over StreamTables (anywidget front-ends built from ``js/``)."""

from .table import TableWidget

__all__ = ["TableWidget"]
