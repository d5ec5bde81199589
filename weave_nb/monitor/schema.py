"""The row of a monitored call: its column names and their types, defined once.

``@monitor`` writes these columns, the OpenTelemetry exporter writes spans with
them, board seeding recognises a monitor table by them, and the table widget
tells the browser which of them mark a failed row. ``inputs`` and ``output``
hold whatever the call took and returned, so their types vary per table; every
other column has the type given in :data:`COLUMN_TYPES`.
"""

from __future__ import annotations

from collections.abc import Mapping

import pyarrow as pa

__all__ = [
    "COLUMN_TYPES",
    "END_TIME",
    "ERROR",
    "EXCEPTION",
    "EXCEPTION_FIELDS",
    "EXCEPTION_TYPE",
    "FIRST_ITEM_MS",
    "INPUTS",
    "LATENCY_MS",
    "MONITOR_COLUMNS",
    "NAME",
    "OUTPUT",
    "PARENT_ID",
    "REQUIRED_COLUMNS",
    "SESSION_ID",
    "START_TIME",
    "STATUS",
    "STOPPED_EARLY",
    "SUCCESS",
    "TIME_TYPE",
    "TRACE_ID",
    "is_monitor_schema",
]

NAME = "name"
"""Qualified name of the monitored function (or the span's name)."""
INPUTS = "inputs"
"""The call's arguments bound to parameter names: a struct whose fields vary per table."""
OUTPUT = "output"
"""What the call returned (after ``postprocess``); its type varies per table."""
STATUS = "status"
""":data:`SUCCESS` or :data:`ERROR`."""
EXCEPTION = "exception"
"""``{type, message, traceback}`` of a failed call (:data:`EXCEPTION_TYPE`), null on success."""
START_TIME = "start_time"
END_TIME = "end_time"
LATENCY_MS = "latency_ms"
TRACE_ID = "trace_id"
"""Id of the outermost monitored call (or span) of the call tree."""
PARENT_ID = "parent_id"
"""Id of the monitored call (or span) this one ran inside, null for a root."""
FIRST_ITEM_MS = "first_item_ms"
"""Generators only: the delay to their first item."""
STOPPED_EARLY = "stopped_early"
"""Generators only: ``True`` when the consumer stopped before the generator was exhausted."""
SESSION_ID = "session_id"
"""Calls inside ``wnb.session()`` (or with ``session=``) only."""

SUCCESS = "success"
ERROR = "error"
"""The values of :data:`STATUS`."""

EXCEPTION_FIELDS = ("type", "message", "traceback")
"""The fields of :data:`EXCEPTION`, in order."""

TIME_TYPE = pa.timestamp("us", tz="UTC")
EXCEPTION_TYPE = pa.struct([(field, pa.string()) for field in EXCEPTION_FIELDS])

COLUMN_TYPES: Mapping[str, pa.DataType] = {
    NAME: pa.string(),
    STATUS: pa.string(),
    EXCEPTION: EXCEPTION_TYPE,
    START_TIME: TIME_TYPE,
    END_TIME: TIME_TYPE,
    LATENCY_MS: pa.float64(),
    TRACE_ID: pa.string(),
    PARENT_ID: pa.string(),
    FIRST_ITEM_MS: pa.float64(),
    STOPPED_EARLY: pa.bool_(),
    SESSION_ID: pa.string(),
}
"""The type of every column the monitor fills, except :data:`INPUTS` and :data:`OUTPUT`."""

REQUIRED_COLUMNS = (NAME, INPUTS, OUTPUT, STATUS, LATENCY_MS)
"""Columns every monitor table has; a table with all of them is treated as one."""

MONITOR_COLUMNS = frozenset(
    {
        NAME,
        INPUTS,
        OUTPUT,
        STATUS,
        EXCEPTION,
        START_TIME,
        END_TIME,
        LATENCY_MS,
        TRACE_ID,
        PARENT_ID,
        FIRST_ITEM_MS,
    }
)
"""Columns the monitor fills itself; ``attributes`` may not use these names."""


def is_monitor_schema(schema: pa.Schema) -> bool:
    """Whether ``schema`` is that of a table written by ``@monitor`` (or its span exporter)."""
    names = set(schema.names)
    return all(name in names for name in REQUIRED_COLUMNS)
