"""``@monitor``: log every call of a function to a StreamTable (see :mod:`._sink`)."""

from ._sink import (
    BoundMonitoredFunction,
    MonitoredFunction,
    MonitorWarning,
    Record,
    current_record,
    monitor,
    monitoring,
)

__all__ = [
    "BoundMonitoredFunction",
    "MonitorWarning",
    "MonitoredFunction",
    "Record",
    "current_record",
    "monitor",
    "monitoring",
]
