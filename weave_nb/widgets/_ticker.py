"""Throttled pushes from a background thread after a StreamTable changes.

Widgets must keep updating while a cell is busy (the kernel only answers
browser requests when idle), so they push instead of waiting to be asked. The
push runs in the ticker's own thread, never in the table's watcher thread, so
a slow query of one widget does not delay the other subscribers.
"""

from __future__ import annotations

import threading
import time
import warnings
from collections.abc import Callable
from typing import Protocol

__all__ = ["Ticker"]

_POLL_SECONDS = 0.5
"""How often an idle ticker checks whether its table was closed."""


class Subscribable(Protocol):
    """The part of StreamTable a ticker uses."""

    name: str
    closed: bool

    def subscribe(
        self, callback: Callable[[int], None], *, interval: float = ...
    ) -> Callable[[], None]: ...


class Ticker:
    """Calls ``push()`` after each change of ``table``, coalesced and rate-limited.

    At most ``max_rate`` pushes per second; changes that arrive while a push runs
    or waits are coalesced into the next one. A push that takes long spaces the
    next ones further, so that pushing uses at most ``max_busy`` of the wall time
    (the logging loop it reports on keeps most of the CPU). When the table is
    closed the ticker stops and calls ``on_stop``.
    """

    def __init__(
        self,
        table: Subscribable,
        push: Callable[[], None],
        *,
        max_rate: float = 5.0,
        max_busy: float = 0.25,
        on_stop: Callable[[], None] | None = None,
    ) -> None:
        if max_rate <= 0:
            raise ValueError(f"max_rate must be > 0 per second, got {max_rate}")
        if not 0 < max_busy <= 1:
            raise ValueError(f"max_busy must be in (0, 1], got {max_busy}")
        self._table = table
        self._push = push
        self._min_gap = 1.0 / max_rate
        self._max_busy = max_busy
        self._on_stop = on_stop
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._unsubscribe = table.subscribe(lambda _rows: self._wake.set(), interval=self._min_gap)
        self._thread = threading.Thread(
            target=self._run, name=f"weave_nb-ticker-{table.name}", daemon=True
        )
        self._thread.start()

    @property
    def running(self) -> bool:
        """Whether the ticker thread is alive."""
        return self._thread.is_alive()

    def poke(self) -> None:
        """Push soon even without a table change (within the rate limit)."""
        self._wake.set()

    def close(self) -> None:
        """Unsubscribe and stop the thread. Idempotent; callable from ``push``."""
        self._stop.set()
        self._wake.set()
        self._unsubscribe()
        if self._thread is not threading.current_thread():
            self._thread.join(timeout=5)

    def _run(self) -> None:
        next_push = 0.0
        while not self._stop.is_set():
            if not self._wake.wait(_POLL_SECONDS):
                if self._table.closed:
                    break
                continue
            delay = next_push - time.monotonic()
            if delay > 0 and self._stop.wait(delay):
                break
            self._wake.clear()
            started = time.monotonic()
            try:
                self._push()
            except Exception as error:
                warnings.warn(
                    f"weave_nb: live update of {self._table.name!r} failed: {error!r}",
                    RuntimeWarning,
                    stacklevel=1,
                )
            took = time.monotonic() - started
            next_push = started + max(self._min_gap, took / self._max_busy)
        self._unsubscribe()
        if not self._stop.is_set() and self._on_stop is not None:
            self._on_stop()
