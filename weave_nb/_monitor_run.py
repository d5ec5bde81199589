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
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncGenerator, Callable, Coroutine, Generator
from time import perf_counter_ns, time_ns
from typing import Any

from ._monitor_record import CURRENT, Record

__all__ = ["Runner", "runner_for"]

Runner = Callable[[Callable[..., Any], Record, tuple[Any, ...], dict[str, Any]], Any]


def run_function(
    fn: Callable[..., Any], record: Record, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> Any:
    token = CURRENT.set(record)
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
    token = CURRENT.set(record)
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
        record.set_field("first_item_ms", self.elapsed_ns() / 1e6)


def _drive_generator(
    record: Record,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    inner: Generator[Any, Any, Any],
) -> Generator[Any, Any, Any]:
    clock = _Clock()
    items: list[Any] = []
    sent: Any = None
    thrown: BaseException | None = None
    while True:
        token = CURRENT.set(record)
        try:
            item = inner.send(sent) if thrown is None else inner.throw(thrown)
        except StopIteration as stop:
            record.end(args, kwargs, items, None, clock.start_ns, clock.elapsed_ns())
            return stop.value
        except BaseException as error:
            record.end(args, kwargs, items, error, clock.start_ns, clock.elapsed_ns())
            raise
        finally:
            CURRENT.reset(token)
        if not items:
            clock.first_item(record)
        items.append(item)
        try:
            sent, thrown = (yield item), None
        except GeneratorExit:  # the consumer stopped early: close the inner one, keep the items
            inner.close()
            record.end(args, kwargs, items, None, clock.start_ns, clock.elapsed_ns())
            raise
        except BaseException as error:
            sent, thrown = None, error


async def _drive_async_generator(
    record: Record,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    inner: AsyncGenerator[Any, Any],
) -> AsyncGenerator[Any, Any]:
    clock = _Clock()
    items: list[Any] = []
    sent: Any = None
    thrown: BaseException | None = None
    while True:
        token = CURRENT.set(record)
        try:
            item = await (inner.asend(sent) if thrown is None else inner.athrow(thrown))
        except StopAsyncIteration:
            record.end(args, kwargs, items, None, clock.start_ns, clock.elapsed_ns())
            return
        except BaseException as error:
            record.end(args, kwargs, items, error, clock.start_ns, clock.elapsed_ns())
            raise
        finally:
            CURRENT.reset(token)
        if not items:
            clock.first_item(record)
        items.append(item)
        try:
            sent, thrown = (yield item), None
        except GeneratorExit:
            await inner.aclose()
            record.end(args, kwargs, items, None, clock.start_ns, clock.elapsed_ns())
            raise
        except BaseException as error:
            sent, thrown = None, error


def runner_for(fn: Callable[..., Any]) -> tuple[Runner, bool]:
    """The runner for ``fn``'s kind, and whether its output is a list of yielded items."""
    if inspect.iscoroutinefunction(fn):
        return run_coroutine, False
    if inspect.isasyncgenfunction(fn):
        return run_async_generator, True
    if inspect.isgeneratorfunction(fn):
        return run_generator, True
    return run_function, False
