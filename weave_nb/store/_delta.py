"""The Delta transaction log of one stream: create, read the file list, commit, evolve.

The operations are plain functions of picklable arguments, so that a forked
process can have them run in a helper process (see ``_delta_worker``): every
caller goes through ``_delta_worker.call``.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from ._layout import FORMAT_DESCRIPTION, TIMESTAMP_TYPE

__all__ = [
    "DataFile",
    "LogState",
    "commit",
    "create",
    "delete_rows",
    "evolve",
    "file_stats",
    "load",
    "vacuum",
]

_COMMIT_ATTEMPTS = 30


@dataclass(frozen=True)
class DataFile:
    """One data file of the current table version, as its add action describes it."""

    path: str
    size: int
    num_rows: int
    min_ts_us: int | None
    max_ts_us: int | None


@dataclass(frozen=True)
class LogState:
    """A version of the table: its files and its schema (Arrow, physical)."""

    version: int
    files: tuple[DataFile, ...]
    schema: pa.Schema


# -- operations (run in the runtime's owner process) --------------------------------

_tables: dict[str, Any] = {}
_tables_lock = threading.Lock()


def _after_fork_in_child() -> None:
    global _tables_lock
    _tables.clear()  # the parent's DeltaTable objects hold its runtime
    _tables_lock = threading.Lock()


os.register_at_fork(after_in_child=_after_fork_in_child)


def _table(uri: str, options: Mapping[str, str]) -> Any:
    """The cached ``DeltaTable`` of ``uri`` (raises if there is none)."""
    from deltalake import DeltaTable

    with _tables_lock:
        table = _tables.get(uri)
    if table is None:
        table = DeltaTable(uri, storage_options=dict(options) or None)
        with _tables_lock:
            _tables[uri] = table
    return table


def load(uri: str, options: Mapping[str, str]) -> LogState | None:
    """The newest version of the table at ``uri`` (reading only new log entries), or None."""
    from deltalake.exceptions import TableNotFoundError

    try:
        table = _table(uri, options)
        table.update_incremental()
    except TableNotFoundError:
        with _tables_lock:
            _tables.pop(uri, None)
        return None
    # Through the C stream interface: pa.table() on a foreign table imports pandas first.
    actions = pa.RecordBatchReader.from_stream(table.get_add_actions(flatten=True)).read_all()
    names = actions.column_names
    paths = actions.column("path").to_pylist()
    sizes = actions.column("size_bytes").to_pylist()
    counts = (
        actions.column("num_records").to_pylist() if "num_records" in names else [None] * len(paths)
    )
    lows = _micros(actions, "min._timestamp")
    highs = _micros(actions, "max._timestamp")
    files = tuple(
        DataFile(p, s, int(n) if n is not None else -1, lo, hi)
        for p, s, n, lo, hi in zip(paths, sizes, counts, lows, highs, strict=True)
    )
    schema = pa.schema(table.schema().to_arrow())
    return LogState(int(table.version()), files, schema)


def _micros(actions: pa.Table, name: str) -> list[int | None]:
    if name not in actions.column_names:
        return [None] * actions.num_rows
    column = actions.column(name)
    if not pa.types.is_timestamp(column.type):
        return [None] * actions.num_rows
    return column.cast(TIMESTAMP_TYPE).cast(pa.int64()).to_pylist()  # type: ignore[no-any-return]


def create(uri: str, options: Mapping[str, str], schema: pa.Schema, name: str) -> None:
    """Create the table with ``schema`` unless it exists (concurrent creators both succeed)."""
    from deltalake import DeltaTable

    try:
        DeltaTable.create(
            uri,
            schema,
            mode="ignore",
            name=name,
            description=FORMAT_DESCRIPTION,
            storage_options=dict(options) or None,
        )
    except Exception:
        if load(uri, options) is None:  # another writer's create won the race otherwise
            raise


def evolve(uri: str, options: Mapping[str, str], schema: pa.Schema) -> None:
    """Merge ``schema`` (new columns, new struct fields) into the table's schema.

    One metadata-only commit; a concurrent change makes delta-rs fail, so this
    retries on the newer version (the merge is idempotent).
    """
    from deltalake import write_deltalake

    schema = pa.schema([f.with_type(_without_void_fields(f.type)) for f in schema])

    def attempt() -> None:
        table = _table(uri, options)
        write_deltalake(table, schema.empty_table(), mode="append", schema_mode="merge")
        table.update_incremental()

    _retrying(uri, options, attempt)


def _without_void_fields(type_: pa.DataType) -> pa.DataType:
    """``type_`` without null-typed fields in structs that have others.

    deltalake recurses without end merging a struct that mixes void and typed
    fields; a void field adds nothing (the table keeps it if it has it).
    """
    if pa.types.is_struct(type_):
        fields = [f.with_type(_without_void_fields(f.type)) for f in type_]
        typed = [f for f in fields if not pa.types.is_null(f.type)]
        return pa.struct(typed or fields)
    if pa.types.is_list(type_):
        return pa.list_(type_.value_field.with_type(_without_void_fields(type_.value_type)))
    return type_


def commit(
    uri: str,
    options: Mapping[str, str],
    schema: pa.Schema,
    adds: Sequence[tuple[str, int, int, str]],
    removes: Sequence[str],
) -> int:
    """Commit data files already written under ``uri``: ``adds`` of ``(path, size, rows,
    stats)`` and ``removes`` of paths, atomically. Returns the number of retries.

    Appends never conflict with other appends; delta-rs rebases them onto newer
    versions itself, and this retries what it gives up on.
    """
    from deltalake.transaction import AddAction, CommitProperties, RemoveAction

    now = int(time.time() * 1000)
    actions: list[Any] = [
        AddAction(path, size, {}, now, True, stats) for path, size, _rows, stats in adds
    ]
    actions += [RemoveAction(path, True, now) for path in removes]
    properties = CommitProperties(max_commit_retries=_COMMIT_ATTEMPTS)

    def attempt() -> None:
        table = _table(uri, options)
        table.create_write_transaction(actions, "append", schema, commit_properties=properties)
        # Without this the next commit starts from the old version and rebases over
        # every commit since: the cost of a flush would grow with the table's age.
        table.update_incremental()

    return _retrying(uri, options, attempt)


def delete_rows(uri: str, options: Mapping[str, str], predicate: str) -> int:
    """Delete the rows matching a Delta SQL ``predicate``; returns how many."""
    table = _table(uri, options)
    table.update_incremental()
    metrics = table.delete(predicate)
    return int(metrics.get("num_deleted_rows", 0) or 0)


def vacuum(uri: str, options: Mapping[str, str], retention_hours: float) -> list[str]:
    """Remove files no version newer than ``retention_hours`` needs; returns them."""
    table = _table(uri, options)
    table.update_incremental()
    removed = table.vacuum(
        retention_hours=int(retention_hours),
        dry_run=False,
        enforce_retention_duration=False,
        full=True,
    )
    return list(removed)


def _retrying(uri: str, options: Mapping[str, str], attempt: Callable[[], None]) -> int:
    """Run ``attempt`` until it commits, refreshing the table between conflicts."""
    from deltalake.exceptions import CommitFailedError

    for retry in range(_COMMIT_ATTEMPTS):
        try:
            attempt()
            return retry
        except CommitFailedError:
            if retry == _COMMIT_ATTEMPTS - 1:
                raise
            time.sleep(0.01 * (retry + 1))
            _table(uri, options).update_incremental()
    raise AssertionError("unreachable")


def file_stats(table: pa.Table) -> str:
    """Delta statistics of a data file: row count and the ``_timestamp`` range."""
    stats: dict[str, Any] = {"numRecords": table.num_rows}
    if "_timestamp" in table.column_names and table.num_rows:
        import pyarrow.compute as pc

        column = table.column("_timestamp")
        bounds = pc.min_max(column.cast(TIMESTAMP_TYPE).cast(pa.int64()))
        if bounds["min"].is_valid:
            low, high = bounds["min"].as_py(), bounds["max"].as_py()
            try:  # Delta readers skip files by these; milliseconds, rounded outwards
                stats["minValues"] = {"_timestamp": _iso_ms(low // 1000)}
                stats["maxValues"] = {"_timestamp": _iso_ms(-(-high // 1000))}
                stats["nullCount"] = {"_timestamp": column.null_count}
            except OverflowError:  # a backfilled time outside datetime's range
                pass
    return json.dumps(stats)


def _iso_ms(millis: int) -> str:
    moment = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc) + dt.timedelta(milliseconds=millis)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
