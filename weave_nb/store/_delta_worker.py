"""Every delta-rs operation runs through :func:`call`: here, or in a helper process.

delta-rs's Rust runtime does not survive ``fork()`` (a forked child that
touches it panics), and production servers fork (gunicorn ``--preload``,
Celery prefork, ``multiprocessing``). So the first process that uses delta-rs
owns the runtime; a forked child sends the same operations (``_delta``'s
functions) to a helper process of its own, started on first need, while it
keeps writing data files itself.

The child starts this module with ``python -m`` (a fresh interpreter, not a
fork, and not the application's ``__main__``) and sends it ``(operation name,
arguments)`` pickles over a pipe. Requests are answered in order, one at a
time. The helper exits when the pipe closes, so it never outlives the process
that started it.
"""

from __future__ import annotations

import os
import pickle
import struct
import subprocess
import sys
import threading
from collections.abc import Callable
from typing import IO, Any, TypeVar, cast

from . import _delta

__all__ = ["WorkerClient", "call"]

_T = TypeVar("_T")

_HEADER = struct.Struct("!Q")
_OPERATIONS = ("load", "create", "evolve", "commit", "delete_rows", "vacuum")


class WorkerError(OSError):
    """An operation failed in the helper process (its type and message)."""


def _send(stream: IO[bytes], message: Any) -> None:
    payload = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(_HEADER.pack(len(payload)) + payload)
    stream.flush()


def _receive(stream: IO[bytes]) -> Any:
    header = stream.read(_HEADER.size)
    if len(header) < _HEADER.size:
        raise EOFError
    (size,) = _HEADER.unpack(header)
    return pickle.loads(stream.read(size))


class WorkerClient:
    """The forked process's end: starts the helper and calls operations in it."""

    def __init__(self) -> None:
        self._pid = os.getpid()
        self._lock = threading.Lock()
        self._process = subprocess.Popen(
            [sys.executable, "-m", "weave_nb.store._delta_worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            close_fds=True,
        )

    def usable(self) -> bool:
        """Whether this helper belongs to this process and is running."""
        return self._pid == os.getpid() and self._process.poll() is None

    def call(self, name: str, args: tuple[Any, ...]) -> Any:
        """Run operation ``name`` with ``args`` in the helper; re-raise its failure here."""
        requests, answers = self._process.stdin, self._process.stdout
        if requests is None or answers is None:
            raise WorkerError("the delta-rs helper process has no pipes")
        with self._lock:
            try:
                _send(requests, (name, args))
                ok, result = _receive(answers)
            except (EOFError, BrokenPipeError) as error:
                raise WorkerError(f"the delta-rs helper process stopped ({error!r})") from None
        if not ok:
            raise WorkerError(result)
        return result


_runtime_pid: int | None = None
_worker: WorkerClient | None = None
_worker_lock = threading.Lock()


def call(operation: Callable[..., _T], *args: Any) -> _T:
    """Run ``operation(*args)`` here, or in a helper process in a forked child."""
    global _runtime_pid
    pid = os.getpid()
    if _runtime_pid is None:
        _runtime_pid = pid
    if pid == _runtime_pid:
        return operation(*args)
    return cast(_T, _remote(operation.__name__, args))


def _remote(name: str, args: tuple[Any, ...]) -> Any:
    global _worker
    with _worker_lock:
        if _worker is None or not _worker.usable():
            _worker = WorkerClient()
        worker = _worker
    return worker.call(name, args)


def _after_fork_in_child() -> None:
    global _worker, _worker_lock
    _worker = None  # the parent's helper (if any) talks to the parent
    _worker_lock = threading.Lock()


os.register_at_fork(after_in_child=_after_fork_in_child)


def _serve() -> None:
    # Answers go to the original stdout; anything the libraries print goes to stderr.
    answers = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    requests = sys.stdin.buffer
    while True:
        try:
            name, args = _receive(requests)
        except EOFError:
            return
        try:
            if name not in _OPERATIONS:
                raise ValueError(f"unknown operation {name!r}")
            reply: tuple[bool, Any] = (True, getattr(_delta, name)(*args))
        except Exception as error:
            reply = (False, f"{type(error).__name__}: {error}")
        _send(answers, reply)


if __name__ == "__main__":
    _serve()
