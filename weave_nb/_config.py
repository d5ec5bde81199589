"""Process-wide settings: where persisted tables live."""

from __future__ import annotations

import os
from collections.abc import Mapping

__all__ = ["default_root", "default_storage_options", "init"]

_ENV_ROOT = "WEAVE_NB_ROOT"
_FALLBACK_ROOT = "weave_nb_data"
_root_override: str | None = None
_storage_options: dict[str, str] = {}


def init(
    root: str | os.PathLike[str] | None = None,
    *,
    storage_options: Mapping[str, str] | None = None,
) -> str:
    """Set the default root for persisted tables in this process.

    ``root`` is a local directory or ``s3://bucket/prefix`` (any S3-compatible
    service; credentials and endpoint from the standard ``AWS_*`` environment
    variables, overridden by ``storage_options``). Tables created afterwards
    without an explicit ``root=`` are stored under it. ``init()`` with no
    argument resets to the default (``$WEAVE_NB_ROOT`` if set, else
    ``./weave_nb_data``). Returns the root now in force.
    """
    global _root_override, _storage_options
    _root_override = None if root is None else os.fspath(root)
    _storage_options = dict(storage_options or {})
    return default_root()


def default_root() -> str:
    """Root for persisted tables.

    ``init(root=...)`` if called, else ``$WEAVE_NB_ROOT``, else ``./weave_nb_data``.
    """
    if _root_override is not None:
        return _root_override
    return os.environ.get(_ENV_ROOT) or _FALLBACK_ROOT


def default_storage_options() -> dict[str, str]:
    """``storage_options`` given to ``init()`` (for roots on object storage)."""
    return dict(_storage_options)
