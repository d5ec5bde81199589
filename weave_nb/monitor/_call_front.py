"""The fast path of a monitored call: the C one when built, else its Python reference.

Once a call of the function was logged (its table is open), a plain function
called with plain values takes this path. Everything that can wait (ids as
text, binding arguments to names, datetimes, redaction, size limits, tokens) is
left to the store's flusher; the caller pays for the context variable, the
clocks, a type check of the values and one append to the store's backlog (its
intake: the writer's own work, without a call or a clock read; the row's time
is the call's end). Every other call goes to ``_call``, and a call whose row
cannot be deferred (an error, a value that is not plain, a record asked for)
ends in ``_ended``.
"""

from __future__ import annotations

from collections.abc import Callable
from time import perf_counter_ns, time_ns
from typing import TYPE_CHECKING, Any

from weave_nb._accel import SPEEDUPS
from weave_nb.store import PLAIN_TYPES, Intake
from weave_nb.tracing import STATE

from ._record import CURRENT, IDS, KEY, PARENT, RECORD, SINK, TRACE, Call, Frame, RecordSink
from ._switch import SWITCH

__all__ = ["CallFront", "PyCallFront"]

_COUNTER = IDS.counter


class PyCallFront:
    """What ``weave_nb._speedups.CallFront`` does, in Python: the base of ``MonitoredFunction``."""

    _intake: Intake | None = None
    """The backlog of the table's deferred writer, once :meth:`_arm` was called."""
    _call: Callable[[tuple[Any, ...], dict[str, Any]], Any]
    """The subclass's path for any call this one does not take."""
    _ended: Callable[[Frame, *Call], None]
    """The subclass's end of a call whose row is built now: ``(frame, *call)``."""

    def _arm(self, wrapped: Callable[..., Any], sink: RecordSink, intake: Intake) -> None:
        """Let calls take the fast path: call ``wrapped``, append rows to ``intake``."""
        self._fast_fn = wrapped
        self._fast_sink = sink
        self._intake = intake

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        intake = self._intake
        if intake is None or STATE.hooked or not SWITCH.enabled:
            return self._call(args, kwargs)
        # Inlined (no helper calls): each call level costs as much as the append.
        parent = CURRENT.get()
        key = next(_COUNTER)
        frame: Frame
        if parent is None:
            frame = [key, key, None, self._fast_sink, None]
        else:
            frame = [key, parent[TRACE], parent[KEY], self._fast_sink, None]
        token = CURRENT.set(frame)
        start_ns = time_ns()
        t0 = perf_counter_ns()
        try:
            output = self._fast_fn(*args, **kwargs)
        except BaseException as error:
            elapsed_ns = perf_counter_ns() - t0
            CURRENT.reset(token)
            self._ended(frame, args, kwargs, None, error, start_ns, elapsed_ns)
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
        self._ended(frame, args, kwargs, output, None, start_ns, elapsed_ns)
        return output


if TYPE_CHECKING:
    CallFront = PyCallFront
elif SPEEDUPS is not None:
    SPEEDUPS.configure_calls(
        current=CURRENT,
        counter=_COUNTER,
        switch=SWITCH,
        state=STATE,
        frame_layout=(KEY, TRACE, PARENT, SINK, RECORD),
    )
    CallFront = SPEEDUPS.CallFront
else:
    CallFront = PyCallFront
