"""The columns of many ended calls at once, built in the store's flusher.

On the hot path (plain scalar arguments and result, no hooks, no added data)
the monitor hands the store one tuple of plain values per call, a
:data:`CallPayload`; the store calls :class:`CallColumns` with a batch of them
later, off the caller's thread. Building column-wise turns the times into
Arrow timestamps with one vectorised cast instead of a ``datetime`` per call.
The columns are those of the rows the monitor builds itself on other paths.
"""

from __future__ import annotations

from collections.abc import Mapping
from operator import itemgetter
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from weave_nb._config import SETTINGS
from weave_nb._redact import REDACTED, Redactor
from weave_nb.store import rows_to_columns, struct_column

from . import schema
from ._bind import Bind, ColumnBind
from ._record import IDS, RecordKey

__all__ = ["CallColumns", "CallPayload"]

CallPayload = tuple[
    "RecordKey | None",  # _id (never None for a recording call)
    "RecordKey | None",  # trace_id
    "RecordKey | None",  # parent_id
    tuple[Any, ...],  # positional arguments
    "dict[str, Any] | None",  # keyword arguments, None when there are none
    Any,  # output (a plain scalar)
    "tuple[str, ...] | None",  # exception, fields in schema.EXCEPTION_FIELDS order
    int,  # start, ns since the epoch
    int,  # elapsed, ns
]

_NO_KWARGS: dict[str, Any] = {}


class CallColumns:
    """Builder of the monitor's columns for a batch of calls of one function."""

    __slots__ = ("_attributes", "_bind", "_bind_columns", "_name", "_redactor", "_sessions")

    def __init__(
        self,
        name: str,
        bind: Bind,
        bind_columns: ColumnBind | None,
        attributes: Mapping[str, Any],
        redactor: Redactor | None = None,
        *,
        sessions: bool = False,
    ) -> None:
        self._name = name
        self._bind = bind
        self._bind_columns = bind_columns
        self._attributes = dict(attributes)
        self._redactor = redactor
        self._sessions = sessions
        """Whether payloads end with a session id (calls inside ``wnb.session()``)."""

    def __call__(self, calls: list[CallPayload]) -> dict[str, Any]:
        n = len(calls)
        # Per field, not zip(*calls): that would build a few huge tuples the
        # garbage collector scans again and again while the batch is built.
        keys, traces, parents, args, kwargs, outputs, failures, starts, took = (
            list(map(itemgetter(i), calls)) for i in range(9)
        )
        fields = None
        if self._bind_columns is not None and not any(kwargs):
            fields = self._bind_columns(args)
        if fields is None:
            bind = self._bind
            fields = rows_to_columns(
                [bind(a, k or _NO_KWARGS) for a, k in zip(args, kwargs, strict=True)]
            )
        # Redaction and size limits run here, in the flusher, so the caller never pays for them.
        redactor = SETTINGS.redactor.merged(self._redactor)
        if redactor.active:
            fields = _redacted_columns(fields, redactor)
            outputs = _cut_column(outputs, redactor)
        start_ns = np.fromiter(starts, np.int64, n)
        elapsed_ns = np.fromiter(took, np.int64, n)
        success, error, fields_of = schema.SUCCESS, schema.ERROR, schema.EXCEPTION_FIELDS
        columns: dict[str, Any] = {
            "_id": _id_texts(keys),
            schema.NAME: pa.repeat(self._name, n),
            schema.INPUTS: struct_column(fields, n),
            schema.OUTPUT: outputs,
            schema.STATUS: [success if f is None else error for f in failures],
            schema.EXCEPTION: [
                None if f is None else dict(zip(fields_of, f, strict=True)) for f in failures
            ],
            schema.START_TIME: pa.array(start_ns // 1000).cast(schema.TIME_TYPE),
            schema.END_TIME: pa.array((start_ns + elapsed_ns) // 1000).cast(schema.TIME_TYPE),
            schema.LATENCY_MS: pa.array(elapsed_ns / 1e6),
            schema.TRACE_ID: _link_texts(traces),
            schema.PARENT_ID: _id_texts(parents),  # all null at times: a list keeps the null type
        }
        if self._sessions:
            columns[schema.SESSION_ID] = list(map(itemgetter(9), calls))
        for key, value in self._attributes.items():
            columns[key] = [value] * n
        return columns


def _id_texts(keys: list[RecordKey | None]) -> list[str | None]:
    """The ids of record keys (see :func:`._record.id_text`), for a whole column at once."""
    prefix = IDS.prefix
    return [prefix + str(key) if type(key) is int else key for key in keys]  # type: ignore[misc]


def _link_texts(keys: list[RecordKey | None]) -> pa.Array | list[str | None]:
    """:func:`_id_texts` as an Arrow string array (~2x faster), for a column never all null."""
    try:  # counter values (and nulls) only, the usual case
        numbers = pa.array(keys, type=pa.int64())
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError):  # ids of OpenTelemetry spans too
        return _id_texts(keys)
    return pc.binary_join_element_wise(IDS.prefix, numbers.cast(pa.string()), "")


def _redacted_columns(fields: dict[str, list[Any]], redactor: Redactor) -> dict[str, list[Any]]:
    return {
        name: [REDACTED] * len(values) if redactor.secret(name) else _cut_column(values, redactor)
        for name, values in fields.items()
    }


def _cut_column(values: list[Any], redactor: Redactor) -> list[Any]:
    """Plain scalars of one column with oversized text and bytes cut."""
    limit = (redactor.max_value_bytes or 0) // 4
    if not limit:
        return values
    kinds = set(map(type, values))  # C loops: columns of numbers cost next to nothing
    if (str not in kinds and bytes not in kinds) or max(
        len(v) for v in values if type(v) in _SIZED
    ) <= limit:
        return values
    return [redactor(v) for v in values]


_SIZED = (str, bytes)
