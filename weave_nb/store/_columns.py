"""Decoded columns of immutable segments, kept for repeated sorts (bounded, LRU)."""

from __future__ import annotations

import atexit
import threading
from collections import OrderedDict
from collections.abc import Sequence

import pyarrow as pa
import pyarrow.parquet as pq

from ._layout import split_companion
from ._schema import conform, conform_column, logical_schema
from ._segments import Segment

__all__ = ["ColumnCache"]

_DEFAULT_BUDGET = 256 * 1024 * 1024

_exiting = threading.Event()
_warmers: set[threading.Thread] = set()
_warmers_lock = threading.Lock()


@atexit.register
def _stop_warming() -> None:
    """Let background decoding end before the interpreter does.

    A daemon thread still inside pyarrow's Parquet reader when the process exits
    crashes it (SIGSEGV in Arrow's I/O threads); a short script that sorts and
    exits at once hits that. Decoding stops at the next column, which is waited for.
    """
    _exiting.set()
    with _warmers_lock:
        threads = list(_warmers)
    for thread in threads:
        if thread.ident is not None:  # started (it is listed just before it starts)
            thread.join()


class ColumnCache:
    """Columns read from segments, keyed by (file, column); segments never change once named.

    A table widget sorting a million rows reads the key column once; scrolling
    the sorted view then costs only the ranking and the rows of each window.
    """

    def __init__(self, budget_bytes: int = _DEFAULT_BUDGET) -> None:
        self._budget = budget_bytes
        self._used = 0
        self._entries: OrderedDict[tuple[str, str], pa.ChunkedArray] = OrderedDict()
        self._sizes: dict[str, int] = {}
        self._warming: threading.Thread | None = None
        self._lock = threading.Lock()

    def column(self, segment: Segment, name: str, want: pa.DataType | None) -> pa.ChunkedArray:
        """Column ``name`` of ``segment``, cast to ``want`` (nulls if the segment lacks it)."""
        key = (str(segment.path), name)
        with self._lock:
            cached = self._entries.get(key)
            if cached is not None:
                self._entries.move_to_end(key)
        if cached is None:
            stored = [
                n
                for n in segment.schema.names
                if n == name or (split_companion(n) or ("",))[0] == name
            ]
            if stored == [name]:
                cached = segment.read([name]).column(0)
            elif stored:  # values of other types live in companion columns: fold them
                part = segment.read(stored)
                folded = logical_schema(part.schema).field(name)
                cached = conform(part, pa.schema([folded])).column(0)
            else:
                cached = pa.chunked_array([pa.nulls(segment.num_rows, want or pa.null())])
            self._store(key, cached)
        return cached if want is None else conform_column(cached, want)

    def fits(self, segments: Sequence[Segment]) -> bool:
        """Whether these segments, decoded whole, take at most half the budget.

        Beyond that, keeping them would evict each other on every request.
        """
        return sum(self._decoded_size(s) for s in segments) <= self._budget // 2

    def holds(self, segments: Sequence[Segment]) -> bool:
        """Whether every column of these segments is decoded in the cache now."""
        with self._lock:
            return all(
                (str(s.path), name) in self._entries
                for s in segments
                for name in logical_schema(s.schema).names
            )

    def warm(self, segments: Sequence[Segment]) -> None:
        """Decode these segments' columns in a background thread (once at a time)."""
        if (self._warming is not None and self._warming.is_alive()) or _exiting.is_set():
            return
        self._warming = threading.Thread(
            target=self._decode, args=(list(segments),), name="weave_nb-warm", daemon=True
        )
        with _warmers_lock:
            _warmers.add(self._warming)
        self._warming.start()

    def _decode(self, segments: list[Segment]) -> None:
        try:
            for segment in segments:
                for name in logical_schema(segment.schema).names:
                    if _exiting.is_set():
                        return
                    try:
                        self.column(segment, name, None)
                    except OSError:  # compacted away meanwhile: nothing to keep
                        return
        finally:
            with _warmers_lock:
                _warmers.discard(threading.current_thread())

    def _decoded_size(self, segment: Segment) -> int:
        size = self._sizes.get(str(segment.path))
        if size is None:
            meta = pq.read_metadata(segment.path)
            size = sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups))
            self._sizes[str(segment.path)] = size
        return size

    def _store(self, key: tuple[str, str], column: pa.ChunkedArray) -> None:
        with self._lock:
            if key in self._entries:
                return
            self._entries[key] = column
            self._used += column.nbytes
            while self._used > self._budget and len(self._entries) > 1:
                _, evicted = self._entries.popitem(last=False)
                self._used -= evicted.nbytes
