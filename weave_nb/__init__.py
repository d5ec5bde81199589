"""weave_nb: monitor models in production from a Jupyter notebook.

Log rows into a :class:`StreamTable` (or let :func:`monitor` log every call of
your model), and watch them in live table widgets, charts and boards.
"""

from ._config import init
from .store import Image, StreamTable, open_table

__all__ = ["Image", "StreamTable", "init", "open_table"]
__version__ = "0.1.0"
