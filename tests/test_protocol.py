"""The kernel side of the widget protocol agrees with the examples both sides check.

tests/fixtures/protocol_messages.json holds an example of every message shape
(js/shared/protocol.test.js checks the same file against the browser side), so
a field added or changed on one side only fails one of the two tests.
"""

from __future__ import annotations

import json
import time
import typing
from pathlib import Path
from typing import Any, TypedDict

import anywidget
import pytest

import weave_nb as wnb
from weave_nb.widgets import Board, Chart, TableWidget, protocol
from weave_nb.widgets.protocol import (
    MESSAGE_SHAPES,
    PROTOCOL_VERSION,
    BoardState,
    ChartState,
    MessageShape,
    ProtocolError,
    TableState,
    check_fields,
)

FIXTURE = json.loads(
    (Path(__file__).parent / "fixtures" / "protocol_messages.json").read_text(encoding="utf-8")
)
EXAMPLES: list[dict[str, Any]] = FIXTURE["messages"]
REFUSED: list[dict[str, Any]] = FIXTURE["refused"]
SHAPES = {shape.name: shape for shape in MESSAGE_SHAPES}
PARSERS = {
    "table": protocol.parse_table_request,
    "chart": protocol.parse_chart_message,
    "board": protocol.parse_board_message,
}


def _id(example: dict[str, Any]) -> str:
    return f"{example['shape']}-{json.dumps(example['content'])[:60]}"


def _declared(shape: MessageShape) -> set[str]:
    return set(typing.get_type_hints(shape.fields))


def _fits(value: object, hint: Any) -> bool:
    """Whether ``value`` is of type ``hint``, as the protocol checks a field."""
    try:
        check_fields({"value": value}, TypedDict("One", {"value": hint}))  # type: ignore[operator]
    except ProtocolError:
        return False
    return True


def _as_json(content: object) -> Any:
    """``content`` as the browser receives it (tuples become lists)."""
    return json.loads(json.dumps(content))


def test_every_widget_sends_the_fixture_version() -> None:
    assert FIXTURE["protocol"] == PROTOCOL_VERSION
    for widget in (TableWidget, Chart, Board):
        trait = widget.class_traits()["protocol"]
        assert trait.default_value == PROTOCOL_VERSION, widget
        assert trait.metadata.get("sync") is True, widget
        assert trait.read_only, widget


@pytest.mark.parametrize(
    ("widget", "state"), [(TableWidget, TableState), (Chart, ChartState), (Board, BoardState)]
)
def test_the_synced_traits_are_the_declared_state(widget: type, state: type) -> None:
    base = set(anywidget.AnyWidget.class_trait_names(sync=True))
    synced = {n for n in widget.class_trait_names(sync=True) if n not in base}
    assert {n for n in synced if not n.startswith("_")} == set(typing.get_type_hints(state))


def test_live_widgets_hold_their_declared_state(table: wnb.StreamTable) -> None:
    table.log([{"_id": f"r{i}", "latency_ms": float(i), "status": "ok"} for i in range(20)])
    table.flush()
    board = Board(table, feedback={"label": ["right", "wrong"]})
    try:
        check_fields(_as_json(board.get_state()), BoardState)
        check_fields(_as_json(board.table_widget.get_state()), TableState)
        assert board.panels
        for chart in board.panels:
            check_fields(_as_json(chart.get_state()), ChartState)
    finally:
        board.close()


@pytest.mark.parametrize("example", EXAMPLES, ids=_id)
def test_examples_have_the_fields_of_their_shape(example: dict[str, Any]) -> None:
    shape = SHAPES[example["shape"]]
    content = example["content"]
    shape.check(content, example["buffers"])
    assert content["type"] == shape.type
    assert set(content) <= _declared(shape), "the example has fields its shape does not declare"
    if shape.direction == "browser_to_kernel":
        assert PARSERS[shape.widget](content) is content
        others = [parse for widget, parse in PARSERS.items() if widget != shape.widget]
        assert all(parse(content) is None for parse in others), "another widget takes it"


def test_examples_cover_every_shape_field_and_alternative_type() -> None:
    assert {e["shape"] for e in EXAMPLES} == set(SHAPES), "a shape without example, or unknown"
    for shape in MESSAGE_SHAPES:
        examples = [e["content"] for e in EXAMPLES if e["shape"] == shape.name]
        assert set().union(*examples) == _declared(shape), shape.name
        for field, hint in typing.get_type_hints(shape.fields).items():
            if typing.get_origin(hint) not in (typing.Union, type(int | None)):
                continue
            for alternative in typing.get_args(hint):  # e.g. a row id as text and as a number
                assert any(_fits(content[field], alternative) for content in examples), (
                    f"no {shape.name} example with {field} of type {alternative}"
                )


@pytest.mark.parametrize("example", REFUSED, ids=_id)
def test_refused_examples_are_refused_naming_type_and_field(example: dict[str, Any]) -> None:
    shape = SHAPES[example["shape"]]
    content = example["content"]
    if shape.direction == "browser_to_kernel":
        with pytest.raises(ProtocolError) as refused:
            PARSERS[shape.widget](content)
    else:
        with pytest.raises(ProtocolError) as refused:
            shape.check(content, example["buffers"])
    assert f"'{shape.type}' message" in str(refused.value)
    field = example["field"]
    assert (field if field == "buffers" else f"field '{field}'") in str(refused.value)


BUILT = {
    "RowsReply": protocol.rows_reply(
        1, offset=900, total=1000, matched=1000, version=12, window=b"ipc"
    ),
    "Tick": protocol.tick(
        total=1000, version=12, matched=None, sort=[("latency_ms", "desc")], filter=""
    ),
    "TailTick": protocol.tail_tick(
        total=1000, version=13, matched=40, sort=[], filter="x > 1", offset=0, rows=b"ipc"
    ),
    "ImageReply": protocol.image_reply(3, column="image", width=640, height=480, png=b"png"),
    "ImageMissing": protocol.image_missing(4, column="image", message="no image in this row"),
    "CellReply": protocol.cell_reply(5, column="prompt", row=b"ipc"),
    "CellMissing": protocol.cell_missing(6, column="prompt", message="row not found"),
    "TraceReply": protocol.trace_reply(
        7, trace_id="t", offset=0, total=3, total_ms=1.5, version=2, index=None, spans=b"ipc"
    ),
    "TraceMissing": protocol.trace_missing(8, message="this row belongs to no trace"),
    "SpanReply": protocol.span_reply(
        10, columns=[{"name": "_id", "kind": "text", "type": "string"}], row=b"ipc"
    ),
    "SpanMissing": protocol.span_missing(11, message="span not found"),
    "ErrorReply": protocol.error_reply(None, "refused"),
}


def test_builders_make_the_shapes_of_the_examples() -> None:
    kernel_shapes = {s.name for s in MESSAGE_SHAPES if s.direction == "kernel_to_browser"}
    assert set(BUILT) == kernel_shapes, "a kernel message without a builder case"
    for name, (content, buffers) in BUILT.items():
        shape = SHAPES[name]
        sent = _as_json(content)
        shape.check(sent, len(buffers))
        example_fields = {key for e in EXAMPLES if e["shape"] == name for key in e["content"]}
        assert set(sent) == example_fields, name


def _shape_of_sent(content: dict[str, Any], buffers: list[bytes]) -> str:
    for shape in MESSAGE_SHAPES:
        if shape.direction == "kernel_to_browser" and shape.type == content.get("type"):
            try:
                shape.check(_as_json(content), len(buffers))
            except ProtocolError:
                continue
            return shape.name
    raise AssertionError(f"the widget sent a message of no declared shape: {content}")


def test_a_table_widget_answers_every_request_in_declared_shapes(
    table: wnb.StreamTable,
) -> None:
    table.log([{"_id": "r1", "status": "error", "latency_ms": 3.0, "prompt": "x" * 5000}])
    table.flush()
    widget = TableWidget(table)
    sent: list[tuple[dict[str, Any], list[bytes]]] = []
    widget.send = lambda content, buffers=None: sent.append((content, list(buffers or [])))  # type: ignore[method-assign]
    try:
        for example in EXAMPLES:
            if example["shape"] in ("SelectMessage", "ClearSelectionMessage"):
                continue
            if SHAPES[example["shape"]].direction == "browser_to_kernel":
                widget._handle_custom_msg(example["content"], [])
        deadline = time.monotonic() + 10
        while not any(c["type"] == "tick" for c, _ in sent) and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        widget.close()
    shapes = {_shape_of_sent(content, buffers) for content, buffers in sent}
    assert {"RowsReply", "CellReply", "TraceMissing", "SpanReply", "ErrorReply"} <= shapes
    assert shapes & {"Tick", "TailTick"}
