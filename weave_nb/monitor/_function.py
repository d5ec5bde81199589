"""The monitored function: calls the wrapped one, and hands each call to its sink."""

from __future__ import annotations

import functools
import importlib
import inspect
import os
import re
from collections.abc import Callable, Mapping
from time import perf_counter_ns, time_ns
from typing import Any, Concatenate, Generic, ParamSpec, TypeVar, overload

from weave_nb._redact import Redactor
from weave_nb.store import PLAIN_TYPES, Intake, StreamTable, intake_of
from weave_nb.tracing import STATE

from ._bind import is_method, make_binder
from ._record import (
    CURRENT,
    IDS,
    KEY,
    NON_RECORDING,
    PARENT,
    RECORD,
    TRACE,
    Frame,
    Record,
    record_of,
)
from ._run import in_session, run_function, runner_for
from ._sink import CallSink
from ._switch import SWITCH
from ._values import as_cell

__all__ = ["BoundMonitoredFunction", "MonitoredFunction", "default_table_name"]

P = ParamSpec("P")
P2 = ParamSpec("P2")
R = TypeVar("R")
R2 = TypeVar("R2")
S = TypeVar("S")
_MF = TypeVar("_MF", bound="MonitoredFunction[Any, Any]")
_COUNTER = IDS.counter


def default_table_name(fn: Callable[..., Any]) -> str:
    """``fn.__qualname__`` as a valid table name: ``outer.<locals>.f`` → ``outer._locals_.f``."""
    qualname = getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None) or "function"
    return re.sub(r"[^A-Za-z0-9_.-]", "_", qualname)[-200:].strip(".") or "function"


class MonitoredFunction(Generic[P, R]):
    """A function whose calls are logged as rows of :attr:`table`; made by :func:`monitor`.

    Calling it calls the wrapped function and returns its result unchanged;
    :meth:`call` also returns the call's :class:`Record`.
    """

    __wrapped__: Callable[P, R]
    __name__: str
    __qualname__: str

    def __init__(
        self,
        fn: Callable[P, R],
        *,
        table: StreamTable | None,
        table_name: str,
        root: str | os.PathLike[str] | None,
        preprocess: Callable[[dict[str, Any]], Mapping[str, Any]] | None,
        postprocess: Callable[[Any], Any] | None,
        reduce: Callable[[list[Any]], Any] | None,
        attributes: Mapping[str, Any],
        auto_log: bool,
        storage_options: Mapping[str, str] | None = None,
        session: Callable[[dict[str, Any]], Any] | None = None,
        prices: Mapping[str, tuple[float, float]] | None = None,
        redactor: Redactor | None = None,
    ) -> None:
        functools.update_wrapper(self, fn)
        self._runner, collects = runner_for(fn)
        self._sink = CallSink(
            fn,
            getattr(fn, "__qualname__", None) or default_table_name(fn),
            # Without preprocess, image arrays become cells while binding; with it, the
            # hook must see the caller's values, so conversion happens after it.
            make_binder(
                fn, skip_first=is_method(fn), convert=as_cell if preprocess is None else None
            ),
            table=table,
            table_name=table_name,
            root=root,
            storage_options=storage_options,
            preprocess=preprocess,
            postprocess=postprocess,
            reduce=reduce,
            collects=collects,
            attributes=attributes,
            auto_log=auto_log,
            session=session,
            prices=prices,
            redactor=redactor,
        )
        if session is not None:
            self._runner = in_session(self._runner, self._sink.session_from)
        self._fast = self._runner is run_function and auto_log
        """Whether calls may take the fast path of :meth:`__call__`."""
        self._intake: Intake | None = None
        """The backlog of the table's deferred writer, once a call made it."""
        if inspect.iscoroutinefunction(fn) and inspect.isfunction(fn):
            # Look function-like, so inspect.iscoroutinefunction() (and the frameworks
            # relying on it to decide whether to await) sees an async function.
            self.__code__ = fn.__code__  # type: ignore[attr-defined]
            self.__defaults__ = fn.__defaults__  # type: ignore[attr-defined]
            self.__kwdefaults__ = fn.__kwdefaults__  # type: ignore[attr-defined]

    @property
    def name(self) -> str:
        """Qualified name of the wrapped function (the ``name`` column)."""
        return self._sink.name

    @property
    def auto_log(self) -> bool:
        """Whether each row is written when its call ends (else at :meth:`Record.finish`)."""
        return self._sink.auto_log

    # -- calling -------------------------------------------------------------

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        """Call the function; its row is written as the call ends."""
        intake = self._intake
        if intake is None or STATE.hooked or not SWITCH.enabled:
            return self._call(args, kwargs)
        # The fast path: a plain function logging plain values, once its table is
        # open. Everything that can wait (ids as text, binding arguments to names,
        # datetimes, redaction, size limits, tokens) is left to the store's flusher;
        # the caller pays for the context variable, the clocks, a type check of the
        # values and one append to the store's backlog (its intake: the writer's
        # own work, without a call or a clock read; the row's time is the call's
        # end). Inlined (no helper calls): each call level costs as much as the append.
        parent = CURRENT.get()
        key = next(_COUNTER)
        frame: Frame
        if parent is None:
            frame = [key, key, None, self._sink, None]
        else:
            frame = [key, parent[TRACE], parent[KEY], self._sink, None]
        token = CURRENT.set(frame)
        start_ns = time_ns()
        t0 = perf_counter_ns()
        try:
            output = self.__wrapped__(*args, **kwargs)
        except BaseException as error:
            elapsed_ns = perf_counter_ns() - t0
            CURRENT.reset(token)
            record_of(frame).end(args, kwargs, None, error, start_ns, elapsed_ns)
            raise
        elapsed_ns = perf_counter_ns() - t0
        CURRENT.reset(token)
        if (  # plain values cannot be refused or change later: the flusher builds the row
            frame[RECORD] is None  # else current_record() was asked for: data may have been added
            and type(output) in PLAIN_TYPES
            and (  # unrolled for two arguments: map() and issuperset() cost twice as much
                (len(args) == 2 and type(args[0]) in PLAIN_TYPES and type(args[1]) in PLAIN_TYPES)
                or PLAIN_TYPES.issuperset(map(type, args))
            )
            and (not kwargs or PLAIN_TYPES.issuperset(map(type, kwargs.values())))
        ):
            pending = intake.pending
            if len(pending) <= intake.limit:  # else full or closed: the slow path waits or warns
                frame[RECORD] = False
                pending.append(
                    (
                        start_ns + elapsed_ns,
                        intake.kind,
                        (
                            key,
                            frame[TRACE],
                            frame[PARENT],
                            args,
                            kwargs or None,
                            output,
                            None,
                            start_ns,
                            elapsed_ns,
                        ),
                    )
                )
                return output
        record_of(frame).end(args, kwargs, output, None, start_ns, elapsed_ns)
        return output

    def _call(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> R:
        """Any call the fast path does not take (the first, sessions, coroutines, ...)."""
        if not SWITCH.enabled:
            return self.__wrapped__(*args, **kwargs)
        try:
            result: R = self._runner(self.__wrapped__, Record(self._sink), args, kwargs)
        finally:
            write = self._sink.ready_writer
            if self._fast and write is not None:  # once a call of plain values was logged
                self._intake = intake_of(write)
        return result

    def call(self, *args: P.args, **kwargs: P.kwargs) -> tuple[R, Record]:
        """Call the function; return its result and the :class:`Record` of this call.

        For ``async def`` functions and generators the result is the coroutine or
        iterator, and the record is written once it has been awaited or exhausted::

            coro, record = fn.call(x)
            value = await coro
        """
        if not SWITCH.enabled:
            return self.__wrapped__(*args, **kwargs), NON_RECORDING
        record = Record(self._sink)
        result: R = self._runner(self.__wrapped__, record, args, kwargs)
        return result, record

    @overload
    def __get__(self: _MF, instance: None, owner: type[Any] | None = None) -> _MF: ...

    @overload
    def __get__(
        self: MonitoredFunction[Concatenate[S, P2], R2],
        instance: S,
        owner: type[Any] | None = None,
    ) -> BoundMonitoredFunction[P2, R2]: ...

    def __get__(self, instance: Any, owner: type[Any] | None = None) -> Any:
        """Method access: bind the instance like a plain function would."""
        if instance is None:
            return self
        return BoundMonitoredFunction(self, instance)

    # -- the table -----------------------------------------------------------

    @property
    def table(self) -> StreamTable:
        """The StreamTable the rows go to (created on first use)."""
        return self._sink.table

    def flush(self) -> None:
        """Make every row logged so far durable (see :meth:`StreamTable.flush`)."""
        self._sink.flush()

    def __repr__(self) -> str:
        return f"<monitored function {self.name} → table {self._sink.table_name!r}>"

    def __reduce__(self) -> tuple[Callable[[str, str], Any], tuple[str, str]]:
        # Pickled by reference, like a plain function, so monitored functions can be
        # sent to worker processes (which log into the same table by name).
        return _lookup, (self.__module__, self.__qualname__)


def _lookup(module: str, qualname: str) -> Any:
    target: Any = importlib.import_module(module)
    for part in qualname.split("."):
        target = getattr(target, part)
    return target


class BoundMonitoredFunction(Generic[P, R]):
    """A monitored method bound to its instance (what ``obj.method`` returns)."""

    __slots__ = ("__func__", "__self__")

    def __init__(self, monitored: MonitoredFunction[..., R], instance: Any) -> None:
        self.__func__ = monitored
        self.__self__ = instance

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        return self.__func__(self.__self__, *args, **kwargs)

    def call(self, *args: P.args, **kwargs: P.kwargs) -> tuple[R, Record]:
        """Call the method; return its result and the :class:`Record` of this call."""
        return self.__func__.call(self.__self__, *args, **kwargs)

    @property
    def table(self) -> StreamTable:
        """The StreamTable the rows go to."""
        return self.__func__.table

    def __getattr__(self, name: str) -> Any:
        return getattr(self.__func__, name)

    def __repr__(self) -> str:
        return f"<bound {self.__func__!r} of {self.__self__!r}>"
