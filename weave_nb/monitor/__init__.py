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

from . import schema
from ._decorator import monitor
from ._function import BoundMonitoredFunction, MonitoredFunction
from ._record import Record, current_record
from ._sink import MonitorWarning
from ._switch import monitoring
from ._values import LOG_ERRORS, storable_variants

__all__ = [
    "LOG_ERRORS",
    "BoundMonitoredFunction",
    "MonitorWarning",
    "MonitoredFunction",
    "Record",
    "current_record",
    "monitor",
    "monitoring",
    "schema",
    "storable_variants",
]
