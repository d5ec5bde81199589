"""@monitor on plain functions and methods: rows, errors, records, hooks, switches, odd values."""

from __future__ import annotations

import datetime as dt
import enum
import os
import pickle
import subprocess
import sys
import textwrap
import traceback
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from _support import rows
from PIL import Image as PILImage

from weave_nb.monitor import (
    MonitoredFunction,
    MonitorWarning,
    Record,
    current_record,
    monitor,
    monitoring,
)
from weave_nb.store import StreamTable, is_image_type, open_table

# -- rows of successful and failed calls -----------------------------------------------


def test_success_row_holds_inputs_output_timing_and_trace(table: StreamTable) -> None:
    @monitor(table=table)
    def scale(x: int, factor: float = 2.0) -> float:
        return x * factor

    before = dt.datetime.now(dt.timezone.utc)
    assert scale(3) == 6.0
    after = dt.datetime.now(dt.timezone.utc)

    (row,) = rows(table)
    assert row["name"] == scale.name == scale.__qualname__
    assert row["inputs"] == {"x": 3, "factor": 2.0}  # default applied
    assert row["output"] == 6.0
    assert row["status"] == "success"
    assert row["exception"] is None
    assert before - dt.timedelta(milliseconds=1) <= row["start_time"] <= row["end_time"] <= after
    assert row["start_time"].tzinfo is not None
    assert row["_timestamp"] >= row["start_time"]
    span_ms = (row["end_time"] - row["start_time"]) / dt.timedelta(milliseconds=1)
    assert row["latency_ms"] >= 0
    assert abs(span_ms - row["latency_ms"]) < 0.01
    assert row["trace_id"] == row["_id"]
    assert row["parent_id"] is None


def test_result_object_is_returned_unchanged(table: StreamTable) -> None:
    payload = {"answer": [1, 2, 3]}

    @monitor(table=table)
    def identity(value: Any) -> Any:
        return value

    assert identity(payload) is payload
    assert rows(table)[0]["output"] == payload


def test_error_is_logged_and_the_same_exception_reraised(table: StreamTable) -> None:
    original = ValueError("model exploded")

    @monitor(table=table)
    def explode(prompt: str) -> str:
        raise original

    with pytest.raises(ValueError, match="model exploded") as caught:
        explode("hi")
    assert caught.value is original
    frames = [frame.name for frame in traceback.extract_tb(caught.value.__traceback__)]
    assert frames[-1] == "explode"  # the raising frame is still where it was

    (row,) = rows(table)
    assert row["status"] == "error"
    assert row["output"] is None
    assert row["inputs"] == {"prompt": "hi"}
    assert row["exception"]["type"] == "ValueError"
    assert row["exception"]["message"] == "model exploded"
    text = row["exception"]["traceback"]
    assert "in explode" in text
    assert "raise original" in text
    assert "weave_nb/monitor/" not in text  # the monitor's own frames are left out


def test_exception_type_of_non_builtin_is_qualified(table: StreamTable) -> None:
    class ModelError(Exception):
        pass

    @monitor(table=table)
    def fail() -> None:
        raise ModelError("no")

    with pytest.raises(ModelError):
        fail()
    assert rows(table)[0]["exception"]["type"].endswith("ModelError")
    assert "." in rows(table)[0]["exception"]["type"]


def test_default_table_name_is_the_sanitised_qualified_name(tmp_path: Path) -> None:
    @monitor(root=str(tmp_path))
    def predict(x: int) -> int:
        return x

    @monitor
    def bare(x: int) -> int:
        return x

    assert (
        predict.table.name
        == "test_default_table_name_is_the_sanitised_qualified_name._locals_.predict"
    )
    assert predict.table.path == tmp_path / predict.table.name
    predict(1)
    predict.flush()
    assert len(open_table(predict.table.name, root=tmp_path)) == 1
    assert isinstance(bare, MonitoredFunction)
    assert bare.auto_log
    assert bare.__name__ == "bare"
    assert bare.__wrapped__(5) == 5


def test_named_table(tmp_path: Path) -> None:
    @monitor("digits", root=str(tmp_path))
    def predict(x: int) -> int:
        return x

    predict(1)
    assert predict.table.name == "digits"
    assert predict.table.path == tmp_path / "digits"


def test_arguments_bind_to_parameter_names(table: StreamTable) -> None:
    @monitor(table=table)
    def generate(prompt: str, *stops: str, temperature: float = 0.7, **options: Any) -> str:
        return prompt

    generate("a", "x", "y", top_k=5)
    generate(prompt="b", temperature=0.1)
    first, second = rows(table)
    assert first["inputs"]["prompt"] == "a"
    assert first["inputs"]["stops"] == ["x", "y"]
    assert first["inputs"]["temperature"] == 0.7
    assert first["inputs"]["top_k"] == 5
    assert second["inputs"]["prompt"] == "b"
    assert second["inputs"]["temperature"] == 0.1
    assert second["inputs"]["stops"] == []


def test_call_with_bad_arguments_is_an_error_row_with_raw_arguments(table: StreamTable) -> None:
    @monitor(table=table)
    def one(x: int) -> int:
        return x

    with pytest.raises(TypeError):
        one(1, 2)  # type: ignore[call-arg]
    (row,) = rows(table)
    assert row["status"] == "error"
    assert row["exception"]["type"] == "TypeError"
    assert row["inputs"] == {"args": [1, 2]}


# -- records: ids, add_data, finish ------------------------------------------------------


def test_call_returns_the_record_and_add_data_afterwards_is_merged(table: StreamTable) -> None:
    @monitor(table=table)
    def predict(x: int) -> int:
        return x + 1

    result, record = predict.call(41)
    assert result == 42
    assert isinstance(record, Record)
    assert record.logged
    assert record.recording
    assert not record.running
    record.add_data({"user_feedback": "correct", "score": 5})

    table.flush()
    frame = table.to_pandas()
    assert list(frame["_id"]) == [record.id]
    assert frame["user_feedback"].iloc[0] == "correct"
    assert frame["score"].iloc[0] == 5
    assert table.annotations().num_rows == 1  # appended, not rewritten
    record.add_data({"user_feedback": "wrong"})
    assert rows(table)[0]["user_feedback"] == "wrong"  # latest wins


def test_current_record_inside_the_call_merges_into_the_row(table: StreamTable) -> None:
    seen: list[Record] = []

    @monitor(table=table)
    def predict(x: int) -> int:
        record = current_record()
        seen.append(record)
        record.add_data({"tokens": 17})
        record.add_data({"cost": 0.5})
        return x

    _, record = predict.call(1)
    assert seen == [record]
    assert seen[0].id == record.id
    (row,) = rows(table)
    assert row["tokens"] == 17
    assert row["cost"] == 0.5
    assert table.annotations().num_rows == 0  # part of the row itself


def test_current_record_outside_a_call_is_non_recording(table: StreamTable) -> None:
    record = current_record()
    assert not record.recording
    assert record.id is None
    record.add_data({"ignored": 1})
    record.finish()
    assert len(table) == 0


def test_record_ids_are_unique_strings(table: StreamTable) -> None:
    @monitor(table=table)
    def f() -> None:
        return None

    ids = {f.call()[1].id for _ in range(100)}
    assert len(ids) == 100
    assert all(isinstance(i, str) for i in ids)
    assert ids == {row["_id"] for row in rows(table)}


def test_auto_log_false_writes_the_row_on_finish(table: StreamTable) -> None:
    @monitor(table=table, auto_log=False)
    def predict(x: int) -> int:
        current_record().add_data({"during": True})
        return x * 2

    result, record = predict.call(4)
    assert result == 8
    assert not record.logged
    assert not record.running
    assert rows(table) == []
    record.add_data({"feedback": "late but before finish"})
    record.finish()
    record.finish()  # idempotent
    (row,) = rows(table)
    assert row["output"] == 8
    assert row["during"] is True
    assert row["feedback"] == "late but before finish"
    assert table.annotations().num_rows == 0
    record.add_data({"feedback": "after finish"})
    assert rows(table)[0]["feedback"] == "after finish"


def test_finish_during_the_call_writes_when_the_call_ends(table: StreamTable) -> None:
    @monitor(table=table, auto_log=False)
    def predict(x: int) -> int:
        current_record().finish()
        assert len(table) == 0
        return x

    _, record = predict.call(1)
    assert record.logged
    assert len(rows(table)) == 1


def test_add_data_rejects_bad_keys(table: StreamTable) -> None:
    @monitor(table=table)
    def f() -> None:
        return None

    _, record = f.call()
    with pytest.raises(ValueError, match="_id"):
        record.add_data({"_id": "x"})
    with pytest.raises(TypeError, match="mapping"):
        record.add_data([("a", 1)])  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="str"):
        record.add_data({1: "a"})  # type: ignore[dict-item]


def test_static_attributes_become_columns(table: StreamTable) -> None:
    @monitor(table=table, attributes={"model_version": "v3", "region": "eu"})
    def f(x: int) -> int:
        return x

    f(1)
    (row,) = rows(table)
    assert row["model_version"] == "v3"
    assert row["region"] == "eu"


def test_decorator_arguments_are_checked(table: StreamTable) -> None:
    with pytest.raises(ValueError, match="clashes"):
        monitor(attributes={"latency_ms": 1})
    with pytest.raises(ValueError, match="clashes"):
        monitor(attributes={"_id": 1})
    with pytest.raises(ValueError, match="either"):
        monitor("name", table=table)
    with pytest.raises(TypeError, match="preprocess"):
        monitor(preprocess=3)  # type: ignore[call-overload]
    with pytest.raises(TypeError, match="StreamTable"):
        monitor(table="calls")  # type: ignore[call-overload]
    with pytest.raises(TypeError, match="callable"):
        monitor()(42)  # type: ignore[arg-type]


# -- methods -----------------------------------------------------------------------------


def test_methods_leave_the_receiver_out(table: StreamTable) -> None:
    class Model:
        def __init__(self, bias: int) -> None:
            self.bias = bias

        @monitor(table=table)
        def predict(self, x: int) -> int:
            return x + self.bias

        @classmethod
        @monitor(table=table)
        def build(cls, bias: int) -> Model:
            return cls(bias)

        @staticmethod
        @monitor(table=table)
        def square(x: int) -> int:
            return x * x

        @monitor(table=table)
        @staticmethod
        def cube(x: int) -> int:
            return x**3

    with pytest.warns(MonitorWarning, match="Model.build"):  # a Model is not storable
        # mypy cannot see through classmethod(<callable object>); runtime binding is tested here
        model = Model.build(10)  # type: ignore[call-arg, arg-type]
    assert model.predict(1) == 11
    result, record = model.predict.call(2)
    assert result == 12
    assert record.logged
    assert Model.square(3) == 9
    assert model.cube(2) == 8  # type: ignore[call-arg]
    assert Model.predict(model, 5) == 15  # unbound call through the class
    assert model.predict.table is table

    inputs: dict[str, list[dict[str, Any]]] = {row["name"]: [] for row in rows(table)}
    for row in rows(table):
        inputs[row["name"]].append({k: v for k, v in row["inputs"].items() if v is not None})
    qual = "test_methods_leave_the_receiver_out.<locals>.Model"
    assert inputs[f"{qual}.build"] == [{"bias": 10}]
    assert inputs[f"{qual}.predict"] == [{"x": 1}, {"x": 2}, {"x": 5}]
    assert inputs[f"{qual}.square"] == [{"x": 3}]
    assert inputs[f"{qual}.cube"] == [{"x": 2}]


# -- pre/post-processing ---------------------------------------------------------------


def test_preprocess_and_postprocess_change_only_the_row(table: StreamTable) -> None:
    @monitor(
        table=table,
        preprocess=lambda inputs: {"prompt_chars": len(inputs["prompt"])},
        postprocess=lambda output: output.upper(),
    )
    def echo(prompt: str) -> str:
        return prompt

    assert echo("hello") == "hello"
    (row,) = rows(table)
    assert row["inputs"] == {"prompt_chars": 5}
    assert row["output"] == "HELLO"


def test_hook_errors_warn_once_naming_the_hook_and_keep_the_result(table: StreamTable) -> None:
    def bad_pre(inputs: dict[str, Any]) -> dict[str, Any]:
        raise KeyError("missing")

    def bad_post(output: Any) -> Any:
        raise RuntimeError("post broke")

    @monitor(table=table, preprocess=bad_pre, postprocess=bad_post)
    def f(x: int) -> int:
        return x + 1

    with pytest.warns(MonitorWarning) as caught:
        assert f(1) == 2
    messages = sorted(str(w.message) for w in caught)
    assert len(messages) == 2
    assert "postprocess" in messages[0]
    assert "post broke" in messages[0]
    assert "preprocess" in messages[1]
    assert "KeyError" in messages[1]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert f(2) == 3  # reported once per function and hook
    first, second = rows(table)
    assert first["inputs"] == {"x": 1}
    assert first["output"] == 2
    assert second["inputs"] == {"x": 2}
    assert second["output"] == 3


def test_preprocess_must_return_a_mapping(table: StreamTable) -> None:
    @monitor(table=table, preprocess=lambda inputs: [1, 2])  # type: ignore[arg-type,return-value]
    def f(x: int) -> int:
        return x

    with pytest.warns(MonitorWarning, match="preprocess.*mapping"):
        f(7)
    assert rows(table)[0]["inputs"] == {"x": 7}


# -- switching off -----------------------------------------------------------------------


def test_monitoring_can_be_disabled(tmp_path: Path) -> None:
    @monitor("off", root=str(tmp_path))
    def f(x: int) -> int:
        current_record().add_data({"ignored": True})
        return x

    with monitoring(enabled=False) as enabled:
        assert enabled is False
        assert not monitoring()
        assert f(1) == 1
        result, record = f.call(2)
        assert result == 2
        assert not record.recording
    assert monitoring().enabled
    assert not (tmp_path / "off").exists()  # no table was even created

    state = monitoring(enabled=False)
    try:
        assert f(3) == 3
        assert not state
    finally:
        monitoring(enabled=True)
    f(4)
    assert [row["inputs"]["x"] for row in rows(f.table)] == [4]


def test_environment_variable_disables_monitoring(tmp_path: Path) -> None:
    script = textwrap.dedent(
        """
        import sys
        from weave_nb.monitor import monitor, monitoring

        @monitor("env", root=sys.argv[1])
        def f(x):
            return x

        assert f(1) == 1
        assert not monitoring().enabled
        """
    )
    env = {**os.environ, "WEAVE_NB_DISABLED": "1"}
    subprocess.run([sys.executable, "-c", script, str(tmp_path)], env=env, check=True, timeout=120)
    assert not (tmp_path / "env").exists()


# -- images and values the store cannot hold -------------------------------------------


def test_image_outputs_and_inputs_become_image_cells(table: StreamTable) -> None:
    @monitor(table=table)
    def invert(image: np.ndarray) -> np.ndarray:
        return 255 - image

    @monitor(table=table)
    def thumbnail(size: int) -> PILImage.Image:
        return PILImage.new("RGB", (size, size), "red")

    pixels = np.zeros((4, 6, 3), dtype=np.uint8)
    assert (invert(pixels) == 255).all()
    thumbnail(3)
    table.flush()
    schema = table.schema
    assert is_image_type(schema.field("output").type)
    assert is_image_type(schema.field("inputs").type.field("image").type)
    frame = table.to_pandas()
    assert frame["output"].iloc[0].size == (6, 4)
    assert frame["output"].iloc[1].size == (3, 3)


def test_unstorable_input_is_stored_as_a_marker_and_warned_once(
    table: StreamTable, tmp_path: Path
) -> None:
    @monitor(table=table)
    def read_first(handle: Any, label: str) -> str:
        return label

    with open(tmp_path / "data.txt", "w") as handle:
        with pytest.warns(MonitorWarning, match="inputs.handle"):
            assert read_first(handle, "a") == "a"
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            assert read_first(handle, "b") == "b"
    first, second = rows(table)
    marker = first["inputs"]["handle"]
    assert "TextIOWrapper" in marker["__repr__"]
    assert marker["__type__"] == "_io.TextIOWrapper"
    assert marker["__truncated__"] is False
    assert first["inputs"]["label"] == "a"
    assert second["inputs"]["label"] == "b"
    assert first["output"] == "a"


def test_unstorable_output_keeps_storable_parts_and_truncates_long_reprs(
    table: StreamTable,
) -> None:
    class Opaque:
        def __repr__(self) -> str:
            return "x" * 10_000

    opaque = Opaque()

    @monitor(table=table)
    def f() -> dict[str, Any]:
        return {"score": 0.9, "blob": opaque}

    with pytest.warns(MonitorWarning):
        assert f()["blob"] is opaque
    output = rows(table)[0]["output"]
    assert output["score"] == 0.9
    assert output["blob"]["__truncated__"] is True
    assert len(output["blob"]["__repr__"]) < 1000


def test_unstorable_added_data_after_logging_is_a_marker_too(table: StreamTable) -> None:
    @monitor(table=table)
    def f() -> int:
        return 1

    _, record = f.call()
    with pytest.warns(MonitorWarning):
        record.add_data({"note": "ok", "lock": object()})
    (row,) = rows(table)
    assert row["note"] == "ok"
    assert row["lock"]["__type__"] == "builtins.object"


def test_a_closed_table_never_breaks_the_call(tmp_path: Path) -> None:
    t = StreamTable("closed", root=tmp_path)

    @monitor(table=t)
    def f(x: int) -> int:
        return x

    t.close()
    with pytest.warns(MonitorWarning, match="could not log"):
        assert f(1) == 1


def test_a_table_closed_after_fast_calls_never_breaks_the_call(tmp_path: Path) -> None:
    t = StreamTable("closed_later", root=tmp_path)

    @monitor(table=t)
    def f(x: int) -> int:
        return x

    assert [f(1), f(2)] == [1, 2]  # the second takes the fast path
    t.close()
    with pytest.warns(MonitorWarning, match="could not log"):
        assert f(3) == 3
    assert sorted(open_table("closed_later", root=tmp_path).to_pandas()["output"]) == [1, 2]


# -- processes ---------------------------------------------------------------------------


@monitor("pickled")
def module_level(x: int) -> int:
    return x


def test_monitored_functions_pickle_by_reference() -> None:
    assert pickle.loads(pickle.dumps(module_level)) is module_level


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_forked_child_gets_its_own_id_prefix(table: StreamTable) -> None:
    @monitor(table=table, auto_log=False)  # the child must not touch the store's locks
    def f() -> None:
        return None

    _, parent_record = f.call()
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: report an id and leave at once
        _, child_record = f.call()
        os.write(write, str(child_record.id).encode())
        os._exit(0)
    os.close(write)
    child_id = os.read(read, 200).decode()
    os.waitpid(pid, 0)
    parent_record.finish()
    prefix = str(parent_record.id).rsplit("-", 1)[0]
    assert child_id
    assert not child_id.startswith(prefix)


def test_values_refused_despite_a_plain_type_fall_back_to_markers(table: StreamTable) -> None:
    class Opaque(enum.Enum):  # an enum is plain data, unless its value is not
        HANDLE = object()

    @monitor(table=table)
    def pick(label: str, flag: float) -> Opaque:
        return Opaque.HANDLE

    with pytest.warns(MonitorWarning, match="output"):
        assert pick("a", 0.5) is Opaque.HANDLE
    (row,) = rows(table)
    assert row["output"]["__type__"].endswith("Opaque")
    assert row["inputs"] == {"label": "a", "flag": 0.5}
