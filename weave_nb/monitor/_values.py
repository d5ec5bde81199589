"""Values in monitor rows: image arrays, exception details, and stand-ins for unstorable values.

The store validates every row in ``log()`` and raises ``TypeError``/``ValueError``
for a value it cannot hold. The monitor must never fail the user's call, so on
that (rare) failure path it rebuilds the row with stand-ins: first replacing only
values whose types are not plain data, then, if the store still refuses, every
user value that is not ``None``, a bool, a float or a string. Nothing here runs
on the success path except :func:`as_cell`'s type check.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
import enum
import pathlib
import sys
import traceback
import uuid
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import Any

from weave_nb.store import PLAIN_TYPES, Image

__all__ = [
    "LOG_ERRORS",
    "REPR_LIMIT",
    "as_cell",
    "exception_info",
    "stand_in",
    "storable_variants",
]

LOG_ERRORS = (TypeError, ValueError, OverflowError, RecursionError)
"""What the store raises for a value it cannot hold (a circular or too deeply nested one too)."""

MAX_NESTING = 50
"""Deepest nesting kept by the fallback; deeper (or circular) parts become stand-ins."""

REPR_LIMIT = 500
"""Characters of ``repr`` kept for an unstorable value."""

_PLAIN_LEAVES = (
    bool,
    int,
    float,
    str,
    bytes,
    dt.datetime,
    dt.date,
    dt.time,
    dt.timedelta,
    decimal.Decimal,
    uuid.UUID,
    pathlib.PurePath,
    enum.Enum,
    Image,
)


def as_cell(value: Any) -> Any:
    """Wrap a ``uint8`` ``HxW``/``HxWx3``/``HxWx4`` numpy array as an image cell; else unchanged."""
    if type(value) in PLAIN_TYPES:
        return value
    np = sys.modules.get("numpy")
    if (
        np is not None
        and isinstance(value, np.ndarray)
        and value.dtype == np.uint8
        and (value.ndim == 2 or (value.ndim == 3 and value.shape[2] in (3, 4)))
        and value.size
    ):
        return Image(value)
    return value


def exception_info(error: BaseException, skip_modules: tuple[str, ...]) -> dict[str, str]:
    """``{"type", "message", "traceback"}`` of an exception, without the monitor's own frames."""
    kind = type(error)
    name = (
        kind.__qualname__
        if kind.__module__ == "builtins"
        else f"{kind.__module__}.{kind.__qualname__}"
    )
    tb: TracebackType | None = error.__traceback__
    while tb is not None and tb.tb_frame.f_globals.get("__name__") in skip_modules:
        tb = tb.tb_next
    try:
        message = str(error)
    except Exception:  # a broken __str__ must not break the monitor
        message = f"<{name}: str() failed>"
    try:
        text = "".join(traceback.format_exception(kind, error, tb))
    except Exception:
        text = f"{name}: {message}\n"
    return {"type": name, "message": message, "traceback": text}


def stand_in(value: Any) -> dict[str, Any]:
    """The marker stored instead of an unstorable value: its type and truncated ``repr``.

    ``{"__repr__": str, "__type__": "module.Qualname", "__truncated__": bool}``.
    """
    kind = type(value)
    try:
        text = repr(value)
    except Exception:
        text = f"<{kind.__qualname__} object; repr() failed>"
    truncated = len(text) > REPR_LIMIT
    if truncated:
        text = text[:REPR_LIMIT] + "…"
    return {
        "__repr__": text,
        "__type__": f"{kind.__module__}.{kind.__qualname__}",
        "__truncated__": truncated,
    }


def _plain_only(value: Any, active: tuple[int, ...] = ()) -> Any:
    """``value`` with every part that is not plain data replaced by :func:`stand_in`.

    ``active`` holds the ids of the containers being walked: a value containing
    itself (or nested deeper than :data:`MAX_NESTING`) becomes a stand-in there.
    """
    if value is None or isinstance(value, _PLAIN_LEAVES):
        return value
    if id(value) in active or len(active) >= MAX_NESTING:
        return stand_in(value)
    inner = (*active, id(value))
    if isinstance(value, Mapping):
        if all(type(k) is str for k in value):
            return {k: _plain_only(v, inner) for k, v in value.items()}
        return stand_in(value)
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain_only(v, inner) for v in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            f.name: _plain_only(getattr(value, f.name), inner) for f in dataclasses.fields(value)
        }
    np = sys.modules.get("numpy")
    if np is not None and isinstance(value, np.ndarray | np.generic) and value.dtype != object:
        return value
    pil = sys.modules.get("PIL.Image")
    if pil is not None and isinstance(value, pil.Image):
        return value
    return stand_in(value)


_LAST_RESORT = frozenset({type(None), bool, float, str})


def _text_and_numbers_only(value: Any) -> Any:
    # The last resort keeps only values no store can refuse (ints may overflow int64).
    return value if type(value) in _LAST_RESORT else stand_in(value)


def storable_variants(
    row: dict[str, Any], user_columns: Callable[[str], bool]
) -> list[dict[str, Any]]:
    """Fallback versions of a refused row, most faithful first.

    Only columns for which ``user_columns(name)`` is true (inputs, output, added
    data, attributes) are rewritten; ``inputs`` is rewritten per argument.
    """
    variants = []
    for fix in (_plain_only, _text_and_numbers_only):
        fixed: dict[str, Any] = {}
        for key, value in row.items():
            if not user_columns(key):
                fixed[key] = value
            elif key == "inputs" and isinstance(value, dict):
                fixed[key] = {k: fix(v) for k, v in value.items()}
            else:
                fixed[key] = fix(value)
        variants.append(fixed)
    return variants
