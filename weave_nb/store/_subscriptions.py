"""Change notifications: one watcher thread per table, throttled per subscriber."""

from __future__ import annotations

import threading
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._table import StreamTable

__all__ = ["Subscriptions"]

_TICK_SECONDS = 0.05


@dataclass(eq=False)
class _Subscriber:
    callback: Callable[[int], None]
    interval: float
    seen_version: int
    next_time: float = field(default=0.0)


class Subscriptions:
    """Calls subscribers after the table changes, at most once per their interval.

    The watcher polls cheap counters every 50 ms (and reads other writers' new
    commits from the Delta log every ``interval``), so it never touches the data.
    """

    def __init__(self, table: StreamTable) -> None:
        self._table = table
        self._subscribers: list[_Subscriber] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def add(self, callback: Callable[[int], None], interval: float) -> Callable[[], None]:
        """Register ``callback``; returns the function that removes it."""
        if not callable(callback):
            raise TypeError(f"subscribe() takes a callable, got {type(callback).__name__}")
        if interval <= 0:
            raise ValueError(f"interval must be > 0 seconds, got {interval}")
        subscriber = _Subscriber(callback, float(interval), self._table.version)
        with self._lock:
            self._subscribers.append(subscriber)
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name=f"weave_nb-watch-{self._table.name}", daemon=True
                )
                self._thread.start()

        def unsubscribe() -> None:
            with self._lock:
                if subscriber in self._subscribers:
                    self._subscribers.remove(subscriber)

        return unsubscribe

    def close(self) -> None:
        """Stop the watcher and drop every subscriber."""
        self._stop.set()
        with self._lock:
            self._subscribers.clear()
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=2)

    def _run(self) -> None:
        last_scan = 0.0
        while not self._stop.wait(_TICK_SECONDS):
            with self._lock:
                subscribers = list(self._subscribers)
            if not subscribers:
                continue
            now = time.monotonic()
            if now - last_scan >= min(s.interval for s in subscribers):
                last_scan = now
                try:
                    self._table.refresh()
                except Exception as error:
                    warnings.warn(f"weave_nb: watching {self._table.name!r}: {error}", stacklevel=1)
            version = self._table.version
            for subscriber in subscribers:
                if version != subscriber.seen_version and now >= subscriber.next_time:
                    subscriber.seen_version = version
                    subscriber.next_time = now + subscriber.interval
                    try:
                        subscriber.callback(len(self._table))
                    except Exception as error:
                        warnings.warn(
                            f"weave_nb: subscriber {subscriber.callback!r} of "
                            f"{self._table.name!r} raised {error!r}",
                            RuntimeWarning,
                            stacklevel=1,
                        )
