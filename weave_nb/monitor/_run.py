"""Run one monitored call of each kind: plain, coroutine, generator, async generator.

Every runner has the signature ``runner(fn, record, args, kwargs)`` and returns
what calling ``fn`` returns (a value, a coroutine, a generator, an async
generator). While the function's own code runs, ``record`` is the current
record (context variable), so nested monitored calls link to it; when the call
ends — returned, raised, exhausted or closed — ``record.end`` logs it.

Coroutines and generators start their clock when their body first runs, not
when they are created; generators record the delay to their first item as
``first_item_ms`` and their output is the list of items (reduced later by the
monitored function's ``reduce``). Values sent or thrown into a monitored
generator are forwarded to the wrapped one, as ``yield from`` would. A
generator closed before it was ever started did not run, and logs no row.

A generator the consumer stops before it is exhausted — ``close()``, ``break``,
garbage collection, or still suspended when the interpreter exits — is logged
the same way, sync or async: ``status="success"``, the items yielded so far as
the output, and ``stopped_early=True``. Those still suspended at exit are
logged by an exit hook that runs before the store's final flush (their tables
are opened when they start, never during shutdown), so exit never waits on them.
"""

from __future__ import annotations

import atexit
import inspect
from collections.abc import AsyncGenerator, Callable, Coroutine, Generator
from time import perf_counter_ns, time_ns
from typing import Any

from weave_nb.tracing import SESSION, STATE

from . import schema
from ._record import CURRENT, Record, finish_pending

__all__ = ["Runner", "in_session", "runner_for"]

Runner = Callable[[Callable[..., Any], Record, tuple[Any, ...], dict[str, Any]], Any]


def run_function(
    fn: Callable[..., Any], record: Record, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> Any:
    token = CURRENT.set(record.frame())
    start_ns = time_ns()
    t0 = perf_counter_ns()
    try:
        output = fn(*args, **kwargs)
    except BaseException as error:
        record.end(args, kwargs, None, error, start_ns, perf_counter_ns() - t0)
        raise
    finally:
        CURRENT.reset(token)
    record.end(args, kwargs, output, None, start_ns, perf_counter_ns() - t0)
    return output


async def run_coroutine(
    fn: Callable[..., Coroutine[Any, Any, Any]],
    record: Record,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
) -> Any:
    token = CURRENT.set(record.frame())
    start_ns = time_ns()
    t0 = perf_counter_ns()
    try:
        output = await fn(*args, **kwargs)
    except BaseException as error:
        record.end(args, kwargs, None, error, start_ns, perf_counter_ns() - t0)
        raise
    finally:
        CURRENT.reset(token)
    record.end(args, kwargs, output, None, start_ns, perf_counter_ns() - t0)
    return output


def run_generator(
    fn: Callable[..., Generator[Any, Any, Any]],
    record: Record,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
) -> Generator[Any, Any, Any]:
    return _drive_generator(record, args, kwargs, _create(fn, record, args, kwargs))


def run_async_generator(
    fn: Callable[..., AsyncGenerator[Any, Any]],
    record: Record,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
) -> AsyncGenerator[Any, Any]:
    return _drive_async_generator(record, args, kwargs, _create(fn, record, args, kwargs))


def _create(
    fn: Callable[..., Any], record: Record, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> Any:
    """Call a generator function; a call failing already (bad arguments) is an error row."""
    try:
        return fn(*args, **kwargs)
    except BaseException as error:
        record.end(args, kwargs, None, error, time_ns(), 0)
        raise


class _Clock:
    """Start time, elapsed time and first-item delay of a lazily running call."""

    __slots__ = ("start_ns", "t0")

    def __init__(self) -> None:
        self.start_ns = time_ns()
        self.t0 = perf_counter_ns()

    def elapsed_ns(self) -> int:
        return perf_counter_ns() - self.t0

    def first_item(self, record: Record) -> None:
        record.set_field(schema.FIRST_ITEM_MS, self.elapsed_ns() / 1e6)


_OPEN: dict[Record, tuple[tuple[Any, ...], dict[str, Any], list[Any], _Clock]] = {}
"""Generator calls started and not ended yet: what their rows are built from."""


def _opened(
    record: Record, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> tuple[list[Any], _Clock]:
    """A generator's body starts: open its table now (not during shutdown) and track it."""
    record.prepare_exit()
    items: list[Any] = []
    clock = _Clock()
    _OPEN[record] = (args, kwargs, items, clock)
    return items, clock


def _end(
    record: Record,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    items: list[Any],
    error: BaseException | None,
    clock: _Clock,
    early: bool = False,
) -> None:
    """Log a generator's row once, however many ways it ends (exit hook, then finaliser)."""
    if _OPEN.pop(record, None) is None:
        return
    if early:
        record.set_field(schema.STOPPED_EARLY, True)
    record.end(args, kwargs, items, error, clock.start_ns, clock.elapsed_ns())


def end_open_generators() -> None:
    """Log every generator still suspended (runs at exit, before the store's final flush)."""
    for record, (args, kwargs, items, clock) in list(_OPEN.items()):
        _end(record, args, kwargs, items, None, clock, early=True)
    finish_pending()  # records of auto_log=False functions ended just now


atexit.register(end_open_generators)


def _drive_generator(
    record: Record,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    inner: Generator[Any, Any, Any],
) -> Generator[Any, Any, Any]:
    items, clock = _opened(record, args, kwargs)
    frame = record.frame()
    sent: Any = None
    thrown: BaseException | None = None
    while True:
        token = CURRENT.set(frame)
        try:
            item = inner.send(sent) if thrown is None else inner.throw(thrown)
        except StopIteration as stop:
            _end(record, args, kwargs, items, None, clock)
            return stop.value
        except BaseException as error:
            _end(record, args, kwargs, items, error, clock)
            raise
        finally:
            CURRENT.reset(token)
        if not items:
            clock.first_item(record)
        items.append(item)
        try:
            sent, thrown = (yield item), None
        except GeneratorExit:  # the consumer stopped early: close the inner one, keep the items
            try:
                inner.close()
            finally:
                _end(record, args, kwargs, items, None, clock, early=True)
            raise
        except BaseException as error:
            sent, thrown = None, error


async def _drive_async_generator(
    record: Record,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    inner: AsyncGenerator[Any, Any],
) -> AsyncGenerator[Any, Any]:
    items, clock = _opened(record, args, kwargs)
    frame = record.frame()
    sent: Any = None
    thrown: BaseException | None = None
    while True:
        token = CURRENT.set(frame)
        try:
            item = await (inner.asend(sent) if thrown is None else inner.athrow(thrown))
        except StopAsyncIteration:
            _end(record, args, kwargs, items, None, clock)
            return
        except BaseException as error:
            _end(record, args, kwargs, items, error, clock)
            raise
        finally:
            CURRENT.reset(token)
        if not items:
            clock.first_item(record)
        items.append(item)
        try:
            sent, thrown = (yield item), None
        except GeneratorExit:
            try:
                await inner.aclose()
            finally:
                _end(record, args, kwargs, items, None, clock, early=True)
            raise
        except BaseException as error:
            sent, thrown = None, error


def in_session(
    runner: Runner, derive: Callable[[tuple[Any, ...], dict[str, Any]], str | None]
) -> Runner:
    """``runner`` inside the session ``derive(args, kwargs)`` gives each call (``session=``).

    The call's row gets the ``session_id``, and so do the monitored calls it
    makes while it runs — for plain functions and coroutines; a generator's body
    runs later, in its consumer's context, so only its own row is tagged.
    """
    STATE.hooked = True  # the calls made inside read the session

    if runner is run_coroutine:

        async def run_async(
            fn: Callable[..., Any], record: Record, args: tuple[Any, ...], kwargs: dict[str, Any]
        ) -> Any:
            session_id = derive(args, kwargs)
            if session_id is None:
                return await run_coroutine(fn, record, args, kwargs)
            record.set_field(schema.SESSION_ID, session_id)
            token = SESSION.set(session_id)
            try:
                return await run_coroutine(fn, record, args, kwargs)
            finally:
                SESSION.reset(token)

        return run_async

    def run(
        fn: Callable[..., Any], record: Record, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Any:
        session_id = derive(args, kwargs)
        if session_id is None:
            return runner(fn, record, args, kwargs)
        record.set_field(schema.SESSION_ID, session_id)
        token = SESSION.set(session_id)
        try:
            return runner(fn, record, args, kwargs)
        finally:
            SESSION.reset(token)

    return run


def runner_for(fn: Callable[..., Any]) -> tuple[Runner, bool]:
    """The runner for ``fn``'s kind, and whether its output is a list of yielded items."""
    if inspect.iscoroutinefunction(fn):
        return run_coroutine, False
    if inspect.isasyncgenfunction(fn):
        return run_async_generator, True
    if inspect.isgeneratorfunction(fn):
        return run_generator, True
    return run_function, False
