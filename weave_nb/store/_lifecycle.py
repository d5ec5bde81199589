"""Open tables of this process, flushed when it exits, is told to stop, or a forked worker ends.

Kubernetes, Docker, systemd and gunicorn stop a process with SIGTERM, whose
default action ends it without running ``atexit``: every unflushed row would
be lost on each deploy. The handler installed here flushes every open table,
then hands the signal on — to the handler the application had installed, or
to the default action (re-raised with it restored) — so the signal keeps its
normal effect. SIGINT is handled the same way (then ``KeyboardInterrupt`` as
usual). ``WEAVE_NB_SIGNALS=0`` leaves signals alone.

``multiprocessing`` children end with ``os._exit``, which skips ``atexit``;
a finalizer registered in each forked child flushes there instead. At a
normal exit every open table is closed (its rows flushed).
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import warnings
import weakref
from types import FrameType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._table import StreamTable

__all__ = [
    "after_fork_in_child",
    "close_at_exit",
    "flush_open_tables",
    "install_signal_flush",
    "open_tables",
    "track",
    "untrack",
]

_SIGNALS = (signal.SIGTERM, signal.SIGINT)
_FLUSH_TIMEOUT = 10.0
_installed_in: int | None = None
_previous: dict[int, Any] = {}
_OPEN_TABLES: weakref.WeakSet[StreamTable] = weakref.WeakSet()


def track(table: StreamTable) -> None:
    """``table`` is open: flush it at exit, on a stop signal and in forked children."""
    _OPEN_TABLES.add(table)


def untrack(table: StreamTable) -> None:
    """``table`` is closed."""
    _OPEN_TABLES.discard(table)


def open_tables() -> list[StreamTable]:
    """The tables of this process that are open now."""
    return list(_OPEN_TABLES)


def flush_open_tables() -> None:
    """Make every open table's accepted rows durable (signal handlers, forked children's exit)."""
    for table in open_tables():
        if table.location is not None and not table.read_only and not table.closed:
            try:
                table.flush()
            except Exception as error:  # report, and keep flushing the others
                warnings.warn(f"weave_nb: could not flush {table!r}: {error}", stacklevel=1)


def close_at_exit() -> None:
    """Close every open table (``atexit``): their accepted rows are flushed."""
    for table in open_tables():
        try:
            table.close()
        except Exception as error:  # report, and keep closing the others
            warnings.warn(f"weave_nb: could not flush {table!r} at exit: {error}", stacklevel=1)


def install_signal_flush() -> None:
    """Install the flushing handlers once per process (main thread only, else a no-op)."""
    global _installed_in
    if _installed_in == os.getpid() or os.environ.get("WEAVE_NB_SIGNALS") == "0":
        return
    if threading.current_thread() is not threading.main_thread():
        return
    for signum in _SIGNALS:
        previous = signal.getsignal(signum)
        if previous is None or previous is signal.SIG_IGN:
            continue  # installed outside Python, or ignored on purpose: leave it
        _previous[signum] = previous
        signal.signal(signum, _on_signal)
    _installed_in = os.getpid()


def _on_signal(signum: int, frame: FrameType | None) -> None:
    _flush_with_timeout()
    previous = _previous.get(signum, signal.SIG_DFL)
    if callable(previous):
        previous(signum, frame)
        return
    # The default action: restore it and deliver the signal again.
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)


def _flush_with_timeout() -> None:
    """Flush from a helper thread: the interrupted main thread may hold a table's lock."""
    worker = threading.Thread(target=flush_open_tables, name="weave_nb-signal-flush", daemon=True)
    worker.start()
    worker.join(_FLUSH_TIMEOUT)


def after_fork_in_child() -> None:
    """In a forked child: each table a new writer; flush at a ``multiprocessing`` worker's
    ``os._exit`` too."""
    global _installed_in
    for table in open_tables():
        table._after_fork()
    _installed_in = None if _installed_in is None else os.getpid()
    util = sys.modules.get("multiprocessing.util")
    if util is None:
        return
    # multiprocessing clears the finalizers it inherited right after the fork, then
    # runs its after-fork hooks: register the exit flush from one of those.
    util.register_after_fork(
        _MARKER, lambda _: util.Finalize(None, flush_open_tables, exitpriority=100)
    )


class _Marker:
    """A weak-referenceable key for multiprocessing's after-fork registry."""


_MARKER = _Marker()
