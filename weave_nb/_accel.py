"""The optional C speedups of the two hot paths, or ``None`` where they were not built.

``weave_nb._speedups`` is compiled when the package is installed (a C compiler
and Python's headers are needed); without it, ``StreamTable.log()`` and
``@monitor`` take their pure-Python paths, which do the same at about twice the
cost per call. ``WEAVE_NB_PURE_PYTHON=1`` ignores a built module, to compare or
to rule it out.
"""

from __future__ import annotations

import os
from types import ModuleType

__all__ = ["SPEEDUPS", "env_flag"]

_TRUE_WORDS = frozenset({"1", "true", "yes", "on"})


def env_flag(name: str) -> bool:
    """Whether the environment variable ``name`` says yes (``1``, ``true``, ``yes``, ``on``)."""
    return os.environ.get(name, "").strip().lower() in _TRUE_WORDS


def _load() -> ModuleType | None:
    if env_flag("WEAVE_NB_PURE_PYTHON"):
        return None
    try:
        from weave_nb import _speedups
    except ImportError:
        return None
    return _speedups


SPEEDUPS = _load()
"""``weave_nb._speedups`` if it was built and is not switched off, else ``None``."""
