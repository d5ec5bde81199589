"""The C speedups (weave_nb._speedups) against their pure-Python references.

Each fast path exists twice: in C, and in Python for where the extension is not
built. Every test here runs on both and checks they decide and store alike.
"""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import weave_nb as wnb
from weave_nb._accel import SPEEDUPS
from weave_nb.monitor import _switch
from weave_nb.monitor._call_front import PyCallFront
from weave_nb.monitor._record import CURRENT, KEY, PARENT, RECORD, SINK, TRACE
from weave_nb.store._batch import _py_runs, numbered_ids
from weave_nb.store._convert import (
    _plain_to_arrow,
    _py_columns_of,
    column_to_arrow,
    int64s,
    rows_to_arrays,
    rows_to_columns,
    values_to_columns,
)
from weave_nb.store._log_front import PyLogFront
from weave_nb.store._writing import PyIntake
from weave_nb.tracing import STATE

REQUIRED = os.environ.get("WEAVE_NB_REQUIRE_SPEEDUPS") == "1"


def test_the_extension_is_loaded_where_it_is_required() -> None:
    # CI builds it and sets WEAVE_NB_REQUIRE_SPEEDUPS=1: a silent fallback there
    # would leave the C paths untested.
    if REQUIRED:
        assert SPEEDUPS is not None
    elif SPEEDUPS is None:
        pytest.skip("weave_nb._speedups is not built here")


LOG_FRONTS: list[Any] = [PyLogFront] + ([SPEEDUPS.LogFront] if SPEEDUPS else [])
CALL_FRONTS: list[Any] = [PyCallFront] + ([SPEEDUPS.CallFront] if SPEEDUPS else [])
INTAKES: list[Any] = [PyIntake] + ([SPEEDUPS.Intake] if SPEEDUPS else [])
COLUMNS_OF: list[Any] = [_py_columns_of] + ([SPEEDUPS.columns_of] if SPEEDUPS else [])


def front_ids(values: list[Any]) -> list[str]:
    return ["c" if v.__module__ == "weave_nb._speedups" else "python" for v in values]


# -- log() ------------------------------------------------------------------------


def log_harness(front: type) -> Any:
    class Harness(front):  # type: ignore[misc, valid-type]
        def __init__(self) -> None:
            self._pending: list[Any] = []
            self._fast_keys = frozenset({"a", "b", "c"})
            self._backlog_limit = 3
            self.checked: list[Any] = []
            self.waits = 0

        def _log_checked(self, row: Any) -> None:
            self.checked.append(row)

        def _wait_for_room(self) -> None:
            self.waits += 1

        def _row_shape(self, keys: tuple[str, ...]) -> int:
            return -1  # rows stay dicts: what both fronts do alike

    return Harness()


class Opaque:
    """A value that is not plain."""


VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.text(max_size=5),
    st.binary(max_size=5),
    st.builds(Opaque),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=2), st.integers(), max_size=2),
)
ROWS = st.dictionaries(st.sampled_from(["a", "b", "c", "d", "_timestamp"]), VALUES, max_size=4)


def log_outcome(front: type, rows: list[Any]) -> tuple[list[Any], int]:
    """What ``log`` did with each row (appended a stamped copy, or checked it), and waits."""
    harness = log_harness(front)
    decisions: list[Any] = []
    for row in rows:
        pending, checked = len(harness._pending), len(harness.checked)
        harness.log(row)
        if len(harness.checked) > checked:
            assert harness.checked[-1] is row
            assert len(harness._pending) == pending
            decisions.append(("checked", row))
        else:
            kept = harness._pending[-1]
            assert kept is not row  # a copy: the caller may change its dict afterwards
            stamp = kept.pop("")
            assert abs(stamp - time.time_ns()) < 60e9  # stamped with the log time (ns)
            decisions.append(("appended", kept))
    return decisions, harness.waits


@pytest.mark.parametrize("front", LOG_FRONTS, ids=front_ids(LOG_FRONTS))
def test_log_takes_plain_rows_of_known_keys_and_checks_the_others(front: type) -> None:
    plain, unknown, opaque = {"a": 1, "b": "x"}, {"a": 1, "d": 2}, {"a": Opaque()}
    not_dict = [{"a": 1}]
    decisions, waits = log_outcome(front, [plain, unknown, opaque, not_dict])
    assert decisions == [
        ("appended", plain),
        ("checked", unknown),
        ("checked", opaque),
        ("checked", not_dict),
    ]
    assert waits == 0


@pytest.mark.parametrize("front", LOG_FRONTS, ids=front_ids(LOG_FRONTS))
def test_log_waits_for_room_once_the_backlog_passes_its_limit(front: type) -> None:
    _, waits = log_outcome(front, [{"a": i} for i in range(5)])
    assert waits == 2  # the 4th and 5th rows find 4 and 5 pending items, over the limit 3


@pytest.mark.skipif(SPEEDUPS is None, reason="weave_nb._speedups is not built here")
@settings(max_examples=300, deadline=None)
@given(st.lists(ROWS, max_size=6))
def test_log_fronts_agree(rows: list[dict[str, Any]]) -> None:
    assert SPEEDUPS is not None
    assert log_outcome(PyLogFront, rows) == log_outcome(SPEEDUPS.LogFront, rows)


@pytest.mark.skipif(SPEEDUPS is None, reason="weave_nb._speedups is not built here")
def test_rows_of_one_shape_wait_as_tuples_and_are_stored_as_logged(tmp_path: Path) -> None:
    table = wnb.StreamTable("shapes", root=tmp_path, flush_interval=60)
    logged: list[dict[str, Any]] = []
    for i in range(300):
        if i % 100 == 50:  # another key order, and then a new column
            row: dict[str, Any] = {"text": f"t{i}", "i": i}
        elif i > 200:
            row = {"i": i, "text": None if i % 7 else f"t{i}", "extra": i * 0.5}
        else:
            row = {"i": i, "text": f"t{i}"}
        table.log(row)
        logged.append(row)
        row["i"] = -1  # changing the dict after log() changes nothing stored
    kinds = [type(item).__name__ for item in table._pending]
    assert kinds.count("tuple") > 250  # rows of a seen shape wait as tuples of values
    table.flush()
    stored = wnb.open_table("shapes", root=tmp_path).to_arrow().to_pylist()
    assert [r["i"] for r in stored] == list(range(300))
    assert [r["text"] for r in stored] == [r["text"] for r in logged]
    assert [r.get("extra") for r in stored] == [r.get("extra") for r in logged]
    table.close()


def test_the_c_log_has_the_python_log_docstring() -> None:
    if SPEEDUPS is None:
        pytest.skip("weave_nb._speedups is not built here")
    assert PyLogFront.log.__doc__ is not None
    assert SPEEDUPS.LogFront.log.__doc__ is not None
    assert SPEEDUPS.LogFront.log.__doc__.split() == PyLogFront.log.__doc__.split()


# -- columns_of -------------------------------------------------------------------


@pytest.mark.parametrize("columns_of", COLUMNS_OF, ids=front_ids(COLUMNS_OF))
def test_columns_of_reads_rows_in_any_key_order(columns_of: Callable[..., Any]) -> None:
    rows = [{"a": 1, "b": 2}, {"b": 4, "a": 3}, {"a": 5, "b": None}]
    assert columns_of(rows, ["a", "b"]) == [[1, 3, 5], [2, 4, None]]
    with pytest.raises(KeyError):
        columns_of([{"a": 1, "c": 2}], ["a", "b"])


@pytest.mark.skipif(SPEEDUPS is None, reason="weave_nb._speedups is not built here")
@settings(max_examples=200, deadline=None)
@given(st.lists(st.dictionaries(st.sampled_from("abc"), st.integers(), max_size=3), min_size=1))
def test_columns_of_agree(rows: list[dict[str, int]]) -> None:
    assert SPEEDUPS is not None
    names = list(rows[0])

    def outcome(columns_of: Callable[..., Any]) -> Any:
        try:
            return columns_of(rows, names)
        except KeyError:  # which missing name is reported first may differ
            return "KeyError"

    assert outcome(_py_columns_of) == outcome(SPEEDUPS.columns_of)


# -- plain_array ---------------------------------------------------------------------


PLAIN_LISTS = st.one_of(
    *(
        st.lists(st.one_of(st.none(), values), max_size=40)
        for values in (
            st.integers(min_value=-(2**63), max_value=2**63 - 1),
            st.floats(),
            st.booleans(),
            st.text(),
            st.binary(),
        )
    ),
    st.lists(st.one_of(st.none(), st.integers(), st.floats(), st.text(), st.booleans())),
)


@pytest.mark.skipif(SPEEDUPS is None, reason="weave_nb._speedups is not built here")
@settings(max_examples=400, deadline=None)
@given(PLAIN_LISTS)
def test_plain_arrays_are_what_arrow_infers(values: list[Any]) -> None:
    built = _plain_to_arrow(values)
    try:
        inferred = pa.array(values)
    except (ValueError, TypeError, OverflowError):  # Arrow's errors, UnicodeEncodeError too
        assert built is None  # what Arrow refuses goes to the conversion rule
        return
    if built is None:  # left to Arrow: mixed types, or nothing but None
        kinds = {type(v) for v in values} - {type(None)}
        assert len(kinds) != 1
        return
    built.validate(full=True)
    assert built.type == inferred.type
    assert built.null_count == inferred.null_count
    assert built.to_pylist() == inferred.to_pylist() or all(  # NaN != NaN
        a == b or (a != a and b != b)
        for a, b in zip(built.to_pylist(), inferred.to_pylist(), strict=True)
    )


def test_plain_arrays_leave_what_needs_arrow_to_arrow() -> None:
    for values in ([2**64], [1, 2.5], [True, 1], ["\ud800"], [None, None], [Opaque()]):
        assert _plain_to_arrow(values) is None


# -- rows_to_arrays -----------------------------------------------------------------

ROW_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**64), max_value=2**64),
    st.floats(),
    st.text(max_size=4),
    st.binary(max_size=4),
    st.lists(st.integers(), max_size=2),
)
SAME_SHAPE_ROWS = st.integers(min_value=1, max_value=3).flatmap(
    lambda width: st.lists(
        st.tuples(*[ROW_VALUES] * width).map(
            lambda values: {f"c{j}": v for j, v in enumerate(values)}
        ),
        min_size=1,
        max_size=30,
    )
)


def arrow_columns(columns: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for name, column in columns.items():
        array = column if isinstance(column, pa.Array) else column_to_arrow(column)
        out[name] = (array.type, array.to_pylist())
    return out


@settings(max_examples=300, deadline=None)
@given(SAME_SHAPE_ROWS)
def test_rows_to_arrays_makes_the_columns_rows_to_columns_does(rows: list[dict[str, Any]]) -> None:
    built = rows_to_arrays(rows)
    expected = rows_to_columns(rows)
    assert list(built) == list(expected)
    from_tuples = values_to_columns(list(rows[0]), [tuple(row.values()) for row in rows])
    want = arrow_columns(expected)
    for got in (arrow_columns(built), arrow_columns(from_tuples)):
        for name in want:
            assert got[name][0] == want[name][0], name
            assert repr(got[name][1]) == repr(want[name][1]), name  # NaN compares by repr


def test_rows_of_other_key_orders_take_the_python_path() -> None:
    rows = [{"a": 1, "b": "x"}, {"b": "y", "a": 2}]
    assert arrow_columns(rows_to_arrays(rows)) == {
        "a": (pa.int64(), [1, 2]),
        "b": (pa.string(), ["x", "y"]),
    }
    if SPEEDUPS is not None:
        assert SPEEDUPS.rows_to_buffers(rows, ["a", "b"]) is None


# -- the flusher's bookkeeping -----------------------------------------------------------


ITEMS = st.lists(
    st.one_of(
        st.just({"a": 1}),
        st.tuples(st.integers(), st.integers(min_value=0, max_value=2), st.none()),
    ),
    max_size=12,
)


@pytest.mark.skipif(SPEEDUPS is None, reason="weave_nb._speedups is not built here")
@settings(max_examples=200, deadline=None)
@given(ITEMS)
def test_item_runs_agree(items: list[Any]) -> None:
    assert SPEEDUPS is not None
    assert SPEEDUPS.item_runs(items) == _py_runs(items)


@pytest.mark.parametrize(
    ("prefix", "start", "n"),
    [("abc-", 0, 12), ("", 95, 10), ("é-", 2**63 - 3, 3), ("x", 7, 0)],
)
def test_numbered_ids_are_the_prefix_and_the_number(prefix: str, start: int, n: int) -> None:
    ids = numbered_ids(prefix, start, n)
    ids.validate(full=True)
    assert ids.type == pa.string()
    assert ids.to_pylist() == [f"{prefix}{start + i}" for i in range(n)]


def test_int64s_of_stamps() -> None:
    stamps = [time.time_ns() + i for i in range(5)]
    assert int64s(stamps).tolist() == stamps
    assert int64s(stamps).dtype == "int64"


# -- monitored calls ---------------------------------------------------------------


class Sink:
    """Stands for a CallSink in frames."""


@pytest.fixture(autouse=True)
def _no_hooks(monkeypatch: pytest.MonkeyPatch) -> None:
    # A session entered by an earlier test leaves STATE.hooked set for the process.
    monkeypatch.setattr(STATE, "hooked", False)
    monkeypatch.setattr(_switch.SWITCH, "enabled", True)


def call_harness(front: type, intake_type: type, fn: Callable[..., Any], limit: int = 100) -> Any:
    class Harness(front):  # type: ignore[misc, valid-type]
        def __init__(self) -> None:
            self.slow: list[Any] = []
            self.ended: list[Any] = []
            self.sink = Sink()
            self.intake = intake_type([], 7, limit)

        def arm(self) -> Any:
            self._arm(fn, self.sink, self.intake)
            return self

        def _call(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
            self.slow.append((args, kwargs))
            return fn(*args, **kwargs)

        def _ended(
            self,
            frame: Any,
            args: Any,
            kwargs: Any,
            output: Any,
            error: Any,
            start_ns: int,
            elapsed_ns: int,
        ) -> None:
            self.ended.append((list(frame), args, kwargs, output, error))

    return Harness()


FRONT_PAIRS = [(f, i) for f, i in zip(CALL_FRONTS, INTAKES, strict=True)]
PAIR_IDS = front_ids(CALL_FRONTS)


@pytest.mark.parametrize(("front", "intake"), FRONT_PAIRS, ids=PAIR_IDS)
def test_a_call_before_arming_takes_the_slow_path(front: type, intake: type) -> None:
    harness = call_harness(front, intake, lambda a, b=0: a + b)
    assert harness(1, b=2) == 3
    assert harness.slow == [((1,), {"b": 2})]
    assert harness._intake is None


@pytest.mark.parametrize(("front", "intake"), FRONT_PAIRS, ids=PAIR_IDS)
def test_a_plain_call_appends_its_payload(front: type, intake: type) -> None:
    seen: list[Any] = []

    def fn(a: int, b: float = 0.0) -> float:
        seen.append(list(CURRENT.get() or []))
        return a + b

    harness = call_harness(front, intake, fn).arm()
    before = time.time_ns()
    assert harness(2, b=0.5) == 2.5
    after = time.time_ns()
    assert harness._intake is harness.intake
    assert CURRENT.get() is None  # reset after the call
    [(end_ns, kind, payload)] = harness.intake.pending
    key, trace, parent, args, kwargs, output, error, start_ns, elapsed_ns = payload
    assert kind == 7
    assert (args, kwargs, output, error) == ((2,), {"b": 0.5}, 2.5, None)
    assert key == trace
    assert parent is None
    assert before <= start_ns <= end_ns <= after
    assert end_ns == start_ns + elapsed_ns
    assert elapsed_ns >= 0
    [frame] = seen  # what the function saw: its own frame, no record yet
    assert frame[KEY] == key
    assert frame[TRACE] == key
    assert frame[PARENT] is None
    assert frame[SINK] is harness.sink
    assert frame[RECORD] is None
    assert harness.slow == []
    assert harness.ended == []


@pytest.mark.parametrize(("front", "intake"), FRONT_PAIRS, ids=PAIR_IDS)
def test_a_nested_call_is_a_child_of_the_outer_one(front: type, intake: type) -> None:
    inner = call_harness(front, intake, lambda x: x * 2).arm()
    outer = call_harness(front, intake, lambda x: inner(x) + 1).arm()
    assert outer(3) == 7
    [(_, _, child)] = inner.intake.pending
    [(_, _, root)] = outer.intake.pending
    assert child[TRACE] == root[KEY]
    assert child[PARENT] == root[KEY]
    assert root[TRACE] == root[KEY]
    assert root[PARENT] is None


@pytest.mark.parametrize(("front", "intake"), FRONT_PAIRS, ids=PAIR_IDS)
def test_keyword_arguments_are_copied(front: type, intake: type) -> None:
    harness = call_harness(front, intake, lambda **kw: len(kw)).arm()
    given = {"a": 1}
    harness(**given)
    given["a"] = 2
    assert harness.intake.pending[0][2][4] == {"a": 1}


@pytest.mark.parametrize(("front", "intake"), FRONT_PAIRS, ids=PAIR_IDS)
def test_calls_the_fast_path_cannot_take_end_in_python(front: type, intake: type) -> None:
    harness = call_harness(front, intake, lambda a: a).arm()
    opaque = Opaque()
    assert harness(opaque) is opaque  # a value that is not plain
    [(frame, args, kwargs, output, error)] = harness.ended
    assert args == (opaque,)
    assert kwargs == {}
    assert output is opaque
    assert error is None
    assert frame[RECORD] is None
    assert frame[SINK] is harness.sink
    assert harness.intake.pending == []


@pytest.mark.parametrize(("front", "intake"), FRONT_PAIRS, ids=PAIR_IDS)
def test_an_error_ends_in_python_and_is_raised_with_its_traceback(
    front: type, intake: type
) -> None:
    def fails(a: int) -> int:
        raise ValueError(f"bad {a}")

    harness = call_harness(front, intake, fails).arm()
    with pytest.raises(ValueError, match="bad 1") as raised:
        harness(1)
    assert raised.traceback[-1].name == "fails"
    [(_, args, _, output, error)] = harness.ended
    assert args == (1,)
    assert output is None
    assert error is raised.value
    assert CURRENT.get() is None


@pytest.mark.parametrize(("front", "intake"), FRONT_PAIRS, ids=PAIR_IDS)
def test_a_full_backlog_sends_the_call_to_python(front: type, intake: type) -> None:
    harness = call_harness(front, intake, lambda a: a, limit=1).arm()
    for i in range(3):
        harness(i)
    assert len(harness.intake.pending) == 2  # appended while len(pending) <= limit
    assert [args for _, args, *_ in harness.ended] == [(2,)]


@pytest.mark.parametrize(("front", "intake"), FRONT_PAIRS, ids=PAIR_IDS)
def test_the_switch_and_hooks_send_calls_to_the_slow_path(
    front: type, intake: type, monkeypatch: pytest.MonkeyPatch
) -> None:
    harness = call_harness(front, intake, lambda a: a).arm()
    monkeypatch.setattr(_switch.SWITCH, "enabled", False)
    harness(1)
    monkeypatch.setattr(_switch.SWITCH, "enabled", True)
    monkeypatch.setattr(STATE, "hooked", True)
    harness(2)
    assert harness.slow == [((1,), {}), ((2,), {})]
    assert harness.intake.pending == []


@pytest.mark.parametrize(("front", "intake"), FRONT_PAIRS, ids=PAIR_IDS)
def test_arming_again_during_a_call_is_safe(front: type, intake: type) -> None:
    first_pending: list[Any] = []
    harness = call_harness(front, intake, lambda a: a)

    def rearms(a: int) -> int:  # drops the only references to the call's intake and function
        harness._arm(lambda a: a, harness.sink, intake([], 8, 100))
        return a

    harness._arm(rearms, harness.sink, intake(first_pending, 7, 100))
    del rearms
    assert harness(5) == 5
    assert [payload[5] for _, _, payload in first_pending] == [5]  # the call's own intake
    assert harness(6) == 6
    assert [payload[5] for _, _, payload in harness._intake.pending] == [6]


@pytest.mark.parametrize(("front", "intake"), FRONT_PAIRS, ids=PAIR_IDS)
def test_calls_keep_no_references_behind(front: type, intake: type) -> None:
    value, result = 10**40 + 1, 10**40 + 2  # fresh objects: counts are ours alone
    fast = call_harness(front, intake, lambda a: result, limit=10_000).arm()
    slow = call_harness(front, intake, lambda a, opaque: result).arm()
    failing = call_harness(front, intake, lambda a: 1 // 0).arm()
    before = sys.getrefcount(value), sys.getrefcount(result)
    for _ in range(1000):
        fast(value)
        slow(value, Opaque())
        with pytest.raises(ZeroDivisionError):
            failing(value)
    assert len(fast.intake.pending) == 1000
    assert fast.ended == []
    fast.intake.pending.clear()
    failing.ended.clear()
    slow.ended.clear()
    gc.collect()  # the errors' tracebacks hold the frames that held the values
    assert (sys.getrefcount(value), sys.getrefcount(result)) == before


# -- without the extension ----------------------------------------------------------


def test_the_package_works_without_the_extension(tmp_path: Path) -> None:
    script = textwrap.dedent(
        """
        import sys
        import weave_nb as wnb
        from weave_nb._accel import SPEEDUPS
        assert SPEEDUPS is None
        table = wnb.StreamTable("t", root=sys.argv[1])
        for i in range(100):
            table.log({"i": i, "s": str(i)})

        @wnb.monitor(root=sys.argv[1])
        def add(a, b=1):
            return a + b

        for i in range(100):
            add(i, b=2)
        table.flush()
        add.flush()
        rows = add.table.to_arrow().to_pylist()
        assert len(table) == 100 and len(rows) == 100, (len(table), len(rows))
        assert sorted(r["output"] for r in rows) == [i + 2 for i in range(100)]
        print("ok")
        """
    )
    env = {**os.environ, "WEAVE_NB_PURE_PYTHON": "1"}
    done = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"
