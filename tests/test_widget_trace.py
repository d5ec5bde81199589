"""The table widget's trace view, kernel side: outline windows of a trace, one span whole."""

from __future__ import annotations

import contextlib
import datetime as dt

import numpy as np
import pytest
from test_widget_table import Sent, ask, attach, decode

import weave_nb as wnb
from weave_nb.widgets import TableWidget
from weave_nb.widgets._trace import MAX_SPANS_WINDOW


@pytest.fixture
def traced(table: wnb.StreamTable) -> tuple[wnb.StreamTable, str, str]:
    """A chain: root → retrieve (with an image) and two tool calls, the second failing."""

    @wnb.monitor(table=table)
    def tool(x: int) -> int:
        if x > 1:
            raise ValueError("tool broke")
        return x

    @wnb.monitor(table=table)
    def retrieve(image: np.ndarray) -> str:
        return "doc"

    @wnb.monitor(table=table)
    def chain(question: str) -> str:
        retrieve(np.zeros((8, 8, 3), np.uint8))
        tool(1)
        with contextlib.suppress(ValueError):
            tool(2)
        return "answer"

    _, record = chain.call("q")
    chain("another trace")
    table.flush()
    failing = table.sql("SELECT _id FROM t WHERE status = 'error'").column(0)[0].as_py()
    return table, str(record.id), failing


def test_a_row_opens_its_trace_outline_in_tree_order(
    traced: tuple[wnb.StreamTable, str, str],
) -> None:
    table, root_id, failing = traced
    widget = TableWidget(table)
    sent: Sent = attach(widget)
    reply, buffers = ask(widget, sent, type="trace", request=1, row_id=failing, offset=0, limit=100)
    assert reply["trace_id"] == root_id
    assert reply["total"] == 4
    outline = decode(buffers[0])
    assert outline.column_names == [
        "_id", "parent_id", "name", "status", "depth", "failed", "offset_ms", "duration_ms",
    ]  # fmt: skip
    assert [n.rsplit(".", 1)[-1] for n in outline.column("name").to_pylist()] == [
        "chain", "retrieve", "tool", "tool",
    ]  # fmt: skip
    assert outline.column("depth").to_pylist() == [0, 1, 1, 1]
    assert outline.column("status").to_pylist()[-1] == "error"
    assert outline.column("failed").to_pylist() == [False, False, False, True]
    offsets = outline.column("offset_ms").to_pylist()
    assert offsets[0] == 0
    assert offsets == sorted(offsets)
    assert reply["total_ms"] >= outline.column("duration_ms")[0].as_py()
    widget.close()


def test_outline_windows_are_bounded(traced: tuple[wnb.StreamTable, str, str]) -> None:
    table, root_id, _ = traced
    widget = TableWidget(table)
    sent = attach(widget)
    reply, buffers = ask(widget, sent, type="trace", request=2, trace_id=root_id, offset=2, limit=1)
    assert (reply["offset"], reply["total"], decode(buffers[0]).num_rows) == (2, 4, 1)
    reply, _ = ask(
        widget,
        sent,
        type="trace",
        request=3,
        trace_id=root_id,
        offset=0,
        limit=MAX_SPANS_WINDOW + 1,
    )
    assert reply["type"] == "error"
    widget.close()


def test_span_details_carry_the_whole_row_with_image_thumbnails(
    traced: tuple[wnb.StreamTable, str, str],
) -> None:
    table, _, failing = traced
    widget = TableWidget(table)
    sent = attach(widget)
    reply, buffers = ask(widget, sent, type="span", request=4, row_id=failing)
    (row,) = decode(buffers[0]).to_pylist()
    assert row["exception"]["message"] == "tool broke"
    kinds = {c["name"]: c["kind"] for c in reply["columns"]}
    assert kinds["exception"] == "nested"
    # The browser marks the field of the error column, named by the kernel.
    assert [c["name"] for c in reply["columns"] if c.get("role") == "error"] == ["exception"]
    retrieve_id = table.sql("SELECT _id FROM t WHERE name LIKE '%retrieve'").column(0)[0].as_py()
    reply, buffers = ask(widget, sent, type="span", request=5, row_id=retrieve_id)
    image_columns = [c["name"] for c in reply["columns"] if c["kind"] == "image"]
    assert image_columns
    assert decode(buffers[0]).column(image_columns[0])[0].as_py()["png"].startswith(b"\x89PNG")
    widget.close()


@pytest.mark.parametrize(
    ("statuses", "failed"),
    [
        (["error", None, "ERROR"], [True, False, False]),  # only the monitor's error value
        ([1, 2, 3], [False, False, False]),  # a status that is not text marks nothing
        (None, [False, False, False]),  # nor does no status at all
    ],
)
def test_the_outline_marks_failed_spans_by_the_monitor_status(
    table: wnb.StreamTable, statuses: list[object] | None, failed: list[bool]
) -> None:
    rows = [
        {"_id": f"s{i}", "trace_id": "T", "parent_id": None if i == 0 else "s0", "name": f"s{i}"}
        for i in range(3)
    ]
    if statuses is not None:
        for row, status in zip(rows, statuses, strict=True):
            row["status"] = status
    table.log(rows)
    table.flush()
    widget = TableWidget(table)
    sent = attach(widget)
    _, buffers = ask(widget, sent, type="trace", request=9, trace_id="T", offset=0, limit=10)
    assert decode(buffers[0]).column("failed").to_pylist() == failed
    widget.close()


def test_a_row_without_a_trace_says_so(table: wnb.StreamTable) -> None:
    table.log({"_id": "plain", "x": 1})
    table.flush()
    widget = TableWidget(table)
    sent = attach(widget)
    reply, buffers = ask(widget, sent, type="trace", request=6, row_id="plain", offset=0, limit=10)
    assert (reply["type"], buffers) == ("trace", [])
    assert "no trace" in reply["message"]
    widget.close()


def test_large_trace_outline_is_read_once_per_table_version(table: wnb.StreamTable) -> None:
    start = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    spans = [
        {
            "_id": f"s{i}",
            "trace_id": "T",
            "parent_id": None if i == 0 else "s0",
            "name": f"step {i}",
            "status": "success",
            "latency_ms": 1.0,
            "start_time": start + dt.timedelta(milliseconds=i),
        }
        for i in range(1000)
    ]
    table.log(spans)
    table.flush()
    widget = TableWidget(table)
    sent = attach(widget)
    reply, buffers = ask(
        widget, sent, type="trace", request=7, row_id="s500", offset=900, limit=100
    )
    window = decode(buffers[0])
    assert (reply["total"], window.num_rows, reply["index"]) == (1000, 100, 500)
    assert window.column("_id").to_pylist()[0] == "s900"
    first = widget._requests.traces.outline("T")
    assert widget._requests.traces.outline("T") is first  # cached while the table is unchanged
    widget.close()
