"""Tables of a process query one DuckDB database, each through a connection of its own."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import pytest

import weave_nb as wnb


def _table(root: Path, name: str, scale: int) -> wnb.StreamTable:
    table = wnb.StreamTable(name, root=root)
    table.log([{"v": i * scale, "k": "same"} for i in range(200)])
    table.flush()
    table.log([{"v": i * scale, "k": "same"} for i in range(200, 250)])  # in memory
    return table


def _check(table: wnb.StreamTable, scale: int) -> None:
    assert table.count(f"v >= {100 * scale}") == 150
    top = table.window(0, 3, sort=[("v", "desc")], columns=["v"])
    assert top.column("v").to_pylist() == [249 * scale, 248 * scale, 247 * scale]
    ties = table.window(10, 2, sort=[("k", "asc")], columns=["v"])
    assert ties.column("v").to_pylist() == [10 * scale, 11 * scale]  # ties in log order
    assert table.sql("SELECT max(v) AS m FROM t").column("m").to_pylist() == [249 * scale]


def test_tables_queried_from_threads_see_only_their_rows(tmp_path: Path) -> None:
    tables = [_table(tmp_path, "one", 1), _table(tmp_path, "two", 7)]
    errors: list[BaseException] = []

    def run(table: wnb.StreamTable, scale: int) -> None:
        try:
            for _ in range(15):
                _check(table, scale)
        except BaseException as error:  # reported by the main thread
            errors.append(error)

    threads = [
        threading.Thread(target=run, args=(table, scale))
        for table, scale in [(tables[0], 1), (tables[1], 7), (tables[0], 1), (tables[1], 7)]
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not errors, errors
    tables[0].close()
    _check(tables[1], 7)  # closing a table leaves the database to the others
    tables[1].close()


@pytest.mark.slow
def test_a_forked_child_queries_with_a_database_of_its_own(tmp_path: Path) -> None:
    table = _table(tmp_path, "forked", 3)
    table.flush()  # a forked child leaves the rows still in memory to the parent
    _check(table, 3)  # the parent's database is open, its threads started
    pid = os.fork()
    if pid == 0:  # the child: its own database, the parent's left alone
        code = 1
        try:
            _check(table, 3)
            code = 0
        finally:
            os._exit(code)
    deadline = time.monotonic() + 120
    while (status := os.waitpid(pid, os.WNOHANG))[0] == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    if status[0] == 0:  # stuck, e.g. waiting on a lock of the parent's database
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    assert status[0] == pid, "the child hung"
    assert os.waitstatus_to_exitcode(status[1]) == 0
    _check(table, 3)
    table.close()
