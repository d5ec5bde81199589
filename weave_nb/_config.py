"""Process-wide settings: where persisted tables live; prices, redaction and size limits."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ._redact import DEFAULT_MAX_VALUE_BYTES, Redactor
from .tracing import Prices, check_prices

__all__ = [
    "SETTINGS",
    "configure",
    "default_root",
    "default_storage_options",
    "init",
    "redact_row",
]

_UNSET: Any = object()
_ENV_ROOT = "WEAVE_NB_ROOT"
_FALLBACK_ROOT = "weave_nb_data"
_root_override: str | None = None
_storage_options: dict[str, str] = {}


def init(
    root: str | os.PathLike[str] | None = None,
    *,
    storage_options: Mapping[str, str] | None = None,
    prices: Prices | None = _UNSET,
    redact: Iterable[str] | None = _UNSET,
    max_value_bytes: int | None = _UNSET,
) -> str:
    """Set the default root for persisted tables in this process.

    ``root`` is a local directory or ``s3://bucket/prefix`` (any S3-compatible
    service; credentials and endpoint from the standard ``AWS_*`` environment
    variables, overridden by ``storage_options``). Tables created afterwards
    without an explicit ``root=`` are stored under it. ``init()`` with no
    argument resets to the default (``$WEAVE_NB_ROOT`` if set, else
    ``./weave_nb_data``). Returns the root now in force.

    The keywords set tracing settings for the whole process (a call with only
    keywords leaves the root as it is):

    * ``prices``: USD per 1M tokens per model, ``{"gpt-4o": {"input": 2.5, "output": 10}}``;
      calls with token usage get ``cost_usd``.
    * ``redact``: key names (or globs like ``"*token*"``) whose values are replaced by
      ``"[REDACTED]"`` at any depth, in ``@monitor`` rows, OTel spans and ``log()``.
    * ``max_value_bytes``: longest ``str``/``bytes`` value stored whole (default
      1,000,000; ``None`` for no limit); longer ones are cut with a marker naming
      their size.
    """
    global _root_override, _storage_options
    if prices is not _UNSET or redact is not _UNSET or max_value_bytes is not _UNSET:
        configure(prices=prices, redact=redact, max_value_bytes=max_value_bytes)
        if root is None:
            return default_root()
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


# ---------------------------------------------------------------------------
# Tracing settings: prices, redaction, value size limit (see init()'s keywords).


class _Settings:
    """Process-wide tracing settings, read by ``@monitor``, the OTel exporter and ``log()``."""

    __slots__ = ("listeners", "max_value_bytes", "prices", "redact", "redactor")

    def __init__(self) -> None:
        self.prices: dict[str, tuple[float, float]] | None = None
        self.redact: tuple[str, ...] = ()
        self.max_value_bytes: int | None = DEFAULT_MAX_VALUE_BYTES
        self.redactor: Redactor = Redactor((), DEFAULT_MAX_VALUE_BYTES)
        self.listeners: list[Callable[[], None]] = []
        """Called after the settings change (the store resets what it derived from them)."""


SETTINGS = _Settings()
"""What :func:`init` set; ``SETTINGS.redactor`` applies ``redact`` and ``max_value_bytes``."""


def configure(
    *,
    prices: Prices | None = _UNSET,
    redact: Iterable[str] | None = _UNSET,
    max_value_bytes: int | None = _UNSET,
) -> None:
    """Set the tracing settings given (the others are kept); see :func:`init`."""
    if prices is not _UNSET:
        SETTINGS.prices = check_prices(prices)
    redact_names = SETTINGS.redact if redact is _UNSET else tuple(redact or ())
    limit = SETTINGS.max_value_bytes if max_value_bytes is _UNSET else max_value_bytes
    redactor = Redactor(redact_names, limit)  # validates before anything changes
    SETTINGS.redact, SETTINGS.max_value_bytes, SETTINGS.redactor = redact_names, limit, redactor
    for listener in list(SETTINGS.listeners):
        listener()


def redact_row(row: Mapping[str, Any]) -> dict[str, Any]:
    """``row`` as the process-wide settings store it: the hook ``StreamTable.log()`` calls."""
    return SETTINGS.redactor.row(row)
