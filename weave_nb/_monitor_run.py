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
generator are forwarded to the wrapped one, as ``yield from`` would.
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncGenerator, Callable, Coroutine, Generator
from typing import Any

from ._monitor_record import CURRENT, Record

__all__ = ["Runner", "runner_for"]

Runner = Callable[[Callable[..., Any], Record, tuple[Any, ...], dict[str, Any]], Any]


def run_function(
    fn: Callable[..., Any], record: Record, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> Any:
    token = CURRENT.set(record)
    try:
        output = fn(*args, **kwargs)
    except BaseException as error:
        record.end(None, error)
        raise
    finally:
        CURRENT.reset(token)
    record.end(output, None)
    return output


async def run_coroutine(
    fn: Callable[..., Coroutine[Any, Any, Any]],
    record: Record,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
) -> Any:
    record.restart_clock()
    token = CURRENT.set(record)
    try:
        output = await fn(*args, **kwargs)
    except BaseException as error:
        record.end(None, error)
        raise
    finally:
        CURRENT.reset(token)
    record.end(output, None)
    return output


def _create(
    fn: Callable[..., Any], record: Record, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> Any:
    """Call a generator function; a call that fails already (bad arguments) is an error row."""
    try:
        return fn(*args, **kwargs)
    except BaseException as error:
        record.end(None, error)
        raise


def run_generator(
    fn: Callable[..., Generator[Any, Any, Any]],
    record: Record,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
) -> Generator[Any, Any, Any]:
    return _drive_generator(record, _create(fn, record, args, kwargs))


def _drive_generator(record: Record, inner: Generator[Any, Any, Any]) -> Generator[Any, Any, Any]:
    record.restart_clock()
    items: list[Any] = []
    sent: Any = None
    thrown: BaseException | None = None
    while True:
        token = CURRENT.set(record)
        try:
            item = inner.send(sent) if thrown is None else inner.throw(thrown)
        except StopIteration as stop:
            record.end(items, None)
            return stop.value
        except BaseException as error:
            record.end(items, error)
            raise
        finally:
            CURRENT.reset(token)
        if not items:
            record.mark_first_item()
        items.append(item)
        try:
            sent, thrown = (yield item), None
        except GeneratorExit:  # the consumer stopped early: close the inner one, keep the items
            inner.close()
            record.end(items, None)
            raise
        except BaseException as error:
            sent, thrown = None, error


def run_async_generator(
    fn: Callable[..., AsyncGenerator[Any, Any]],
    record: Record,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
) -> AsyncGenerator[Any, Any]:
    return _drive_async_generator(record, _create(fn, record, args, kwargs))


async def _drive_async_generator(
    record: Record, inner: AsyncGenerator[Any, Any]
) -> AsyncGenerator[Any, Any]:
    record.restart_clock()
    items: list[Any] = []
    sent: Any = None
    thrown: BaseException | None = None
    while True:
        token = CURRENT.set(record)
        try:
            item = await (inner.asend(sent) if thrown is None else inner.athrow(thrown))
        except StopAsyncIteration:
            record.end(items, None)
            return
        except BaseException as error:
            record.end(items, error)
            raise
        finally:
            CURRENT.reset(token)
        if not items:
            record.mark_first_item()
        items.append(item)
        try:
            sent, thrown = (yield item), None
        except GeneratorExit:
            await inner.aclose()
            record.end(items, None)
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
