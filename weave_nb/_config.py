"""Process-wide settings: where persisted tables live."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["default_root", "init"]

_ENV_ROOT = "WEAVE_NB_ROOT"
_FALLBACK_ROOT = "weave_nb_data"
_root_override: Path | None = None


def init(root: str | os.PathLike[str] | None = None) -> Path:
    """Set the default root directory for persisted tables in this process.

    Tables created afterwards without an explicit ``root=`` are stored under it.
    ``init()`` with no argument resets to the default (``$WEAVE_NB_ROOT`` if set,
    else ``./weave_nb_data``). Returns the root now in force.
    """
    global _root_override
    _root_override = None if root is None else Path(root).expanduser()
    return default_root()


def default_root() -> Path:
    """Root for persisted tables.

    ``init(root=...)`` if called, else ``$WEAVE_NB_ROOT``, else ``./weave_nb_data``.
    """
    if _root_override is not None:
        return _root_override
    env = os.environ.get(_ENV_ROOT)
    return Path(env).expanduser() if env else Path(_FALLBACK_ROOT)
