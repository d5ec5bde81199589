"""Where a monitored function's calls become rows: hooks, fallbacks and warnings.

A :class:`CallSink` is the :class:`~weave_nb.monitor._record.RecordSink` of one
monitored function. Calls with plain scalar values and no hooks are handed to
the store as tuples and built into columns by its flusher (:mod:`._columns`);
every other call's row is built here, in the caller's thread, so hooks and
warnings about values the store refuses happen there, on the values as they
were.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import sys
import threading
import warnings
from collections.abc import Callable, Mapping
from typing import Any

from weave_nb._config import SETTINGS
from weave_nb._redact import REDACTED, Redactor
from weave_nb.store import PLAIN_TYPES, StreamTable
from weave_nb.tracing import usage_columns

from . import schema
from ._bind import Bind, is_method, make_column_binder
from ._columns import CallColumns, CallPayload
from ._record import Record
from ._values import LOG_ERRORS, as_cell, exception_info, storable_variants

__all__ = ["OWN_MODULES", "CallSink", "MonitorWarning", "failure_fields"]

OWN_MODULES = ("weave_nb.monitor._function", "weave_nb.monitor._run")
"""Modules of the frames between the caller and the function, left out of tracebacks."""

_OWN_COLUMNS = schema.MONITOR_COLUMNS - {schema.INPUTS, schema.OUTPUT} | {"_id"}
_SESSION_ONLY = frozenset({schema.SESSION_ID})  # the data a record holds inside wnb.session()
_UTC = dt.timezone.utc
_from_timestamp = dt.datetime.fromtimestamp


class MonitorWarning(UserWarning):
    """Monitoring could not record something as asked; the monitored call was not affected."""


class CallSink:
    """Writes the rows of one monitored function's calls into its table; never raises."""

    def __init__(
        self,
        fn: Callable[..., Any],
        name: str,
        bind: Bind,
        *,
        table: StreamTable | None,
        table_name: str,
        root: str | os.PathLike[str] | None,
        storage_options: Mapping[str, str] | None,
        preprocess: Callable[[dict[str, Any]], Mapping[str, Any]] | None,
        postprocess: Callable[[Any], Any] | None,
        reduce: Callable[[list[Any]], Any] | None,
        collects: bool,
        attributes: Mapping[str, Any],
        auto_log: bool,
        session: Callable[[dict[str, Any]], Any] | None,
        prices: Mapping[str, tuple[float, float]] | None,
        redactor: Redactor | None,
    ) -> None:
        self.name = name
        """Qualified name of the wrapped function (the ``name`` column)."""
        self.auto_log = auto_log
        """Whether each row is written when its call ends (else at :meth:`Record.finish`)."""
        self._fn = fn
        self._bind = bind
        self._table = table
        self._table_name = table_name
        self._root = root
        self._storage_options = storage_options
        self._preprocess = preprocess
        self._postprocess = postprocess
        self._reduce = reduce
        self._collects = collects
        self._attributes = dict(attributes)
        self._session_of = session
        self._prices = prices
        self._redactor = redactor
        # Calls with plain scalar values have their rows built later, column-wise,
        # unless a hook must see the values now or an attribute needs normalizing.
        self._defers = (
            preprocess is None
            and postprocess is None
            and not collects
            and PLAIN_TYPES.issuperset(map(type, self._attributes.values()))
        )
        self._write_deferred: Callable[[CallPayload], None] | None = None
        self._write_in_session: Callable[[Any], None] | None = None
        self._lock = threading.Lock()
        self._warned: set[str] = set()

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

    @property
    def table_name(self) -> str:
        """Name of the table, known before it is opened."""
        return self._table_name

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

    # -- rows -----------------------------------------------------------------

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
                and type(output) in PLAIN_TYPES
                and PLAIN_TYPES.issuperset(map(type, args))
                and (not kwargs or PLAIN_TYPES.issuperset(map(type, kwargs.values())))
            ):
                if data is None:
                    write = self._write_deferred or self.deferred_writer()
                else:  # inside wnb.session(): the payload carries the session id too
                    write = self._write_in_session or self.deferred_writer(sessions=True)
                if write is not None:
                    payload: tuple[Any, ...] = (
                        *record.keys,
                        args,
                        kwargs or None,
                        output,
                        # The traceback is read now: it gains the caller's frames later.
                        None if error is None else failure_fields(error),
                        start_ns,
                        elapsed_ns,
                    )
                    write(payload if data is None else (*payload, data[schema.SESSION_ID]))
                    return
            table = self.table if self._table is None else self._table
            failure = None if error is None else exception_info(error, OWN_MODULES)
            inputs = self._bind(args, kwargs)
            extra = self._usage(output, data)
            if self._preprocess is not None:
                inputs = self._preprocessed(inputs)
            if self._collects or self._postprocess is not None or type(output) not in PLAIN_TYPES:
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
                self._write_fallback(table.log, row, refused, _is_user_column)
        except Exception as error:  # the monitor must never fail the monitored call
            self._warn("log", f"could not log a call of {self.name}: {error!r}")

    @property
    def ready_writer(self) -> Callable[[CallPayload], None] | None:
        """The writer of rows built later, once a call made it (the table is open then)."""
        return self._write_deferred

    def deferred_writer(self, *, sessions: bool = False) -> Callable[[Any], None] | None:
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
                    make_column_binder(self._fn, skip_first=is_method(self._fn)),
                    self._attributes,
                    self._redactor,
                    sessions=sessions,
                )
                if sessions:
                    self._write_in_session = table.deferred_writer(columns)
                else:
                    self._write_deferred = table.deferred_writer(columns)
            return self._write_in_session if sessions else self._write_deferred

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

    def session_from(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> str | None:
        """The session id ``session=`` derives from a call's bound arguments; never raises."""
        assert self._session_of is not None
        try:
            session_id = self._session_of(self._bind(args, kwargs))
        except Exception as error:
            self._hook_failed("session", error, "no session_id")
            return None
        return None if session_id is None else str(session_id)

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
            schema.NAME: self.name,
            schema.INPUTS: inputs,
            schema.OUTPUT: output,
            schema.STATUS: schema.SUCCESS if failure is None else schema.ERROR,
            schema.EXCEPTION: failure,
            schema.START_TIME: _from_timestamp(start_ns / 1e9, _UTC),
            schema.END_TIME: _from_timestamp((start_ns + elapsed_ns) / 1e9, _UTC),
            schema.LATENCY_MS: elapsed_ns / 1e6,
            schema.TRACE_ID: record.trace_id,
            schema.PARENT_ID: record.parent_id,
        }
        if self._attributes:
            row.update(self._attributes)
        if data:
            row.update(data)
        return row

    def _usage(self, output: Any, data: Mapping[str, Any] | None) -> dict[str, Any] | None:
        """Columns derived from the call's result and added data: tokens and cost."""
        extra: dict[str, Any] = {}
        if type(output) not in PLAIN_TYPES or data:
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
            if key in _OWN_COLUMNS and key != schema.EXCEPTION:
                out[key] = value
            elif redactor.secret(key):
                out[key] = REDACTED
            else:
                out[key] = redactor(value)
        return out

    def _preprocessed(self, inputs: dict[str, Any]) -> dict[str, Any]:
        assert self._preprocess is not None
        try:
            processed = self._preprocess(inputs)
            if not isinstance(processed, Mapping):
                raise TypeError(f"must return a mapping, returned {type(processed).__name__}")
            inputs = dict(processed)
        except Exception as error:
            self._hook_failed("preprocess", error, "the raw inputs")
        return {k: v if type(v) in PLAIN_TYPES else as_cell(v) for k, v in inputs.items()}

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


def failure_fields(error: BaseException) -> tuple[str, ...]:
    """The ``exception`` column's fields of ``error``, in :data:`schema.EXCEPTION_FIELDS` order."""
    failure = exception_info(error, OWN_MODULES)
    return tuple(failure[field] for field in schema.EXCEPTION_FIELDS)


def _is_user_column(key: str) -> bool:
    return key not in _OWN_COLUMNS


def _always(key: str) -> bool:
    return True


def _user_stacklevel() -> int:
    """``stacklevel`` pointing a warning at the first frame outside weave_nb (the user's call)."""
    frame = sys._getframe(2)  # the caller of CallSink._warn
    level = 3
    while frame.f_back is not None and frame.f_globals.get("__name__", "").startswith("weave_nb."):
        frame = frame.f_back
        level += 1
    return level
