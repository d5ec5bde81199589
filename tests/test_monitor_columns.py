"""Rows of plain-valued calls are built later, column-wise: they must equal the eager rows."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

import weave_nb as wnb
from weave_nb.monitor._bind import make_column_binder


def test_batched_rows_bind_every_kind_of_call(tmp_path: Path) -> None:
    @wnb.monitor("calls", root=tmp_path, attributes={"v": "3"})
    def scale(a: float, b: float = 2.0) -> float:
        if a < 0:
            raise ValueError("negative")
        return a * b

    scale(1.0, 3.0)
    scale(2.0)  # default applied
    scale(3.0, b=4.0)  # keyword: bound row by row
    with pytest.raises(ValueError, match="negative"):
        scale(-1.0)
    with pytest.raises(TypeError):
        scale(1.0, 2.0, 3.0)  # type: ignore[call-arg]  # does not fit: kept as args
    table = scale.table
    table.flush()
    rows = table.to_arrow().to_pylist()
    # The call that did not fit adds an "args" field (null in the other rows).
    assert rows[4]["inputs"]["args"] == [1.0, 2.0, 3.0]
    inputs = [{k: v for k, v in r["inputs"].items() if v is not None} for r in rows[:4]]
    assert inputs == [
        {"a": 1.0, "b": 3.0},
        {"a": 2.0, "b": 2.0},
        {"a": 3.0, "b": 4.0},
        {"a": -1.0, "b": 2.0},
    ]
    assert [r["output"] for r in rows] == [3.0, 4.0, 12.0, None, None]
    assert [r["status"] for r in rows] == ["success"] * 3 + ["error"] * 2
    assert rows[3]["exception"]["type"] == "ValueError"
    assert rows[3]["exception"]["message"] == "negative"
    assert "scale" in rows[3]["exception"]["traceback"]
    assert rows[4]["exception"]["type"] == "TypeError"
    assert all(r["v"] == "3" and r["name"].endswith("scale") for r in rows)
    for row in rows:
        assert row["end_time"] >= row["start_time"]
        assert row["latency_ms"] >= 0


def test_batched_rows_equal_the_rows_built_at_call_time(tmp_path: Path) -> None:
    def add(a: int, b: float) -> float:
        return a + b

    def add_noting(a: int, b: float) -> float:
        wnb.current_record().add_data({"noted": True})  # added during the call: row built now
        return a + b

    later = wnb.monitor("later", root=tmp_path, attributes={"v": "x"})(add)
    now = wnb.monitor("now", root=tmp_path, attributes={"v": "x"})(add_noting)
    for i in range(5):
        later(i, 0.5)
        now(i, 0.5)
    batched, eager = (_arrow(f.table) for f in (later, now))
    assert batched.column_names == [c for c in eager.column_names if c != "noted"]
    for name in batched.column_names:
        assert batched.schema.field(name).type == eager.schema.field(name).type, name
    same = ["inputs", "output", "status", "exception", "parent_id", "v"]
    assert batched.select(same).to_pylist() == eager.select(same).to_pylist()


def _arrow(table: wnb.StreamTable) -> pa.Table:
    table.flush()
    return table.to_arrow()


def test_column_binder_applies_defaults_and_refuses_what_does_not_fit() -> None:
    def f(a: int, b: int = 5, c: str = "x") -> None: ...

    bind = make_column_binder(f, skip_first=False)
    assert bind is not None
    assert bind([(1,), (2, 3), (4, 5, "y")]) == {
        "a": [1, 2, 4],
        "b": [5, 3, 5],
        "c": ["x", "x", "y"],
    }
    assert bind([(1, 2, "z", 9)]) is None
    assert bind([()]) is None

    def g(*args: int) -> None: ...

    assert make_column_binder(g, skip_first=False) is None

    def h(a: int, b: list[int] | None = None, c: tuple[int] = (1,)) -> None: ...

    assert make_column_binder(h, skip_first=False) is None  # a default that is not a scalar


def test_a_function_without_parameters_stores_empty_inputs_as_text(tmp_path: Path) -> None:
    @wnb.monitor("noargs", root=tmp_path)
    def ping() -> str:
        return "pong"

    ping()
    ping()
    ping.table.flush()
    arrow = ping.table.to_arrow()
    assert arrow.schema.field("inputs").type == pa.string()
    assert arrow.column("inputs").to_pylist() == ["{}", "{}"]
    assert arrow.column("output").to_pylist() == ["pong", "pong"]
