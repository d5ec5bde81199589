"""@monitor for LLM apps: sessions, trace trees, tokens and cost, redaction, size limits."""

from __future__ import annotations

import asyncio
import contextvars
import json
import threading
import types
import warnings
from collections.abc import Iterator
from typing import Any

import pytest
from _support import rows

import weave_nb as wnb
from weave_nb._config import configure
from weave_nb._redact import REDACTED, truncated_marker
from weave_nb.monitor import MonitorWarning, monitor
from weave_nb.store import StreamTable
from weave_nb.tracing import depth_first, session_frame, trace_frame


@pytest.fixture(autouse=True)
def _settings() -> Iterator[None]:
    """Every test starts and ends with the default process-wide settings."""
    configure(prices=None, redact=(), max_value_bytes=1_000_000)
    yield
    configure(prices=None, redact=(), max_value_bytes=1_000_000)


# -- sessions ------------------------------------------------------------------------------


def test_session_tags_calls_nested_calls_async_tasks_and_copied_threads(
    table: StreamTable,
) -> None:
    @monitor(table=table)
    def inner(x: int) -> int:
        return x

    @monitor(table=table)
    def outer(x: int) -> int:
        return inner(x) + 1

    @monitor(table=table)
    async def coro(x: int) -> int:
        return x

    async def many() -> None:
        await asyncio.gather(coro(1), coro(2))

    outer(0)  # outside any session
    with wnb.session("user-42") as sid:
        assert wnb.current_session() == sid == "user-42"
        outer(1)
        asyncio.run(many())
        context = contextvars.copy_context()
        worker = threading.Thread(target=context.run, args=(inner, 5))
        worker.start()
        worker.join()
    assert wnb.current_session() is None
    logged = rows(table)
    tagged = [r for r in logged if r["session_id"] == "user-42"]
    assert len(tagged) == 5  # outer, inner, two coroutines, the thread's call
    assert [r["session_id"] for r in logged if r["inputs"] == {"x": 0}] == [None, None]


def test_session_derived_from_arguments_tags_the_call_and_the_calls_it_makes(
    table: StreamTable,
) -> None:
    @monitor(table=table)
    def lookup(question: str) -> str:
        return question

    @monitor(table=table, session=lambda inputs: inputs["user"])
    def ask(user: str, question: str) -> str:
        return lookup(question)

    @monitor(table=table, session=lambda inputs: inputs["user"])
    async def ask_async(user: str, question: str) -> str:
        return lookup(question)

    ask("ann", "hi")
    ask("bob", "yo")
    asyncio.run(ask_async("cho", "hey"))
    lookup("outside")
    by_session = {}
    for row in rows(table):
        by_session.setdefault(row.get("session_id"), []).append(row["name"].rsplit(".", 1)[-1])
    assert {k: sorted(v) for k, v in by_session.items()} == {
        "ann": ["ask", "lookup"],
        "bob": ["ask", "lookup"],
        "cho": ["ask_async", "lookup"],
        None: ["lookup"],
    }
    frame = session_frame(table, "bob")
    assert frame["inputs"].tolist()[0] == {"user": "bob", "question": "yo"}


def test_session_callable_failing_is_reported_once_and_the_row_kept(table: StreamTable) -> None:
    @monitor(table=table, session=lambda inputs: inputs["missing"])
    def ask(question: str) -> str:
        return question

    with pytest.warns(MonitorWarning, match="session"):
        ask("a")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ask("b")
    assert [r.get("session_id") for r in rows(table)] == [None, None]


def test_session_frame_orders_calls_by_start(table: StreamTable) -> None:
    @monitor(table=table)
    def step(i: int) -> int:
        return i

    with wnb.session(7):
        for i in range(5):
            step(i)
    frame = session_frame(table, "7")
    assert [inputs["i"] for inputs in frame["inputs"]] == [0, 1, 2, 3, 4]


# -- traces --------------------------------------------------------------------------------


def test_trace_is_root_first_then_depth_first_in_start_order(table: StreamTable) -> None:
    @monitor(table=table)
    def leaf(name: str) -> str:
        return name

    @monitor(table=table)
    def branch(name: str) -> str:
        return leaf(name + ".a") + leaf(name + ".b")

    @monitor(table=table)
    def root(name: str) -> str:
        return branch("x") + branch("y")

    _, record = root.call("")
    root("")  # another trace, not included
    frame = trace_frame(table, str(record.trace_id))
    pairs = zip(frame["name"], frame["inputs"], strict=True)
    labels = [name.split(".")[-1] + inputs["name"] for name, inputs in pairs]
    assert labels == ["root", "branchx", "leafx.a", "leafx.b", "branchy", "leafy.a", "leafy.b"]
    assert frame["depth"].tolist() == [0, 1, 2, 2, 1, 2, 2]


def test_depth_first_shows_orphans_and_cycles_as_roots() -> None:
    order, depth = depth_first(["a", "b", "c", "d"], [None, "zz", "d", "c"], [3, 1, 2, None])
    assert sorted(order) == [0, 1, 2, 3]
    assert order[:2] == [1, 0]  # roots by start time: b (orphan) then a
    assert depth[:2] == [0, 0]


def test_trace_of_a_table_without_traces_is_refused(table: StreamTable) -> None:
    table.log({"a": 1})
    with pytest.raises(ValueError, match="trace_id"):
        trace_frame(table, "x")


# -- tokens and cost -----------------------------------------------------------------------

PRICES = {"gpt-4o": {"input": 2.5, "output": 10.0}, "claude-3": (3.0, 15.0)}


@pytest.mark.filterwarnings("ignore:.*SimpleNamespace")  # the object output gets a stand-in
def test_openai_dict_and_anthropic_object_usage_become_token_and_cost_columns(
    table: StreamTable,
) -> None:
    @monitor(table=table, prices=PRICES)
    def openai_like() -> dict[str, Any]:
        usage = {"prompt_tokens": 1000, "completion_tokens": 200, "total_tokens": 1200}
        return {"model": "gpt-4o-2024-08-06", "usage": usage, "text": "hi"}

    @monitor(table=table, prices=PRICES)
    def anthropic_like() -> Any:
        usage = types.SimpleNamespace(input_tokens=10, output_tokens=5)
        return types.SimpleNamespace(model="claude-3", usage=usage)

    openai_like()
    anthropic_like()
    first, second = rows(table)
    assert (first["model"], first["input_tokens"], first["output_tokens"]) == (
        "gpt-4o-2024-08-06",
        1000,
        200,
    )
    assert first["total_tokens"] == 1200
    assert first["cost_usd"] == pytest.approx((1000 * 2.5 + 200 * 10.0) / 1e6)
    assert (second["model"], second["total_tokens"]) == ("claude-3", 15)
    assert second["cost_usd"] == pytest.approx((10 * 3 + 5 * 15) / 1e6)


def test_usage_added_with_add_data_and_process_wide_prices(table: StreamTable) -> None:
    wnb.init(prices={"m": {"input": 1.0, "output": 2.0}})

    @monitor(table=table)
    def call(prompt: str) -> str:
        wnb.current_record().add_data({"model": "m", "input_tokens": 3, "output_tokens": 4})
        return prompt

    call("x")
    (row,) = rows(table)
    assert (row["total_tokens"], row["cost_usd"]) == (7, pytest.approx(11 / 1e6))


def test_bad_usage_and_unknown_model_log_the_row_with_nulls_and_warn_once(
    table: StreamTable,
) -> None:
    @monitor(table=table, prices=PRICES)
    def odd(i: int) -> dict[str, Any]:
        return {"model": "mystery", "usage": {"prompt_tokens": "many", "other": 1}}

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        odd(1)
        odd(2)
    messages = [str(w.message) for w in caught if w.category is MonitorWarning]
    assert sum("prompt_tokens" in m for m in messages) == 1
    assert sum("mystery" in m for m in messages) == 1
    logged = rows(table)
    assert len(logged) == 2
    assert all(r["model"] == "mystery" and r["input_tokens"] is None for r in logged)
    assert all(r["cost_usd"] is None for r in logged)


def test_a_result_whose_usage_raises_still_logs_the_row(table: StreamTable) -> None:
    class Broken(dict):  # type: ignore[type-arg]
        def get(self, *args: Any) -> Any:
            raise RuntimeError("broken mapping")

    @monitor(table=table)
    def call() -> Any:
        return {"usage": Broken(prompt_tokens=1), "model": "m"}

    with pytest.warns(MonitorWarning, match="no whole-number"):
        call()
    (row,) = rows(table)
    assert row["model"] == "m"
    assert row["input_tokens"] is None


def test_plain_calls_get_no_token_columns(table: StreamTable) -> None:
    @monitor(table=table)
    def add(a: int, b: int) -> int:
        return a + b

    add(1, 2)
    assert "input_tokens" not in table.schema.names


# -- redaction and size limits ---------------------------------------------------------------


def test_monitor_redacts_arguments_at_any_depth_and_added_data(table: StreamTable) -> None:
    @monitor(table=table, redact=["api_key", "*password*"])
    def call(api_key: str, config: dict[str, Any]) -> dict[str, Any]:
        wnb.current_record().add_data({"db_password": "hunter2"})
        return {"echo": config}

    call("sk-secret", {"nested": [{"API_KEY": "sk-2", "keep": 1}]})
    (row,) = rows(table)
    text = repr(row)
    for secret in ("sk-secret", "sk-2", "hunter2"):
        assert secret not in text
    assert row["inputs"]["api_key"] == REDACTED
    assert row["inputs"]["config"]["nested"][0] == {"API_KEY": REDACTED, "keep": 1}
    assert row["output"]["echo"]["nested"][0]["API_KEY"] == REDACTED
    assert row["db_password"] == REDACTED


def test_data_added_after_the_call_is_redacted_too(table: StreamTable) -> None:
    @monitor(table=table, redact=["password"])
    def login(user: str) -> str:
        return user

    _, record = login.call("ann")
    record.add_data({"password": "hunter2", "note": "ok"})
    (row,) = rows(table)
    assert (row["password"], row["note"]) == (REDACTED, "ok")
    assert "hunter2" not in repr(table.annotations().to_pylist())


def test_process_wide_redaction_reaches_the_deferred_hot_path(table: StreamTable) -> None:
    wnb.init(redact=["token"])

    @monitor(table=table)
    def call(token: str, n: int) -> int:
        return n

    call("tok-123", 1)  # plain scalars: the row is built later, in the flusher
    (row,) = rows(table)
    assert row["inputs"] == {"token": REDACTED, "n": 1}


@pytest.mark.parametrize("scalar", [True, False], ids=["deferred", "built"])
def test_oversized_values_are_cut_with_a_marker_naming_their_size(
    table: StreamTable, scalar: bool
) -> None:
    wnb.init(max_value_bytes=100)

    @monitor(table=table)
    def echo(text: str, blob: bytes, extra: Any = None) -> str:
        return text

    big, blob = "é" * 300, b"\x01" * 500
    echo(big, blob) if scalar else echo(big, blob, {"k": 1})
    (row,) = rows(table)
    marker = truncated_marker(600)
    assert row["inputs"]["text"] == "é" * 50 + marker
    assert row["output"] == "é" * 50 + marker
    assert row["inputs"]["blob"] == b"\x01" * 100 + truncated_marker(500).encode()


def test_init_with_only_settings_keeps_the_root(tmp_path: Any) -> None:
    wnb.init(root=tmp_path)
    try:
        assert wnb.init(redact=["x"]) == str(tmp_path)
        with pytest.raises(ValueError, match="max_value_bytes"):
            wnb.init(max_value_bytes=0)
        with pytest.raises(TypeError, match="prices"):
            wnb.init(prices={"m": {"input": "cheap", "output": 1}})
    finally:
        wnb.init()


# -- issue 10: circular arguments --------------------------------------------------------------


@pytest.mark.parametrize("limit", [1_000_000, None], ids=["default", "no-limits"])
def test_circular_argument_is_stored_as_a_repr_stand_in(
    table: StreamTable, limit: int | None
) -> None:
    wnb.init(max_value_bytes=limit)  # no-limits: nothing walks the row before the store
    loop: dict[str, Any] = {"name": "loop"}
    loop["self"] = loop
    items: list[Any] = [1]
    items.append(items)

    @monitor(table=table)
    def call(data: dict[str, Any], more: list[Any]) -> int:
        return 1

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert call(loop, items) == 1
    (row,) = rows(table)
    # [1, {...}] mixes types, so the store keeps the column as JSON text (its documented rule)
    inputs = json.loads(row["inputs"]) if isinstance(row["inputs"], str) else row["inputs"]
    assert inputs["data"]["name"] == "loop"
    assert set(inputs["data"]["self"]) == {"__repr__", "__type__", "__truncated__"}
    assert inputs["more"][1]["__type__"] == "builtins.list"
    if limit is None:  # the store refused the cycle: the fallback stand-in, with a warning
        assert inputs["data"]["self"]["__repr__"] == repr(loop)
        assert any("__repr__" in str(w.message) for w in caught)
    else:  # the redaction walk stops at the cycle: Python's own notation
        assert inputs["data"]["self"]["__repr__"] == "{...}"


# -- issue 10: generators abandoned at exit -------------------------------------------------

_ABANDONED = """
import asyncio, sys
import weave_nb as wnb

@wnb.monitor("g", root=sys.argv[1])
def g():
    yield 1
    yield 2

@wnb.monitor("ag", root=sys.argv[1])
async def ag():
    yield 1
    yield 2

it = g()
next(it)                      # started, never finished: the table did not exist before
loop = asyncio.new_event_loop()
agen = ag()
loop.run_until_complete(agen.__anext__())
closed = g()
next(closed)
closed.close()                # stopped early by the consumer
"""


def test_exit_never_hangs_on_abandoned_generators_and_logs_them_alike(tmp_path: Any) -> None:
    import subprocess
    import sys

    script = tmp_path / "abandon.py"
    script.write_text(_ABANDONED)
    done = subprocess.run(
        [sys.executable, str(script), str(tmp_path)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    sync_rows = wnb.open_table("g", root=tmp_path).to_arrow().to_pylist()
    async_rows = wnb.open_table("ag", root=tmp_path).to_arrow().to_pylist()
    assert len(sync_rows) == 2
    assert len(async_rows) == 1
    for row in [*sync_rows, *async_rows]:
        assert (row["status"], row["output"], row["stopped_early"]) == ("success", [1], True)


def test_table_trace_and_session_methods(table: StreamTable) -> None:
    @monitor(table=table)
    def step(i: int) -> int:
        return i

    @monitor(table=table)
    def run(n: int) -> int:
        return sum(step(i) for i in range(n))

    with wnb.session("s-1"):
        _, record = run.call(3)
    trace = table.trace(str(record.trace_id))
    assert trace["depth"].tolist() == [0, 1, 1, 1]
    calls = table.session("s-1")["_id"].tolist()
    assert (len(calls), calls[0]) == (4, record.id)  # in start order: the root first
