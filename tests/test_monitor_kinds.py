"""@monitor on coroutines, generators and async generators: rows, hooks, timing, errors."""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import AsyncGenerator, AsyncIterator, Generator, Iterator

import pytest
from _support import rows

from weave_nb.monitor import current_record, monitor
from weave_nb.store import StreamTable

# -- async def ---------------------------------------------------------------------------


def test_coroutine_row_has_result_and_latency(table: StreamTable) -> None:
    @monitor(table=table)
    async def answer(question: str) -> str:
        await asyncio.sleep(0.02)
        current_record().add_data({"tokens": 3})
        return question[::-1]

    assert asyncio.run(answer("abc")) == "cba"
    (row,) = rows(table)
    assert row["inputs"] == {"question": "abc"}
    assert row["output"] == "cba"
    assert row["status"] == "success"
    assert row["tokens"] == 3
    assert row["latency_ms"] >= 15


def test_coroutine_clock_starts_when_awaited_not_when_created(table: StreamTable) -> None:
    @monitor(table=table)
    async def quick() -> int:
        return 1

    async def main() -> None:
        coro = quick()
        await asyncio.sleep(0.05)
        assert await coro == 1

    asyncio.run(main())
    assert rows(table)[0]["latency_ms"] < 40


def test_coroutine_error_is_logged_and_reraised(table: StreamTable) -> None:
    error = TimeoutError("upstream")

    @monitor(table=table)
    async def fail() -> None:
        await asyncio.sleep(0)
        raise error

    with pytest.raises(TimeoutError) as caught:
        asyncio.run(fail())
    assert caught.value is error
    (row,) = rows(table)
    assert row["status"] == "error"
    assert row["exception"]["message"] == "upstream"


def test_coroutine_hooks_and_call(table: StreamTable) -> None:
    @monitor(
        table=table,
        preprocess=lambda inputs: {"n": inputs["n"] * 10},
        postprocess=lambda output: {"doubled": output},
    )
    async def double(n: int) -> int:
        return 2 * n

    async def main() -> None:
        coro, record = double.call(4)
        assert not record.logged
        assert await coro == 8
        assert record.logged

    asyncio.run(main())
    (row,) = rows(table)
    assert row["inputs"] == {"n": 40}
    assert row["output"] == {"doubled": 8}


def test_monitored_coroutine_function_is_recognised_as_async(table: StreamTable) -> None:
    @monitor(table=table)
    async def f() -> None:
        return None

    assert inspect.iscoroutinefunction(f)
    assert asyncio.iscoroutinefunction(f)
    assert list(inspect.signature(f).parameters) == []
    coro = f()
    assert inspect.iscoroutine(coro)
    asyncio.run(coro)


# -- generators --------------------------------------------------------------------------


def test_generator_items_are_collected_with_time_to_first_item(table: StreamTable) -> None:
    @monitor(table=table)
    def stream(n: int) -> Iterator[str]:
        time.sleep(0.02)
        for i in range(n):
            yield f"tok{i}"
        time.sleep(0.02)

    assert list(stream(3)) == ["tok0", "tok1", "tok2"]
    (row,) = rows(table)
    assert row["output"] == ["tok0", "tok1", "tok2"]
    assert 15 <= row["first_item_ms"] < row["latency_ms"]
    assert row["latency_ms"] >= 35


def test_generator_reduce_and_postprocess(table: StreamTable) -> None:
    @monitor(table=table, reduce="".join, postprocess=str.upper)
    def stream() -> Iterator[str]:
        yield from ["he", "llo"]

    gen, record = stream.call()
    assert not record.logged
    assert list(gen) == ["he", "llo"]
    assert record.logged
    assert rows(table)[0]["output"] == "HELLO"


def test_generator_send_and_return_value_pass_through(table: StreamTable) -> None:
    @monitor(table=table)
    def accumulate() -> Generator[int, int, int]:
        total = 0
        while total < 10:
            total += yield total
        return total

    def drive() -> int:
        gen = accumulate()
        next(gen)
        try:
            while True:
                gen.send(4)
        except StopIteration as stop:
            return int(stop.value)

    assert drive() == 12
    assert rows(table)[0]["output"] == [0, 4, 8]


def test_generator_closed_early_logs_the_items_so_far(table: StreamTable) -> None:
    closed = []

    @monitor(table=table)
    def numbers() -> Iterator[int]:
        try:
            yield from range(100)
        finally:
            closed.append(True)

    for i in numbers():
        if i == 2:
            break
    (row,) = rows(table)
    assert closed == [True]
    assert row["status"] == "success"
    assert row["output"] == [0, 1, 2]


def test_generator_error_mid_stream_keeps_the_items(table: StreamTable) -> None:
    @monitor(table=table)
    def numbers() -> Iterator[int]:
        yield 1
        raise RuntimeError("stream broke")

    with pytest.raises(RuntimeError, match="stream broke"):
        list(numbers())
    (row,) = rows(table)
    assert row["status"] == "error"
    assert row["output"] == [1]


def test_thrown_exception_is_forwarded_to_the_generator(table: StreamTable) -> None:
    @monitor(table=table)
    def resilient() -> Generator[str, None, None]:
        try:
            yield "first"
        except ValueError:
            yield "recovered"

    gen = resilient()
    assert next(gen) == "first"
    assert gen.throw(ValueError("retry")) == "recovered"
    gen.close()
    assert rows(table)[0]["output"] == ["first", "recovered"]


def test_nested_calls_inside_a_generator_link_to_it(table: StreamTable) -> None:
    @monitor(table=table)
    def tokenize(text: str) -> list[str]:
        return text.split()

    @monitor(table=table)
    def stream(text: str) -> Iterator[str]:
        yield from tokenize(text)

    assert list(stream("a b")) == ["a", "b"]
    by_name = {row["name"].rsplit(".", 1)[-1]: row for row in rows(table)}
    assert by_name["tokenize"]["parent_id"] == by_name["stream"]["_id"]


# -- async generators --------------------------------------------------------------------


def test_async_generator_items_hooks_and_first_item(table: StreamTable) -> None:
    @monitor(table=table, reduce=lambda items: " ".join(items), postprocess=len)
    async def stream(words: list[str]) -> AsyncIterator[str]:
        await asyncio.sleep(0.02)
        for word in words:
            yield word
            await asyncio.sleep(0)

    async def main() -> list[str]:
        return [word async for word in stream(["hi", "there"])]

    assert asyncio.run(main()) == ["hi", "there"]
    (row,) = rows(table)
    assert row["output"] == len("hi there")
    assert row["inputs"] == {"words": ["hi", "there"]}
    assert 15 <= row["first_item_ms"] <= row["latency_ms"]


def test_async_generator_error_and_early_close(table: StreamTable) -> None:
    @monitor(table=table)
    async def failing() -> AsyncIterator[int]:
        yield 1
        raise ValueError("bad chunk")

    @monitor(table=table)
    async def endless() -> AsyncGenerator[int, None]:
        i = 0
        while True:
            yield i
            i += 1

    async def main() -> None:
        with pytest.raises(ValueError, match="bad chunk"):
            async for _ in failing():
                pass
        gen = endless()
        assert [await gen.__anext__() for _ in range(3)] == [0, 1, 2]
        await gen.aclose()

    asyncio.run(main())
    failed, closed = rows(table)
    assert failed["status"] == "error"
    assert failed["output"] == [1]
    assert closed["status"] == "success"
    assert closed["output"] == [0, 1, 2]
