"""Flush accepted rows when the process is told to stop, or a forked worker ends.

Kubernetes, Docker, systemd and gunicorn stop a process with SIGTERM, whose
default action ends it without running ``atexit``: every unflushed row would
be lost on each deploy. The handler installed here flushes every open table,
then hands the signal on — to the handler the application had installed, or
to the default action (re-raised with it restored) — so the signal keeps its
normal effect. SIGINT is handled the same way (then ``KeyboardInterrupt`` as
usual). ``WEAVE_NB_SIGNALS=0`` leaves signals alone.

``multiprocessing`` children end with ``os._exit``, which skips ``atexit``;
a finalizer registered in each forked child flushes there instead.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Callable
from types import FrameType
from typing import Any

__all__ = ["after_fork_in_child", "install_signal_flush", "set_flush"]

_SIGNALS = (signal.SIGTERM, signal.SIGINT)
_FLUSH_TIMEOUT = 10.0
_flush: Callable[[], None] | None = None
_installed_in: int | None = None
_previous: dict[int, Any] = {}


def set_flush(flush: Callable[[], None]) -> None:
    """The function that flushes every open table."""
    global _flush
    _flush = flush


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
    if _flush is None:
        return
    worker = threading.Thread(target=_flush, name="weave_nb-signal-flush", daemon=True)
    worker.start()
    worker.join(_FLUSH_TIMEOUT)


def after_fork_in_child(flush: Callable[[], None]) -> None:
    """In a forked child: flush at a ``multiprocessing`` worker's ``os._exit`` too."""
    global _installed_in
    _installed_in = None if _installed_in is None else os.getpid()
    util = sys.modules.get("multiprocessing.util")
    if util is None:
        return
    # multiprocessing clears the finalizers it inherited right after the fork, then
    # runs its after-fork hooks: register the exit flush from one of those.
    util.register_after_fork(_MARKER, lambda _: util.Finalize(None, flush, exitpriority=100))


class _Marker:
    """A weak-referenceable key for multiprocessing's after-fork registry."""


_MARKER = _Marker()
