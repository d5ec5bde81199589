"""The per-call handle of ``@monitor``: ids, the current-call context, unfinished records.

A :class:`Record` is created for every monitored call. While the call runs it is
the value of a context variable, so nested monitored calls find their parent and
:func:`current_record` finds it; after the call it is logged through its
:class:`RecordSink` (the monitored function), at once or, with ``auto_log=False``,
when :meth:`Record.finish` is called or the interpreter exits.
"""

from __future__ import annotations

import atexit
import contextvars
import itertools
import os
import threading
import uuid
from collections.abc import Mapping
from typing import Any, Protocol

# The store registers its exit flush when imported; importing it first guarantees
# that the hook registered below comes later, and atexit runs hooks last-in
# first-out, so unfinished records are logged before the store closes its tables.
import weave_nb.store  # noqa: F401
from weave_nb.tracing import SESSION, STATE

from .schema import SESSION_ID

__all__ = [
    "CURRENT",
    "IDS",
    "KEY",
    "LOGGED",
    "NON_RECORDING",
    "PARENT",
    "RECORD",
    "RUNNING",
    "TRACE",
    "Frame",
    "Record",
    "RecordKey",
    "RecordSink",
    "current_record",
    "id_text",
    "record_of",
]

# ---------------------------------------------------------------------------
# Row ids: a random per-process prefix and a counter, so ids are known before the
# row is logged and unique across processes. A call holds only its counter value
# (its key); the text is made when read, mostly by the store's flusher, so the
# caller pays ~20 ns for an id instead of ~90 ns (uuid4: ~4 µs).

RecordKey = int | str
"""A record's id before it is text: a counter value, or the id of an external (OTel) span."""


class _IdSource:
    __slots__ = ("counter", "prefix")

    def __init__(self) -> None:
        self.counter = itertools.count()
        self.reseed()

    def reseed(self) -> None:
        # The counter runs on in a forked child: with the new prefix, a key taken
        # before the fork still makes an id no other call of either process has.
        self.prefix = uuid.uuid4().hex[:16] + "-"


IDS = _IdSource()
if hasattr(os, "register_at_fork"):  # a forked child must not reuse the parent's ids
    os.register_at_fork(after_in_child=IDS.reseed)


def id_text(key: RecordKey | None) -> str | None:
    """The id a record key stands for."""
    return IDS.prefix + str(key) if type(key) is int else key  # type: ignore[return-value]


class RecordSink(Protocol):
    """What a record needs from the monitored function that created it."""

    @property
    def name(self) -> str:
        """Qualified name of the monitored function."""
        ...

    @property
    def auto_log(self) -> bool:
        """Whether rows are logged as soon as the call ends."""
        ...

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
        """Write the row of an ended call; never raises."""
        ...

    def annotate_record(self, record: Record, data: Mapping[str, Any]) -> None:
        """Add data to the already logged row; never raises."""
        ...

    def flush(self) -> None:
        """Make logged rows durable."""
        ...

    def prepare_exit(self) -> None:
        """Get ready to log at interpreter exit (open the table now, not during exit)."""
        ...


RUNNING, _FINISH_REQUESTED, _ENDED, LOGGED = 0, 1, 2, 3

Frame = list[Any]
"""What :data:`CURRENT` holds while a monitored call runs: ``[key, trace, parent, sink, record]``.

The keys of the call, its trace and its parent (see :data:`RecordKey`), its
:class:`RecordSink`, and its :class:`Record` — on the fast path of
``MonitoredFunction.__call__`` ``None`` until :func:`current_record` asks for
one, and ``False`` once the row is written. A list, not a record, because a
call on that path never needs more: building it costs a third of a record's
``__init__``.
"""
KEY, TRACE, PARENT, SINK, RECORD = range(5)
"""Positions in a :data:`Frame`."""

CURRENT: contextvars.ContextVar[Frame | None] = contextvars.ContextVar(
    "weave_nb_current_call", default=None
)

Call = tuple[tuple[Any, ...], dict[str, Any], Any, "BaseException | None", int, int]
"""What a row is built from: ``(args, kwargs, output, error, start_ns, elapsed_ns)``."""


class Record:
    """One monitored call: its row id, trace links, and data added during or after it.

    Get it from ``fn.call(...)`` (returned beside the result) or, inside the
    running function, from :func:`current_record`. Data added before the row
    is written is merged into the row; data added afterwards is appended as an
    annotation of the row and merged on read.

    Records are meant to be used by one thread at a time while their call runs;
    :meth:`add_data` and :meth:`finish` may be called from any thread afterwards.
    """

    __slots__ = ("_call", "_data", "_key", "_parent", "_sink", "_state", "_trace")

    _key: RecordKey | None
    _trace: RecordKey | None
    _parent: RecordKey | None

    def __init__(self, sink: RecordSink | None) -> None:
        self._sink = sink
        self._data: dict[str, Any] | None = None
        self._call: Call | None = None  # set while ended but not finished (auto_log=False)
        self._parent = None
        if sink is None:  # non-recording
            self._key = self._trace = None
            self._state = LOGGED
            return
        self._state = RUNNING
        self._key = next(IDS.counter)
        parent = CURRENT.get()
        if parent is None:
            self._trace = self._key
        else:
            self._trace = parent[TRACE]
            self._parent = parent[KEY]
        if STATE.hooked:  # sessions or OpenTelemetry in use: one flag read when not
            self._link(parent)

    @classmethod
    def of_frame(cls, frame: Frame) -> Record:
        """The record of a call that ran (or runs) on the fast path, made when asked for."""
        record = object.__new__(cls)
        record._sink = frame[SINK]
        record._data = None
        record._call = None
        record._key, record._trace, record._parent = frame[KEY], frame[TRACE], frame[PARENT]
        record._state = RUNNING if frame[RECORD] is None else LOGGED
        return record

    def frame(self) -> Frame:
        """The value of :data:`CURRENT` while this record's call runs."""
        return [self._key, self._trace, self._parent, self._sink, self]

    def _link(self, parent: Frame | None) -> None:
        """Adopt an enclosing OpenTelemetry span as parent, and the current session."""
        external = STATE.external_parent
        if parent is None and external is not None:
            links = external()
            if links is not None:
                self._trace, self._parent = links
        session_id = SESSION.get()
        if session_id is not None:
            self._data = {SESSION_ID: session_id}

    # -- public API ----------------------------------------------------------

    @property
    def id(self) -> str | None:
        """The row's ``_id`` (``None`` for a non-recording record)."""
        return id_text(self._key)

    @property
    def trace_id(self) -> str | None:
        """Id of the outermost monitored call of this call tree (its own id for a root call)."""
        return id_text(self._trace)

    @property
    def parent_id(self) -> str | None:
        """Id of the monitored call this one ran inside, or ``None``."""
        return id_text(self._parent)

    @property
    def keys(self) -> tuple[RecordKey | None, RecordKey | None, RecordKey | None]:
        """``(id, trace_id, parent_id)`` as keys, for payloads whose ids are made later."""
        return self._key, self._trace, self._parent

    @property
    def name(self) -> str | None:
        """Qualified name of the monitored function (``None`` for a non-recording record)."""
        return None if self._sink is None else self._sink.name

    @property
    def recording(self) -> bool:
        """Whether this record writes a row (``False`` when monitoring is off or outside a call)."""
        return self._sink is not None

    @property
    def running(self) -> bool:
        """Whether the call is still running (a generator not yet exhausted counts as running)."""
        return self._state <= _FINISH_REQUESTED

    @property
    def logged(self) -> bool:
        """Whether the row has been written to the table."""
        return self._sink is not None and self._state == LOGGED

    def add_data(self, data: Mapping[str, Any]) -> None:
        """Add columns to this call's row.

        Before the row is written (inside the running function, or before
        :meth:`finish` with ``auto_log=False``) the data is merged into the row;
        afterwards it is appended as an annotation and merged on read (latest
        value wins). Keys must be ``str`` and must not start with ``_`` (reserved
        for the store). Values the store cannot hold are stored as a truncated
        ``repr`` with a warning, like unstorable inputs.
        """
        data = _check_data(data)
        sink = self._sink
        if sink is None or not data:
            return
        with _LOCK:
            if self._state != LOGGED:
                if self._data is None:
                    self._data = dict(data)
                else:
                    self._data.update(data)
                return
        sink.annotate_record(self, data)

    def finish(self) -> None:
        """Write the row now (for ``auto_log=False``); a no-op once written.

        Called while the call still runs, the row is written as soon as it ends.
        """
        sink = self._sink
        if sink is None:
            return
        with _LOCK:
            if self._state == RUNNING:
                self._state = _FINISH_REQUESTED
                return
            if self._state != _ENDED:
                return
            self._state = LOGGED
            _PENDING.pop(self.id, None)  # type: ignore[arg-type]
            call, self._call = self._call, None
        assert call is not None
        sink.log_call(self, *call)

    def __repr__(self) -> str:
        if self._sink is None:
            return "Record(recording=False)"
        state = ("running", "running", "ended", "logged")[self._state]
        return f"Record(id={self.id!r}, name={self.name!r}, {state})"

    # -- used by the monitor -------------------------------------------------

    def end(
        self,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        output: Any,
        error: BaseException | None,
        start_ns: int,
        elapsed_ns: int,
    ) -> None:
        """The call ended: log its row now, or keep it until :meth:`finish` or exit."""
        sink = self._sink
        assert sink is not None
        if sink.auto_log or self._state == _FINISH_REQUESTED:
            self._state = LOGGED
            sink.log_call(self, args, kwargs, output, error, start_ns, elapsed_ns)
            return
        with _LOCK:
            self._state = _ENDED
            self._call = (args, kwargs, output, error, start_ns, elapsed_ns)
            _PENDING[self.id] = self  # type: ignore[index]
        _ensure_exit_hook(sink)

    def prepare_exit(self) -> None:
        """Open the table now, so this call's row can be written at exit (no thread starts then)."""
        if self._sink is not None:
            self._sink.prepare_exit()

    def take_data(self) -> dict[str, Any] | None:
        """Hand over the data added so far (the row is being written)."""
        data, self._data = self._data, None
        return data

    def set_field(self, key: str, value: Any) -> None:
        """Set a monitor-owned column (e.g. ``first_item_ms``) before the row is written."""
        if self._data is None:
            self._data = {key: value}
        else:
            self._data[key] = value


NON_RECORDING = Record(None)


def current_record() -> Record:
    """The :class:`Record` of the innermost monitored call running in this context.

    Outside a monitored call, or when monitoring is off, returns a non-recording
    record whose :meth:`~Record.add_data` does nothing, so instrumented code runs
    unchanged in tests. Nested links and this lookup use :mod:`contextvars`: they
    follow asyncio tasks (which copy the context), but a plain
    :class:`threading.Thread` starts with an empty context — submit work with
    ``contextvars.copy_context().run`` to keep the link.
    """
    frame = CURRENT.get()
    if frame is None:
        return NON_RECORDING
    record = frame[RECORD]
    return record if record else record_of(frame)


def record_of(frame: Frame) -> Record:
    """The :class:`Record` of a call's frame, made once if the call has none yet."""
    with _LOCK:
        record: Record | None = frame[RECORD] or None
        if record is None:
            record = frame[RECORD] = Record.of_frame(frame)
        return record


def _check_data(data: Mapping[str, Any]) -> Mapping[str, Any]:
    if not isinstance(data, Mapping):
        raise TypeError(
            f"add_data() takes a mapping of column names to values, got {type(data).__name__}"
        )
    for key in data:
        if type(key) is not str or not key:
            raise TypeError(f"add_data() keys must be non-empty str, got {key!r}")
        if key.startswith("_"):
            raise ValueError(
                f"add_data() key {key!r}: names starting with '_' are reserved for the store"
            )
    return data


# ---------------------------------------------------------------------------
# Records of ``auto_log=False`` calls not finished yet; written out at exit.

_LOCK = threading.Lock()
_PENDING: dict[str, Record] = {}
_exit_hook_registered = False


def _ensure_exit_hook(sink: RecordSink) -> None:
    global _exit_hook_registered
    sink.prepare_exit()
    if not _exit_hook_registered:
        with _LOCK:
            if not _exit_hook_registered:
                atexit.register(finish_pending)
                _exit_hook_registered = True


def finish_pending() -> None:
    """Write every ended but unfinished record and flush their tables (runs at exit)."""
    with _LOCK:
        records = list(_PENDING.values())
    sinks = {id(record._sink): record._sink for record in records}
    for record in records:
        record.finish()
    for sink in sinks.values():
        if sink is not None:
            sink.flush()
