"""weave_nb: monitor models in production from a Jupyter notebook.

Log rows into a :class:`StreamTable` (or let :func:`monitor` log every call of
your model), and watch them in live table widgets, charts and boards. The store
and ``@monitor`` import nothing from Jupyter, so they also run in a plain
server process; the widgets are imported on first use.
"""

from typing import TYPE_CHECKING, Any

from ._config import init
from .monitor import MonitoredFunction, Record, current_record, monitor, monitoring
from .store import Image, StorageError, StreamTable, open_table
from .tracing import current_session, session

if TYPE_CHECKING:
    from .widgets import Board, Chart, TableWidget

__all__ = [
    "Board",
    "Chart",
    "Image",
    "MonitoredFunction",
    "Record",
    "StorageError",
    "StreamTable",
    "TableWidget",
    "current_record",
    "current_session",
    "init",
    "monitor",
    "monitoring",
    "open_table",
    "session",
]
__version__ = "0.1.0"

_WIDGETS = frozenset({"Board", "Chart", "TableWidget"})


def __getattr__(name: str) -> Any:
    if name in _WIDGETS:
        from . import widgets

        return getattr(widgets, name)
    raise AttributeError(f"module 'weave_nb' has no attribute {name!r}")
