"""Watches: a condition over the newest rows, evaluated in a background thread.

``t.watch("avg(CASE WHEN status = 'error' THEN 1 ELSE 0 END) > 0.1", callback)``
evaluates the condition every ``every`` over the rows whose ``_timestamp`` falls in the
last ``window`` and calls ``callback(event)`` when it turns true, and again when it
clears. The condition is an aggregate SQL expression (one true/false answer for the
window) checked at the call, so a typo raises ``ValueError`` there rather than failing
later in the thread; a condition may also be a function ``(table, where) -> bool``, such
as :func:`drift_condition`. Over a window without rows most aggregates are NULL, which
does not fire; ``count(*) < 10`` does, so a watch can also alert on silence. A condition
function is not called for an empty window.

A condition that fails while watching (a column dropped from a rewritten table, a failing
function) is reported once as a warning and its watch stops; an exception raised by the
callback is reported as a warning and watching goes on. Watches stop through the handle
(:meth:`Watch.stop`) and when the table closes.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
import warnings
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeAlias

import pyarrow as pa

from weave_nb.query import parse_every, time_range

if TYPE_CHECKING:
    from weave_nb.quality._windows import Window
    from weave_nb.quality.drift import Thresholds
    from weave_nb.store import StreamTable

__all__ = [
    "Condition",
    "Watch",
    "WatchEvent",
    "active_watches",
    "drift_condition",
    "on_watch_change",
]

Condition: TypeAlias = "str | Callable[[StreamTable, str], bool]"
"""An aggregate SQL condition over the window's rows, or ``(table, where) -> bool``."""

# How often a waiting watch looks whether its table closed (watches may wait for minutes).
_CLOSE_CHECK_SECONDS = 0.25

_WATCHES: weakref.WeakKeyDictionary[StreamTable, list[Watch]] = weakref.WeakKeyDictionary()
# Who wants to hear when a table's watches start, fire, clear or stop (boards' headers).
_LISTENERS: weakref.WeakKeyDictionary[StreamTable, list[Callable[[], object]]] = (
    weakref.WeakKeyDictionary()
)
_WATCHES_LOCK = threading.Lock()


@dataclass(frozen=True)
class WatchEvent:
    """A watch's condition turned true (``fired``) or cleared (``not fired``)."""

    watch: Watch
    fired: bool
    at: dt.datetime
    rows: int
    """Rows in the window when the condition was evaluated."""


class Watch:
    """Handle of a running watch: :meth:`stop` it; ``firing`` says whether it is true now."""

    def __init__(
        self,
        table: StreamTable,
        condition: Condition,
        callback: Callable[[WatchEvent], object],
        *,
        every: str | dt.timedelta | float = "1min",
        window: str | dt.timedelta | float | None = None,
    ) -> None:
        self.table = table
        self.condition = condition
        self.callback = callback
        self.every = _seconds(every, "every")
        self.window = self.every if window is None else _seconds(window, "window")
        self.firing = False
        self.error: str | None = None
        """Why the watch stopped by itself (its condition failed), else None."""
        if isinstance(condition, str):
            _check_sql(table, condition)
        elif not callable(condition):
            raise TypeError(
                f"a watch condition is SQL text or a function, got {type(condition).__name__}"
            )
        self._callback_warned = False
        self._stopped = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name=f"weave_nb-watch-{table.name}", daemon=True
        )
        with _WATCHES_LOCK:
            _WATCHES.setdefault(table, []).append(self)
        self._thread.start()
        _notify(table)

    @property
    def active(self) -> bool:
        """Whether the watch still evaluates its condition."""
        return not self._stopped.is_set() and not self.table.closed

    def stop(self) -> None:
        """Stop watching (idempotent); returns once the thread has finished."""
        self._stopped.set()
        _forget(self)
        if self._thread is not threading.current_thread():
            self._thread.join(timeout=5)

    def __repr__(self) -> str:
        state = ("firing" if self.firing else "active") if self.active else "stopped"
        return f"Watch({self.condition!r}, every={self.every}s, window={self.window}s, {state})"

    # -- the thread ---------------------------------------------------------------------

    def _run(self) -> None:
        try:
            while not self._stopped.is_set() and not self.table.closed:
                if not self._evaluate():
                    return
                self._wait(self.every)
        finally:
            self._stopped.set()
            _forget(self)

    def _wait(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while not self.table.closed:
            left = deadline - time.monotonic()
            if left <= 0 or self._stopped.wait(min(left, _CLOSE_CHECK_SECONDS)):
                return

    def _evaluate(self) -> bool:
        """Evaluate once and call back on a change; False when the watch must stop."""
        now = dt.datetime.now(dt.timezone.utc)
        where = time_range(now - dt.timedelta(seconds=self.window), None) or "TRUE"
        try:
            if isinstance(self.condition, str):
                fired, rows = _sql_condition(self.table, self.condition, where)
            else:
                rows = self.table.count(where)
                fired = rows > 0 and bool(self.condition(self.table, where))
        except Exception as error:
            if self.table.closed or self._stopped.is_set():
                return False
            self.error = f"{type(error).__name__}: {error}"
            warnings.warn(
                f"weave_nb: watch {self.condition!r} on table {self.table.name!r} failed "
                f"({self.error}); it is stopped",
                RuntimeWarning,
                stacklevel=1,
            )
            return False
        if fired != self.firing:
            self.firing = fired
            self._call(WatchEvent(self, fired, now, rows))
            _notify(self.table)
        return True

    def _call(self, event: WatchEvent) -> None:
        try:
            self.callback(event)
        except Exception as error:
            if not self._callback_warned:
                self._callback_warned = True
                warnings.warn(
                    f"weave_nb: the callback of watch {self.condition!r} raised {error!r}; "
                    "the watch goes on",
                    RuntimeWarning,
                    stacklevel=1,
                )


def active_watches(table: StreamTable) -> list[Watch]:
    """The watches running on ``table``."""
    with _WATCHES_LOCK:
        return [w for w in _WATCHES.get(table, []) if w.active]


def on_watch_change(table: StreamTable, callback: Callable[[], object]) -> Callable[[], None]:
    """Call ``callback()`` (from the watch's thread) when a watch of ``table`` starts, fires,
    clears or stops; returns a function that stops the calls."""
    with _WATCHES_LOCK:
        _LISTENERS.setdefault(table, []).append(callback)

    def remove() -> None:
        with _WATCHES_LOCK:
            listeners = _LISTENERS.get(table, [])
            if callback in listeners:
                listeners.remove(callback)

    return remove


def _forget(watch: Watch) -> None:
    with _WATCHES_LOCK:
        watches = _WATCHES.get(watch.table, [])
        if watch not in watches:
            return
        watches.remove(watch)
    _notify(watch.table)


def _notify(table: StreamTable) -> None:
    with _WATCHES_LOCK:
        listeners = list(_LISTENERS.get(table, []))
    for listener in listeners:
        try:
            listener()
        except Exception as error:  # a listener's failure must not stop the watch
            warnings.warn(f"weave_nb: watch listener {listener!r} raised {error!r}", stacklevel=1)


def drift_condition(
    reference: Window,
    columns: Sequence[str] | None = None,
    *,
    thresholds: Thresholds | None = None,
) -> Callable[[StreamTable, str], bool]:
    """A watch condition: true when any column drifted from ``reference`` in the window.

    ``t.watch(drift_condition((start, end)), callback, every="5min", window="1h")``.
    """
    from weave_nb.quality.drift import drift

    def drifted(table: StreamTable, where: str) -> bool:
        result = drift(table, reference, where, columns, thresholds=thresholds)
        return bool(result["drifted"].any())

    return drifted


def _check_sql(table: StreamTable, condition: str) -> None:
    """Raise ``ValueError`` unless ``condition`` is one true/false answer over the rows."""
    try:
        result = table.sql(f"SELECT ({condition}) AS fired FROM t WHERE FALSE")
    except ValueError as error:
        raise ValueError(f"watch condition {condition!r} is not valid SQL: {error}") from None
    if result.num_rows != 1:
        raise ValueError(
            f"watch condition {condition!r} must aggregate the window's rows into one answer, "
            "e.g. \"avg(CASE WHEN status = 'error' THEN 1 ELSE 0 END) > 0.1\" or "
            '"count(*) FILTER (WHERE latency_ms > 1000) > 5"'
        )
    kind = result.schema.field("fired").type
    if not (pa.types.is_boolean(kind) or pa.types.is_null(kind)):
        raise ValueError(f"watch condition {condition!r} must be true or false, not {kind}")


def _sql_condition(table: StreamTable, condition: str, where: str) -> tuple[bool, int]:
    row = table.sql(f"SELECT ({condition}) AS fired, count(*) AS n FROM t WHERE {where}")
    fired, rows = row.column("fired")[0].as_py(), row.column("n")[0].as_py()
    return bool(fired), int(rows)


def _seconds(value: str | dt.timedelta | float, name: str) -> float:
    if isinstance(value, str):
        seconds = parse_every(value).total_seconds()
    elif isinstance(value, dt.timedelta):
        seconds = value.total_seconds()
    else:
        seconds = float(value)
    if not seconds > 0:
        raise ValueError(f"watch {name} must be a positive duration, got {value!r}")
    return seconds
