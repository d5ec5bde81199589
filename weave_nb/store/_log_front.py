"""The fast path of ``StreamTable.log()``: the C one when built, else its Python reference.

A row that is a dict of plain values, with only keys accepted before, is copied,
stamped with its log time and appended to the pending list: nothing in it can be
refused or change later. Every other row goes to ``_log_checked``. The C front
keeps such a row as the tuple of its values when its key order has a shape
(``_row_shape``, see ``Stream.add_shape``), and checks the keys of a row like the
one before by identity; this reference keeps every row as a dict.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .._accel import SPEEDUPS
from ._batch import STAMP
from ._normalize import PLAIN_TYPES

__all__ = ["LogFront", "PyLogFront"]

_now = time.time_ns


class PyLogFront:
    """What ``weave_nb._speedups.LogFront`` does, in Python: the base of ``TableWriter``."""

    _pending: list[Any]
    _fast_keys: frozenset[str]
    _backlog_limit: int
    _log_checked: Callable[[Any], None]
    """The subclass's path for rows this one does not take."""
    _wait_for_room: Callable[[], None]
    """The subclass's backpressure, once the backlog passes ``_backlog_limit``."""

    def log(self, row: Any) -> None:
        """Append one row (a mapping) or many (a list of mappings).

        Keys are column names; values may be scalars, ``None``, ``str``, ``bytes``,
        nested dicts and lists, datetimes, numpy scalars and arrays, pandas
        timestamps, dataclasses, PIL images or :class:`weave_nb.Image`. ``_id`` is
        kept if given (else generated), ``_timestamp`` is the time of this call.
        A value that cannot be stored raises ``TypeError``/``ValueError`` here,
        naming the column and the type; for a list, no row of it is accepted.
        """
        if (
            type(row) is dict
            and self._fast_keys.issuperset(row)
            and PLAIN_TYPES.issuperset(map(type, row.values()))
        ):
            row = row.copy()
            row[STAMP] = _now()
            self._pending.append(row)
            if len(self._pending) > self._backlog_limit:
                self._wait_for_room()
            return
        self._log_checked(row)


if TYPE_CHECKING:
    LogFront = PyLogFront
elif SPEEDUPS is not None:
    SPEEDUPS.set_plain_types(PLAIN_TYPES)
    LogFront = SPEEDUPS.LogFront
else:
    LogFront = PyLogFront
