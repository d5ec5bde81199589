"""The monitored function: calls the wrapped one, and hands each call to its sink."""

from __future__ import annotations

import functools
import importlib
import inspect
import os
import re
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Concatenate, Generic, ParamSpec, TypeVar, overload

from weave_nb._redact import Redactor
from weave_nb.store import StreamTable, intake_of

from ._bind import is_method, make_binder
from ._call_front import CallFront
from ._record import NON_RECORDING, Call, Frame, Record, record_of
from ._run import in_session, run_function, runner_for
from ._sink import CallSink
from ._switch import SWITCH
from ._values import as_cell

if TYPE_CHECKING:
    from typing_extensions import Unpack  # typing's own from Python 3.11

__all__ = ["BoundMonitoredFunction", "MonitoredFunction", "default_table_name"]

P = ParamSpec("P")
P2 = ParamSpec("P2")
R = TypeVar("R")
R2 = TypeVar("R2")
S = TypeVar("S")
_MF = TypeVar("_MF", bound="MonitoredFunction[Any, Any]")


def default_table_name(fn: Callable[..., Any]) -> str:
    """``fn.__qualname__`` as a valid table name: ``outer.<locals>.f`` → ``outer._locals_.f``."""
    qualname = getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None) or "function"
    return re.sub(r"[^A-Za-z0-9_.-]", "_", qualname)[-200:].strip(".") or "function"


class MonitoredFunction(CallFront, Generic[P, R]):
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
        """Whether calls may take the fast path of :class:`CallFront` once the table is open."""
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

    if TYPE_CHECKING:  # the call itself is CallFront's (C when built): typed here

        def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
            """Call the function; its row is written as the call ends."""
            ...

    def _call(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> R:
        """Any call the fast path does not take (the first, sessions, coroutines, ...)."""
        if not SWITCH.enabled:
            return self.__wrapped__(*args, **kwargs)
        try:
            result: R = self._runner(self.__wrapped__, Record(self._sink), args, kwargs)
        finally:
            write = self._sink.ready_writer
            if self._fast and write is not None:  # once a call of plain values was logged
                self._arm(self.__wrapped__, self._sink, intake_of(write))
        return result

    def _ended(self, frame: Frame, *call: Unpack[Call]) -> None:
        """A call of the fast path whose row is built now (an error, values that are not plain)."""
        record_of(frame).end(*call)

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
