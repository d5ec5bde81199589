"""``@monitor``: log every call of a function — inputs, output, latency, errors — to a StreamTable.

Wrap the function that serves a model; each call becomes one row of a
:class:`~weave_nb.store.StreamTable`, which the table widgets, charts and boards
show live::

    @wnb.monitor(attributes={"model_version": "v3"})
    def answer(prompt: str, question: str) -> str: ...

    answer("Please answer:", "sqrt of 5.4")       # returns the function's own result
    result, record = answer.call("Be brief:", "2+2")
    record.add_data({"user_feedback": "correct"})  # merged into the row
    answer.table                                     # the StreamTable

Each row holds ``_id`` (the record id, known during the call), ``_timestamp``
(set by the store), ``name`` (qualified function name), ``inputs`` (arguments
bound to parameter names with defaults applied, ``self``/``cls`` left out, after
``preprocess``), ``output`` (after ``reduce`` and ``postprocess``), ``status``
(``"success"``/``"error"``), ``exception`` (``{type, message, traceback}``, null
on success), ``start_time``/``end_time`` (UTC), ``latency_ms``, ``trace_id`` and
``parent_id`` (links between nested monitored calls), ``first_item_ms`` for
generators, then the static ``attributes`` and anything added with
:meth:`Record.add_data`.

Monitoring never changes what the function returns or raises: exceptions are
logged and re-raised unchanged, hook errors and values the store cannot hold
(open files, sockets, …) are reported once per function as a
:class:`MonitorWarning` and the value is stored as a marker
``{"__repr__": <truncated repr>, "__type__": <type>, "__truncated__": <bool>}``.
Inputs are captured by reference and written when the call ends (the store
copies them then), so a function that mutates its arguments logs the mutated
values; ``uint8`` numpy arrays shaped ``HxW``/``HxWx3``/``HxWx4`` among the inputs
or as the output are logged as images.

Nested calls link through :mod:`contextvars`: a monitored call made while
another runs in the same context gets that call's ``trace_id`` and its id as
``parent_id``. asyncio tasks copy the context when created, so links survive
``asyncio.gather``; a plain :class:`threading.Thread` or a thread-pool worker
starts with an empty context, so run the work through
``contextvars.copy_context().run`` (e.g. ``pool.submit(ctx.run, fn, x)``) to keep
the link.
"""

from __future__ import annotations

import datetime as dt
import functools
import importlib
import inspect
import os
import re
import sys
import threading
import warnings
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Concatenate, Generic, ParamSpec, TypeVar, cast, overload

from weave_nb.store import StreamTable

from .._config import SETTINGS
from .._redact import REDACTED, Redactor
from ..tracing._usage import Prices, check_prices, usage_columns
from ._bind import is_method, make_binder, make_column_binder
from ._columns import FAILURE_FIELDS, CallColumns, CallPayload
from ._record import (
    NON_RECORDING,
    SWITCH,
    Record,
    current_record,
    monitoring,
)
from ._run import in_session, runner_for
from ._values import LOG_ERRORS, SCALARS, as_cell, exception_info, storable_variants

__all__ = [
    "BoundMonitoredFunction",
    "MonitorWarning",
    "MonitoredFunction",
    "Record",
    "current_record",
    "monitor",
    "monitoring",
]

P = ParamSpec("P")
P2 = ParamSpec("P2")
R = TypeVar("R")
R2 = TypeVar("R2")
S = TypeVar("S")
_MF = TypeVar("_MF", bound="MonitoredFunction[Any, Any]")

MONITOR_COLUMNS = frozenset(
    {
        "name",
        "inputs",
        "output",
        "status",
        "exception",
        "start_time",
        "end_time",
        "latency_ms",
        "trace_id",
        "parent_id",
        "first_item_ms",
    }
)
"""Columns the monitor fills itself; ``attributes`` may not use these names."""

_OWN_COLUMNS = MONITOR_COLUMNS - {"inputs", "output"} | {"_id"}
_SESSION_ONLY = frozenset({"session_id"})  # the data a record holds inside wnb.session()
_OWN_MODULES = ("weave_nb.monitor._run", __name__)
_UTC = dt.timezone.utc
_from_timestamp = dt.datetime.fromtimestamp


class MonitorWarning(UserWarning):
    """Monitoring could not record something as asked; the monitored call was not affected."""


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
        self.name: str = getattr(fn, "__qualname__", None) or default_table_name(fn)
        """Qualified name of the wrapped function (the ``name`` column)."""
        self.auto_log = auto_log
        """Whether each row is written when its call ends (else at :meth:`Record.finish`)."""
        self._table = table
        self._table_name = table_name
        self._root = root
        self._storage_options = storage_options
        self._preprocess = preprocess
        self._postprocess = postprocess
        self._reduce = reduce
        self._attributes = dict(attributes)
        self._session_of = session
        self._prices = prices
        self._redactor = redactor
        # Without preprocess, image arrays become cells while binding; with it, the
        # hook must see the caller's values, so conversion happens after it.
        self._bind = make_binder(
            fn, skip_first=is_method(fn), convert=as_cell if preprocess is None else None
        )
        self._runner, self._collects = runner_for(fn)
        if session is not None:
            self._runner = in_session(self._runner, self._session_from)
        # Calls with plain scalar values have their rows built later, column-wise,
        # unless a hook must see the values now or an attribute needs normalizing.
        self._defers = (
            preprocess is None
            and postprocess is None
            and not self._collects
            and SCALARS.issuperset(map(type, self._attributes.values()))
        )
        self._write_deferred: Callable[[CallPayload], None] | None = None
        self._write_in_session: Callable[[Any], None] | None = None
        self._lock = threading.Lock()
        self._warned: set[str] = set()
        if inspect.iscoroutinefunction(fn) and inspect.isfunction(fn):
            # Look function-like, so inspect.iscoroutinefunction() (and the frameworks
            # relying on it to decide whether to await) sees an async function.
            self.__code__ = fn.__code__  # type: ignore[attr-defined]
            self.__defaults__ = fn.__defaults__  # type: ignore[attr-defined]
            self.__kwdefaults__ = fn.__kwdefaults__  # type: ignore[attr-defined]

    # -- calling -------------------------------------------------------------

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        if not SWITCH.enabled:
            return self.__wrapped__(*args, **kwargs)
        result: R = self._runner(self.__wrapped__, Record(self), args, kwargs)
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
        record = Record(self)
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
        table = self._table
        if table is None:
            with self._lock:
                if self._table is None:
                    self._table = StreamTable(
                        self._table_name, root=self._root, storage_options=self._storage_options
                    )
                table = self._table
        return table

    def flush(self) -> None:
        """Make every row logged so far durable (see :meth:`StreamTable.flush`)."""
        if self._table is not None:
            self._table.flush()

    def prepare_exit(self) -> None:
        """Open the table now, so rows held for ``finish()`` can be written at exit."""
        try:
            _ = self.table
        except Exception as error:
            self._warn("log", f"could not open the table of {self.name}: {error!r}")

    def __repr__(self) -> str:
        return f"<monitored function {self.name} → table {self._table_name!r}>"

    def __reduce__(self) -> tuple[Callable[[str, str], Any], tuple[str, str]]:
        # Pickled by reference, like a plain function, so monitored functions can be
        # sent to worker processes (which log into the same table by name).
        return _lookup, (self.__module__, self.__qualname__)

    # -- writing rows (RecordSink) --------------------------------------------

    def log_call(
        self,
        record: Record,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        output: Any,
        error: BaseException | None,
        start_ns: int,
        elapsed_ns: int,
    ) -> None:
        """Log the row of an ended call; never raises.

        When the arguments and the output are plain scalars and no user hook is
        set, building the row (binding arguments, datetimes) runs in the store's
        flusher, off the caller's path: the call pays for one append. Otherwise
        the row is built here, at call time, so hooks and warnings about values
        the store refuses happen in the caller's thread, on the values as they were.
        """
        try:
            data = record.take_data()
            if (  # plain values cannot be refused or change later: build the row later
                (data is None or data.keys() == _SESSION_ONLY)
                and type(output) in SCALARS
                and SCALARS.issuperset(map(type, args))
                and (not kwargs or SCALARS.issuperset(map(type, kwargs.values())))
            ):
                if data is None:
                    write = self._write_deferred or self._deferred_writer()
                else:  # inside wnb.session(): the payload carries the session id too
                    write = self._write_in_session or self._deferred_writer(sessions=True)
                if write is not None:
                    payload: tuple[Any, ...] = (
                        record.id,
                        record.trace_id,
                        record.parent_id,
                        args,
                        kwargs or None,
                        output,
                        # The traceback is read now: it gains the caller's frames later.
                        None if error is None else _failure_fields(error),
                        start_ns,
                        elapsed_ns,
                    )
                    write(payload if data is None else (*payload, data["session_id"]))
                    return
            table = self.table if self._table is None else self._table
            failure = None if error is None else exception_info(error, _OWN_MODULES)
            inputs = self._bind(args, kwargs)
            extra = self._usage(output, data)
            if self._preprocess is not None:
                inputs = self._preprocessed(inputs)
            if self._collects or self._postprocess is not None or type(output) not in SCALARS:
                output = self._logged_output(output)
            row = self._row(record, inputs, output, failure, start_ns, elapsed_ns, data)
            if extra:
                row.update(extra)
            redactor = SETTINGS.redactor.merged(self._redactor)
            if redactor.active:
                row = self._redacted(row, redactor)
            try:
                table.log(row)
            except LOG_ERRORS as refused:
                self._write_fallback(table.log, row, refused, self._is_user_column)
        except Exception as error:  # the monitor must never fail the monitored call
            self._warn("log", f"could not log a call of {self.name}: {error!r}")

    def _session_from(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> str | None:
        """The session id ``session=`` derives from a call's bound arguments; never raises."""
        assert self._session_of is not None
        try:
            session_id = self._session_of(self._bind(args, kwargs))
        except Exception as error:
            self._hook_failed("session", error, "no session_id")
            return None
        return None if session_id is None else str(session_id)

    def _usage(self, output: Any, data: Mapping[str, Any] | None) -> dict[str, Any] | None:
        """Columns derived from the call's result and added data: tokens and cost."""
        extra: dict[str, Any] = {}
        if type(output) not in SCALARS or data:
            prices = self._prices if self._prices is not None else SETTINGS.prices
            try:
                usage, problems = usage_columns(output, data, prices)
            except Exception as error:  # an exotic result must not cost the row
                usage, problems = {}, [f"could not read token usage ({error!r})"]
            for problem in problems:
                self._warn(
                    f"usage: {problem}",
                    f"{self.name}: {problem}; the row is logged with null there "
                    "(reported once per function)",
                )
            extra.update(usage)
        return extra

    @staticmethod
    def _redacted(row: dict[str, Any], redactor: Redactor) -> dict[str, Any]:
        """``row`` with secrets redacted and big values cut; the monitor's own fields are kept."""
        out = {}
        for key, value in row.items():
            if key in _OWN_COLUMNS and key != "exception":
                out[key] = value
            elif redactor.secret(key):
                out[key] = REDACTED
            else:
                out[key] = redactor(value)
        return out

    def _deferred_writer(self, *, sessions: bool = False) -> Callable[[Any], None] | None:
        """The writer of rows built later, or ``None`` when hooks need rows built now.

        Calls inside a session go through a writer of their own, whose payloads end
        with the session id, so calls outside sessions pay nothing for them.
        """
        if not self._defers:
            return None
        table = self.table
        with self._lock:
            if (self._write_in_session if sessions else self._write_deferred) is None:
                columns = CallColumns(
                    self.name,
                    self._bind,
                    make_column_binder(self.__wrapped__, skip_first=is_method(self.__wrapped__)),
                    self._attributes,
                    self._redactor,
                    sessions=sessions,
                )
                if sessions:
                    self._write_in_session = table.deferred_writer(columns)
                else:
                    self._write_deferred = table.deferred_writer(columns)
            return self._write_in_session if sessions else self._write_deferred

    def _row(
        self,
        record: Record,
        inputs: dict[str, Any],
        output: Any,
        failure: dict[str, str] | None,
        start_ns: int,
        elapsed_ns: int,
        data: Mapping[str, Any] | None,
    ) -> dict[str, Any]:
        row = {
            "_id": record.id,
            "name": self.name,
            "inputs": inputs,
            "output": output,
            "status": "success" if failure is None else "error",
            "exception": failure,
            "start_time": _from_timestamp(start_ns / 1e9, _UTC),
            "end_time": _from_timestamp((start_ns + elapsed_ns) / 1e9, _UTC),
            "latency_ms": elapsed_ns / 1e6,
            "trace_id": record.trace_id,
            "parent_id": record.parent_id,
        }
        if self._attributes:
            row.update(self._attributes)
        if data:
            row.update(data)
        return row

    def annotate_record(self, record: Record, data: Mapping[str, Any]) -> None:
        """Append data to an already logged row; never raises."""
        try:
            write = functools.partial(self.table.annotate, record.id)
            redactor = SETTINGS.redactor.merged(self._redactor)
            if redactor.active:  # data added after the call is redacted like the row
                data = redactor.row(data)
            try:
                write(data)
            except LOG_ERRORS as refused:
                self._write_fallback(write, dict(data), refused, _always)
        except Exception as error:
            self._warn("log", f"could not add data to a call of {self.name}: {error!r}")

    def _preprocessed(self, inputs: dict[str, Any]) -> dict[str, Any]:
        assert self._preprocess is not None
        try:
            processed = self._preprocess(inputs)
            if not isinstance(processed, Mapping):
                raise TypeError(f"must return a mapping, returned {type(processed).__name__}")
            inputs = dict(processed)
        except Exception as error:
            self._hook_failed("preprocess", error, "the raw inputs")
        return {k: v if type(v) in SCALARS else as_cell(v) for k, v in inputs.items()}

    def _logged_output(self, output: Any) -> Any:
        if self._collects and self._reduce is not None:
            try:
                output = self._reduce(output)
            except Exception as error:
                self._hook_failed("reduce", error, "the list of items")
        if self._postprocess is not None:
            try:
                output = self._postprocess(output)
            except Exception as error:
                self._hook_failed("postprocess", error, "the output before postprocess")
        return as_cell(output)

    def _write_fallback(
        self,
        write: Callable[[dict[str, Any]], None],
        row: dict[str, Any],
        refused: Exception,
        user_columns: Callable[[str], bool],
    ) -> None:
        """The store refused ``row``: write the first variant with stand-ins it accepts."""
        for variant in storable_variants(row, user_columns):
            try:
                write(variant)
            except LOG_ERRORS:
                continue
            self._warn(
                "unstorable",
                f"{self.name}: the store refused a value ({refused}); such values are stored "
                "as {'__repr__': ..., '__type__': ..., '__truncated__': ...} "
                "(reported once per function)",
            )
            return
        self._warn("log", f"could not log a call of {self.name}: {refused}")

    @staticmethod
    def _is_user_column(key: str) -> bool:
        return key not in _OWN_COLUMNS

    def _hook_failed(self, hook: str, error: Exception, kept: str) -> None:
        self._warn(
            hook,
            f"{hook} of monitored function {self.name} raised {type(error).__name__}: {error}; "
            f"the row keeps {kept} (later {hook} errors of this function are not reported)",
        )

    def _warn(self, key: str, message: str) -> None:
        if key in self._warned:
            return
        self._warned.add(key)
        warnings.warn(message, MonitorWarning, stacklevel=_user_stacklevel())


def _always(key: str) -> bool:
    return True


def _lookup(module: str, qualname: str) -> Any:
    target: Any = importlib.import_module(module)
    for part in qualname.split("."):
        target = getattr(target, part)
    return target


def _user_stacklevel() -> int:
    """``stacklevel`` pointing a warning at the first frame outside weave_nb (the user's call)."""
    frame = sys._getframe(2)  # the caller of MonitoredFunction._warn
    level = 3
    while frame.f_back is not None and frame.f_globals.get("__name__", "").startswith("weave_nb."):
        frame = frame.f_back
        level += 1
    return level


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


_Decorator = Callable[[Callable[P, R]], MonitoredFunction[P, R]]


@overload
def monitor(fn: Callable[P, R], /) -> MonitoredFunction[P, R]: ...


@overload
def monitor(
    name: str | None = None,
    /,
    *,
    table: StreamTable | None = None,
    root: str | os.PathLike[str] | None = None,
    storage_options: Mapping[str, str] | None = None,
    preprocess: Callable[[dict[str, Any]], Mapping[str, Any]] | None = None,
    postprocess: Callable[[Any], Any] | None = None,
    reduce: Callable[[list[Any]], Any] | None = None,
    attributes: Mapping[str, Any] | None = None,
    auto_log: bool = True,
    session: Callable[[dict[str, Any]], Any] | None = None,
    prices: Prices | None = None,
    redact: Iterable[str] | None = None,
) -> Callable[[Callable[P, R]], MonitoredFunction[P, R]]: ...


def monitor(
    name: str | Callable[..., Any] | None = None,
    /,
    *,
    table: StreamTable | None = None,
    root: str | os.PathLike[str] | None = None,
    storage_options: Mapping[str, str] | None = None,
    preprocess: Callable[[dict[str, Any]], Mapping[str, Any]] | None = None,
    postprocess: Callable[[Any], Any] | None = None,
    reduce: Callable[[list[Any]], Any] | None = None,
    attributes: Mapping[str, Any] | None = None,
    auto_log: bool = True,
    session: Callable[[dict[str, Any]], Any] | None = None,
    prices: Prices | None = None,
    redact: Iterable[str] | None = None,
) -> Any:
    """Decorator logging every call of the function to a StreamTable.

    Args:
        name: table name; defaults to the function's qualified name (sanitised).
            ``@monitor`` without parentheses is the same as ``@monitor()``.
        table: an existing :class:`StreamTable` to log into (instead of ``name``/``root``).
        root: folder or ``s3://bucket/prefix`` of the table; defaults to
            :func:`weave_nb.init`'s root.
        storage_options: S3 settings for ``root`` (``AWS_ENDPOINT_URL``, keys...),
            overriding the ``AWS_*`` environment variables.
        preprocess: ``inputs dict -> mapping`` applied to the bound arguments
            before they are logged (e.g. to drop a large argument).
        postprocess: ``output -> value`` applied to the result before it is
            logged; the caller still receives the original result.
        reduce: for generators, ``list of items -> value`` logged as the output
            (default: the list itself).
        attributes: static columns added to every row (e.g. ``{"model_version": "v3"}``).
        auto_log: write each row when its call ends; with ``False`` the row is
            written by :meth:`Record.finish` (e.g. once feedback arrived), or at
            interpreter exit for records never finished.
        session: ``inputs dict -> session id`` deriving the call's ``session_id``
            from its bound arguments (e.g. ``lambda inputs: inputs["user_id"]``),
            for the call and the monitored calls it makes (a generator: its own
            row); otherwise a call inside ``with wnb.session(...)`` gets that id.
        prices: USD per 1M tokens per model, for the ``cost_usd`` of calls whose
            result carries token usage (default: :func:`weave_nb.init`'s ``prices``).
        redact: argument and field names (or globs) whose values are stored as
            ``"[REDACTED]"``, at any depth, on top of :func:`weave_nb.init`'s ``redact``.

    Works on functions, methods (put ``@staticmethod``/``@classmethod`` above
    it), ``async def`` functions, generators and async generators.
    """
    if callable(name):
        return monitor()(name)
    if name is not None and (not isinstance(name, str) or not name):
        raise TypeError(f"monitor(name=...) must be a non-empty str, got {name!r}")
    if table is not None:
        if name is not None or root is not None or storage_options is not None:
            raise ValueError(
                "monitor(): pass either table= or name/root/storage_options=, not both"
            )
        if not isinstance(table, StreamTable):
            raise TypeError(f"monitor(table=...) must be a StreamTable, got {type(table).__name__}")
    for hook_name, hook in (
        ("preprocess", preprocess),
        ("postprocess", postprocess),
        ("reduce", reduce),
    ):
        if hook is not None and not callable(hook):
            raise TypeError(f"monitor({hook_name}=...) must be callable, got {type(hook).__name__}")
    static = _check_attributes(attributes)
    if session is not None and not callable(session):
        raise TypeError(f"monitor(session=...) must be callable, got {type(session).__name__}")
    price_table = check_prices(prices)
    redactor = None if redact is None else Redactor(redact)
    if not isinstance(auto_log, bool):
        raise TypeError(f"monitor(auto_log=...) must be a bool, got {type(auto_log).__name__}")

    def decorate(fn: Callable[P, R]) -> MonitoredFunction[P, R]:
        if isinstance(fn, staticmethod | classmethod):
            wrapper = type(fn)(decorate(fn.__func__))
            return cast(MonitoredFunction[P, R], wrapper)
        if not callable(fn):
            raise TypeError(f"@monitor decorates a callable, got {type(fn).__name__}")
        return MonitoredFunction(
            fn,
            table=table,
            table_name=name if isinstance(name, str) else default_table_name(fn),
            root=root,
            preprocess=preprocess,
            postprocess=postprocess,
            reduce=reduce,
            attributes=static,
            auto_log=auto_log,
            storage_options=storage_options,
            session=session,
            prices=price_table,
            redactor=redactor,
        )

    return decorate


def _failure_fields(error: BaseException) -> tuple[str, ...]:
    failure = exception_info(error, _OWN_MODULES)
    return tuple(failure[field] for field in FAILURE_FIELDS)


def _check_attributes(attributes: Mapping[str, Any] | None) -> dict[str, Any]:
    if attributes is None:
        return {}
    if not isinstance(attributes, Mapping):
        raise TypeError(
            f"monitor(attributes=...) must be a mapping, got {type(attributes).__name__}"
        )
    for key in attributes:
        if type(key) is not str or not key:
            raise TypeError(f"monitor(attributes=...) keys must be non-empty str, got {key!r}")
        if key.startswith("_") or key in MONITOR_COLUMNS:
            raise ValueError(
                f"monitor(attributes=...) key {key!r} clashes with a column the monitor or the "
                "store fills; pick another name"
            )
    return dict(attributes)
