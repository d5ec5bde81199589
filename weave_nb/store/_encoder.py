"""One Parquet data file, encoded by a thread from the tables handed to it in order.

Encoding Parquet releases the GIL and converting rows to Arrow does not, so a
large flush hands each converted part to an :class:`Encoder` and converts the
next one meanwhile: the flush then costs about its conversion alone. The file
stays invisible until the caller commits it.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from ._location import Location

__all__ = ["PARQUET_OPTIONS", "ROW_GROUP_ROWS", "Encoder"]

ROW_GROUP_ROWS = 64 * 1024
PARQUET_OPTIONS: dict[str, Any] = {
    "compression": "zstd",
    "use_dictionary": False,
    "write_page_checksum": True,
}
"""How every data file is encoded."""


class Encoder:
    """Writes the data file ``name`` with ``schema`` from :meth:`add`'s tables, in a thread."""

    def __init__(self, location: Location, name: str, schema: pa.Schema) -> None:
        self.name = name
        self.schema = schema
        self._location = location
        self._queue: queue.Queue[pa.Table | None] = queue.Queue(maxsize=2)
        self._error: BaseException | None = None
        self._size = 0
        self._thread = threading.Thread(target=self._run, name="weave_nb-encoder", daemon=True)
        self._thread.start()

    def add(self, table: pa.Table) -> None:
        """Queue ``table`` (of :attr:`schema`) as the next rows of the file."""
        if self._error is not None:
            raise self._error
        self._queue.put(table)

    def finish(self) -> int:
        """Wait for the file to be complete and stored; returns its size in bytes."""
        self._queue.put(None)
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._size

    def stop(self) -> None:
        """Give up on the file (it is never committed, so no reader sees it)."""
        self._queue.put(None)
        self._thread.join()

    def _run(self) -> None:
        held: list[pa.Table] = []
        rows = 0
        ended = False
        writer: pq.ParquetWriter | None = None
        local = self._location.local
        sink: Any = local / self.name if local is not None else pa.BufferOutputStream()
        try:
            if local is not None:
                local.mkdir(parents=True, exist_ok=True)
            writer = pq.ParquetWriter(sink, self.schema, **PARQUET_OPTIONS)
            while (table := self._queue.get()) is not None:
                held.append(table)
                rows += table.num_rows
                if rows >= ROW_GROUP_ROWS:  # whole row groups: parts may be small
                    writer.write_table(pa.concat_tables(held), row_group_size=ROW_GROUP_ROWS)
                    held, rows = [], 0
            ended = True
            if held:
                writer.write_table(pa.concat_tables(held), row_group_size=ROW_GROUP_ROWS)
            writer.close()
            writer = None
            if local is not None:
                self._size = sink.stat().st_size
            else:
                data = sink.getvalue().to_pybytes()
                self._location.put(self.name, data)
                self._size = len(data)
        except BaseException as error:
            self._error = error
            if writer is not None:
                with contextlib.suppress(Exception):
                    writer.close()
            while not ended:  # take what is still queued, so add() and finish() return
                ended = self._queue.get() is None
