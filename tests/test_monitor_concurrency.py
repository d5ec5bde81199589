"""@monitor across call trees, threads, asyncio tasks and processes; flush at exit."""

from __future__ import annotations

import asyncio
import contextvars
import subprocess
import sys
import textwrap
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from _support import rows

from weave_nb.monitor import current_record, monitor
from weave_nb.store import StreamTable, open_table


def by_input(table: StreamTable) -> dict[Any, dict[str, Any]]:
    return {row["inputs"]["x"]: row for row in rows(table)}


# -- trace links -------------------------------------------------------------------------


def test_nested_calls_link_to_their_caller(table: StreamTable) -> None:
    @monitor(table=table)
    def leaf(x: str) -> str:
        return x

    @monitor(table=table)
    def middle(x: str) -> str:
        return leaf(x + ".leaf")

    @monitor(table=table)
    def root(x: str) -> str:
        middle(x + ".a")
        return middle(x + ".b")

    root("r")
    root("s")
    calls = by_input(table)
    for top in ("r", "s"):
        trace = calls[top]["_id"]
        assert calls[top]["parent_id"] is None
        assert calls[top]["trace_id"] == trace
        for branch in ("a", "b"):
            mid, leaf_row = calls[f"{top}.{branch}"], calls[f"{top}.{branch}.leaf"]
            assert mid["parent_id"] == trace
            assert mid["trace_id"] == trace
            assert leaf_row["parent_id"] == mid["_id"]
            assert leaf_row["trace_id"] == trace


def test_asyncio_gather_children_link_to_the_parent(table: StreamTable) -> None:
    @monitor(table=table)
    async def child(x: int) -> int:
        await asyncio.sleep(0.01 * (x % 3))
        return x

    @monitor(table=table)
    async def parent(x: int) -> list[int]:
        return await asyncio.gather(*(child(x * 10 + i) for i in range(5)))

    async def main() -> None:
        await asyncio.gather(parent(1), parent(2))

    asyncio.run(main())
    calls = by_input(table)
    for top in (1, 2):
        for i in range(5):
            assert calls[top * 10 + i]["parent_id"] == calls[top]["_id"]
            assert calls[top * 10 + i]["trace_id"] == calls[top]["_id"]


def test_threads_link_only_when_the_context_is_copied(table: StreamTable) -> None:
    """Documented: plain threads start with an empty context; copy_context().run keeps links."""

    @monitor(table=table)
    def work(x: str) -> str:
        return x

    @monitor(table=table)
    def fan_out(x: str) -> None:
        plain = threading.Thread(target=work, args=("plain",))
        copied = threading.Thread(target=contextvars.copy_context().run, args=(work, "copied"))
        for thread in (plain, copied):
            thread.start()
            thread.join()
        with ThreadPoolExecutor(2) as pool:
            pool.submit(contextvars.copy_context().run, work, "pool").result()
            pool.submit(work, "pool-plain").result()

    fan_out("root")
    calls = by_input(table)
    root_id = calls["root"]["_id"]
    assert calls["copied"]["parent_id"] == root_id
    assert calls["pool"]["parent_id"] == root_id
    assert calls["copied"]["trace_id"] == root_id
    assert calls["plain"]["parent_id"] is None
    assert calls["pool-plain"]["parent_id"] is None
    assert calls["plain"]["trace_id"] == calls["plain"]["_id"]


def test_current_record_is_per_thread_and_per_task(table: StreamTable) -> None:
    seen: dict[int, str | None] = {}

    @monitor(table=table)
    def f(x: int) -> None:
        seen[x] = current_record().id

    threads = [threading.Thread(target=f, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    calls = by_input(table)
    assert {i: calls[i]["_id"] for i in range(4)} == seen


# -- many threads ------------------------------------------------------------------------


@pytest.mark.slow
def test_thread_storm_logs_every_call_exactly_once(table: StreamTable) -> None:
    threads_count, calls_each = 8, 10_000

    @monitor(table=table)
    def add(a: int, b: int) -> int:
        return a + b

    def hammer(worker: int) -> None:
        for i in range(calls_each):
            add(worker, i)

    threads = [threading.Thread(target=hammer, args=(w,)) for w in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    table.flush()
    assert len(table) == threads_count * calls_each
    assert table.count() == threads_count * calls_each
    distinct = table.sql("SELECT count(DISTINCT _id) AS n, count(DISTINCT inputs) AS k FROM t")
    assert distinct.column("n")[0].as_py() == threads_count * calls_each
    assert distinct.column("k")[0].as_py() == threads_count * calls_each
    assert table.count("output = inputs.a + inputs.b") == threads_count * calls_each


# -- exit ----------------------------------------------------------------------------------


def test_rows_and_unfinished_records_are_written_at_exit(tmp_path: Path) -> None:
    script = textwrap.dedent(
        """
        import sys
        import weave_nb as wnb

        root = sys.argv[1]

        @wnb.monitor("auto", root=root)
        def auto(x):
            return x + 1

        @wnb.monitor("held", root=root, auto_log=False)
        def held(x):
            return x * 2

        for i in range(500):
            auto(i)
        records = [held.call(i)[1] for i in range(50)]
        records[0].add_data({"feedback": "good"})
        records[1].finish()
        # exit without flush() or finish() on the other records
        """
    )
    subprocess.run([sys.executable, "-c", script, str(tmp_path)], check=True, timeout=120)
    auto = open_table("auto", root=tmp_path)
    held = open_table("held", root=tmp_path)
    assert len(auto) == 500
    assert len(held) == 50
    assert sorted(row["output"] for row in held.to_arrow().to_pylist()) == [
        2 * i for i in range(50)
    ]
    feedback = held.count("feedback = 'good'")
    assert feedback == 1
