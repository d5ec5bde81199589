"""TableWidget without a browser: messages in, messages (and Arrow buffers) out."""

from __future__ import annotations

import io
import json
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from _support import wait_for
from PIL import Image as PILImage

import weave_nb as wnb
from weave_nb.widgets import TableWidget, _bundle
from weave_nb.widgets._arrow import THUMBNAIL_PX
from weave_nb.widgets.protocol import PROTOCOL_VERSION

Sent = list[tuple[dict[str, Any], list[bytes]]]


def attach(widget: TableWidget) -> Sent:
    """Record what the widget sends to the browser (from any thread)."""
    sent: Sent = []
    widget.send = lambda content, buffers=None: sent.append((content, list(buffers or [])))  # type: ignore[method-assign]
    return sent


def ask(widget: TableWidget, sent: Sent, **msg: Any) -> tuple[dict[str, Any], list[bytes]]:
    """Send a browser message and return the widget's reply to it."""
    widget._handle_custom_msg(msg, [])
    replies = [s for s in sent if s[0].get("request") == msg.get("request")]
    assert replies, f"no reply to {msg}"
    return replies[-1]


def decode(buffer: bytes) -> pa.Table:
    return pa.ipc.open_stream(buffer).read_all()


def ticks(sent: Sent) -> list[tuple[dict[str, Any], list[bytes]]]:
    return [s for s in sent if s[0]["type"] == "tick"]


def log_rows(table: wnb.StreamTable, n: int) -> None:
    table.log(
        [
            {
                "_id": f"r{i}",
                "latency_ms": float((i * 37) % 100),
                "status": "error" if i % 5 == 0 else "ok",
            }
            for i in range(n)
        ]
    )
    table.flush()


def test_state_describes_columns_in_display_order(table: wnb.StreamTable) -> None:
    table.log({"b": 1, "a": "x", "flag": True, "nested": {"k": [1, 2]}})
    table.flush()
    w = TableWidget(table)
    try:
        assert w.protocol == PROTOCOL_VERSION
        names = [c["name"] for c in w.columns]
        assert names[:2] == ["_id", "_timestamp"]
        assert names[-1] == "_client_id"
        kinds = {c["name"]: c["kind"] for c in w.columns}
        assert kinds == {
            "_id": "text",
            "_timestamp": "time",
            "b": "number",
            "a": "text",
            "flag": "bool",
            "nested": "nested",
            "_client_id": "text",
        }
        assert w.hidden_columns == ["_client_id", "thumbs", "note"]
        assert w.feedback == {"thumbs": "thumbs", "note": "note", "labels": {}}
        assert "as default" in w._esm
    finally:
        w.close()


def test_feedback_fields_are_hidden_as_columns_only_under_feedback_controls(
    table: wnb.StreamTable,
) -> None:
    table.log({"_id": "a", "answer": "yes"})
    table.annotate("a", {"thumbs": "up", "note": "fine", "label": "correct"})
    table.flush()
    labelled = TableWidget(table, feedback={"label": ["correct", "wrong"]})
    plain = TableWidget(table, feedback=False)
    chosen = TableWidget(table, hidden=["answer"])
    try:
        assert labelled.hidden_columns == ["_client_id", "thumbs", "note", "label"]
        assert plain.hidden_columns == ["_client_id"]
        assert chosen.hidden_columns == ["answer"]
        # Hidden feedback fields still travel: the controls show their values.
        sent = attach(labelled)
        _, buffers = ask(
            labelled, sent, type="window", request=1, offset=0, limit=5, sort=[], filter=None
        )
        row = decode(buffers[0]).to_pylist()[0]
        assert (row["thumbs"], row["note"], row["label"]) == ("up", "fine", "correct")
        assert "_client_id" not in row
    finally:
        for w in (labelled, plain, chosen):
            w.close()


def test_window_replies_with_arrow_rows(table: wnb.StreamTable) -> None:
    log_rows(table, 250)
    w = TableWidget(table)
    sent = attach(w)
    try:
        reply, buffers = ask(
            w, sent, type="window", request=1, offset=100, limit=50, sort=[], filter=None
        )
        assert reply == {
            "type": "rows",
            "request": 1,
            "offset": 100,
            "total": 250,
            "matched": 250,
            "version": table.version,
        }
        rows = decode(buffers[0])
        assert rows.column("_id").to_pylist() == [f"r{i}" for i in range(100, 150)]
        assert "_client_id" not in rows.column_names  # hidden columns are not sent
    finally:
        w.close()


def test_long_cells_travel_cut_and_whole_on_request(table: wnb.StreamTable) -> None:
    prompt = "word " * 200_000  # a megabyte
    table.log(
        [
            {"_id": "big", "prompt": prompt, "inputs": {"doc": prompt, "k": 3}},
            {"_id": "small", "prompt": "hi", "inputs": {"doc": "d", "k": 1}},
        ]
    )
    table.flush()
    w = TableWidget(table)
    sent = attach(w)
    try:
        _, buffers = ask(
            w, sent, type="window", request=1, offset=0, limit=10, sort=[], filter=None
        )
        assert len(buffers[0]) < 20_000  # the window stays light
        rows = decode(buffers[0])
        marks = json.loads(rows.schema.metadata[b"weave_nb.truncated"])
        assert marks == {"prompt": {"0": len(prompt)}, "inputs": {"0": None}}
        assert rows.column("prompt").to_pylist() == [prompt[:2000], "hi"]

        reply, full = ask(w, sent, type="cell", request=2, row_id="big", column="prompt")
        assert reply == {"type": "cell", "request": 2, "column": "prompt"}
        assert decode(full[0]).column("prompt").to_pylist() == [prompt]
        _, full = ask(w, sent, type="cell", request=3, row_id="big", column="inputs")
        assert decode(full[0]).column("inputs").to_pylist() == [{"doc": prompt, "k": 3}]

        reply, full = ask(w, sent, type="cell", request=4, row_id="nope", column="prompt")
        assert reply["message"] == "row not found"
        assert full == []
        reply, _ = ask(w, sent, type="cell", request=5, row_id="big", column="missing")
        assert reply == {
            "type": "error",
            "request": 5,
            "message": "'missing' is not a column of table 'calls'",
        }
    finally:
        w.close()


def test_window_sorts_filters_and_counts_from_the_end(table: wnb.StreamTable) -> None:
    log_rows(table, 250)
    w = TableWidget(table)
    sent = attach(w)
    try:
        reply, buffers = ask(
            w,
            sent,
            type="window",
            request=2,
            offset=-10,
            limit=10,
            sort=[["latency_ms", "desc"], ["_id", "asc"]],
            filter="status = 'error'",
        )
        assert reply["matched"] == 50
        assert reply["total"] == 250
        assert reply["offset"] == 40
        expected = table.window(
            40, 10, sort=[("latency_ms", "desc"), ("_id", "asc")], filter="status = 'error'"
        )
        assert decode(buffers[0]).column("_id").to_pylist() == expected.column("_id").to_pylist()
        assert set(decode(buffers[0]).column("status").to_pylist()) == {"error"}
    finally:
        w.close()


@pytest.mark.parametrize(
    ("msg", "needle"),
    [
        ({"offset": 0, "limit": 10, "sort": [], "filter": "latency_ms > and"}, "syntax error"),
        (
            {"offset": 0, "limit": 10, "sort": [["latency_ms", "up"]], "filter": None},
            "field 'sort'[0][1] must be 'asc' or 'desc'",
        ),
        ({"offset": 0, "limit": 10**6, "sort": [], "filter": None}, "window limit"),
    ],
)
def test_bad_requests_get_an_error_reply(
    table: wnb.StreamTable, msg: dict[str, Any], needle: str
) -> None:
    log_rows(table, 5)
    w = TableWidget(table)
    sent = attach(w)
    try:
        reply, buffers = ask(w, sent, type="window", request=7, **msg)
        assert reply["type"] == "error"
        assert needle in reply["message"]
        assert buffers == []
    finally:
        w.close()


def _png_size(png: bytes) -> tuple[int, int]:
    with PILImage.open(io.BytesIO(png)) as image:
        return image.size


def test_images_inside_a_struct_are_columns_of_their_own(tmp_path: Path) -> None:
    pixels = np.zeros((300, 400, 3), np.uint8)
    pixels[:, :200] = 255

    @wnb.monitor("vision", root=tmp_path)
    def classify(image: np.ndarray, threshold: float) -> str:  # an image argument
        return "half white"

    classify(pixels, 0.5)
    table = classify.table
    table.flush()
    w = TableWidget(table, hidden=["inputs"])  # shown even when its struct is hidden
    sent = attach(w)
    try:
        kinds = {c["name"]: c["kind"] for c in w.columns}
        assert kinds["inputs.image"] == "image"
        assert [c["name"] for c in w.columns][2] == "inputs.image"  # images lead the data
        _, buffers = ask(
            w, sent, type="window", request=1, offset=0, limit=10, sort=[], filter=None
        )
        (cell,) = decode(buffers[0]).column("inputs.image").to_pylist()
        assert (cell["width"], cell["height"]) == (400, 300)
        assert max(_png_size(cell["png"])) == THUMBNAIL_PX
        row_id = table.to_arrow().column("_id")[0].as_py()
        reply, full = ask(w, sent, type="image", request=2, row_id=row_id, column="inputs.image")
        assert (reply["width"], reply["height"]) == (400, 300)
        assert _png_size(full[0]) == (400, 300)
    finally:
        w.close()


def test_images_travel_as_thumbnails_and_full_size_on_request(table: wnb.StreamTable) -> None:
    pixels = np.zeros((300, 400, 3), np.uint8)
    pixels[:, :200] = 255
    table.log([{"_id": "big", "image": wnb.Image(pixels)}, {"_id": "none", "image": None}])
    table.flush()
    w = TableWidget(table)
    sent = attach(w)
    try:
        assert {c["name"]: c["kind"] for c in w.columns}["image"] == "image"
        _, buffers = ask(
            w, sent, type="window", request=1, offset=0, limit=10, sort=[], filter=None
        )
        cells = decode(buffers[0]).column("image").to_pylist()
        assert cells[1] is None
        assert (cells[0]["width"], cells[0]["height"]) == (400, 300)
        assert max(_png_size(cells[0]["png"])) == THUMBNAIL_PX

        reply, full = ask(w, sent, type="image", request=2, row_id="big", column="image")
        assert reply == {
            "type": "image",
            "request": 2,
            "column": "image",
            "width": 400,
            "height": 300,
        }
        assert _png_size(full[0]) == (400, 300)

        reply, full = ask(w, sent, type="image", request=3, row_id="none", column="image")
        assert reply["message"] == "no image in this row"
        assert full == []
        reply, _ = ask(w, sent, type="image", request=4, row_id="big", column="_id")
        assert reply == {"type": "error", "request": 4, "message": "'_id' is not an image column"}
    finally:
        w.close()


def test_annotate_round_trip_reaches_every_view(table: wnb.StreamTable) -> None:
    log_rows(table, 3)
    w = TableWidget(table, feedback={"label": ["correct", "wrong"]})
    other = TableWidget(table)
    sent, other_sent = attach(w), attach(other)
    try:
        w._handle_custom_msg(
            {"type": "annotate", "row_id": "r1", "field": "thumbs", "value": "up"}, []
        )
        w._handle_custom_msg(
            {"type": "annotate", "row_id": "r1", "field": "note", "value": "fine"}, []
        )
        w._handle_custom_msg(
            {"type": "annotate", "row_id": "r1", "field": "label", "value": "wrong"}, []
        )
        df = table.to_pandas().set_index("_id")
        assert list(df.loc["r1", ["thumbs", "note", "label"]]) == ["up", "fine", "wrong"]

        # Both views are told, with the annotated rows in the pushed tail.
        def annotated_tail(log: Sent) -> bool:
            for _content, buffers in ticks(log):
                if buffers and "thumbs" in decode(buffers[0]).column_names:
                    rows = decode(buffers[0]).to_pylist()
                    if any(r["_id"] == "r1" and r["thumbs"] == "up" for r in rows):
                        return True
            return False

        wait_for(lambda: annotated_tail(sent) and annotated_tail(other_sent))
        wait_for(lambda: "thumbs" in [c["name"] for c in other.columns])

        w._handle_custom_msg(
            {"type": "annotate", "row_id": "r1", "field": "thumbs", "value": None}, []
        )
        assert table.to_pandas().set_index("_id").loc["r1", "thumbs"] in (None, np.nan)
    finally:
        w.close()
        other.close()


@pytest.mark.parametrize(
    ("field", "value", "needle"),
    [
        ("thumbs", "sideways", "must be one of"),
        ("label", "maybe", "must be one of"),
        ("note", 3, "field 'value' must be text or null"),
        ("score", "1", "not a feedback field"),
    ],
)
def test_bad_feedback_is_refused(
    table: wnb.StreamTable, field: str, value: Any, needle: str
) -> None:
    log_rows(table, 1)
    w = TableWidget(table, feedback={"label": ["correct", "wrong"]})
    sent = attach(w)
    try:
        reply, _ = ask(
            w, sent, type="annotate", request=None, row_id="r0", field=field, value=value
        )
        assert reply["type"] == "error"
        assert needle in reply["message"]
        assert len(table.annotations()) == 0
    finally:
        w.close()


def test_only_stream_tables_are_shown() -> None:
    with pytest.raises(TypeError, match="got DataFrame"):
        TableWidget(pd.DataFrame({"a": [1]}))  # type: ignore[arg-type]


def test_feedback_config_is_validated(table: wnb.StreamTable) -> None:
    with pytest.raises(ValueError, match="non-empty list of str"):
        TableWidget(table, feedback={"label": []})
    with pytest.raises(ValueError, match="'note'"):
        TableWidget(table, feedback={"note": ["a"]})
    with pytest.raises(TypeError, match="feedback must be"):
        TableWidget(table, feedback="yes")  # type: ignore[arg-type]
    w = TableWidget(table, feedback=False)
    assert w.feedback == {"thumbs": None, "note": None, "labels": {}}
    w.close()


def test_selecting_a_row_exposes_it_in_python(table: wnb.StreamTable) -> None:
    table.log({"_id": "it's", "value": 3, "image": wnb.Image(np.full((4, 5), 9, np.uint8))})
    table.flush()
    w = TableWidget(table)
    try:
        w.selected_id = "it's"
        assert w.selected is not None
        assert w.selected["_id"] == "it's"
        assert w.selected["value"] == 3
        assert isinstance(w.selected["image"], wnb.Image)
        assert (w.selected["image"].width, w.selected["image"].height) == (5, 4)
        w.selected_id = None
        assert w.selected is None
    finally:
        w.close()


def test_ticks_are_throttled_while_a_tight_loop_logs(table: wnb.StreamTable) -> None:
    w = TableWidget(table)
    sent = attach(w)
    try:
        started = time.monotonic()
        n = 0
        while time.monotonic() - started < 2.0:  # tight loop in this (the "cell's") thread
            table.log({"step": n})
            n += 1
        during = len(ticks(sent))
        # A count sent while the rows were read is always followed by newer rows.
        wait_for(
            lambda: (
                bool(ticks(sent)) and ticks(sent)[-1][0]["total"] == n and bool(ticks(sent)[-1][1])
            )
        )
        elapsed = time.monotonic() - started
        pushed = ticks(sent)
        # Live while the loop ran, yet far below Jupyter's iopub limit.
        assert during >= 2
        assert len(pushed) <= 10 * elapsed + 1
        # Counts and rows come from two threads; each stream alone never goes back.
        for with_rows in (False, True):
            totals = [c["total"] for c, buffers in pushed if bool(buffers) is with_rows]
            assert totals == sorted(totals)
        assert pushed[0][0]["total"] < n
        # Following: each tick carries the newest rows.
        last, buffers = pushed[-1]
        tail = decode(buffers[0])
        assert last["offset"] + tail.num_rows == n
        assert tail.column("step").to_pylist()[-1] == n - 1
    finally:
        w.close()


def test_no_tail_rows_when_not_following(table: wnb.StreamTable) -> None:
    w = TableWidget(table, follow=False, filter="step % 2 = 0")
    sent = attach(w)
    try:
        table.log([{"step": i} for i in range(10)])
        wait_for(lambda: bool(ticks(sent)) and ticks(sent)[-1][0]["total"] == 10)
        content, buffers = ticks(sent)[-1]
        assert content["matched"] == 5
        assert content["query"] == {"sort": [], "filter": "step % 2 = 0"}
        assert "offset" not in content
        assert buffers == []
    finally:
        w.close()


def _tickers() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("weave_nb-ticker")]


def test_close_stops_the_thread_and_the_subscription(table: wnb.StreamTable) -> None:
    before = len(_tickers())
    w = TableWidget(table)
    sent = attach(w)
    assert len(_tickers()) == before + 1
    w.close()
    assert len(_tickers()) == before
    sent.clear()
    table.log({"x": 1})
    table.flush()
    time.sleep(0.5)  # longer than the ticker's interval: a live subscription would push
    assert ticks(sent) == []


def test_closing_the_table_closes_its_widgets(tmp_path: Path) -> None:
    before = len(_tickers())
    t = wnb.StreamTable("closing", root=tmp_path)
    w = TableWidget(t)
    t.close()
    wait_for(lambda: len(_tickers()) == before)
    assert w.comm is None
    with pytest.raises(ValueError, match="closed table"):
        TableWidget(t)


def test_missing_bundle_says_how_to_build(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(_bundle, "_STATIC", tmp_path)
    _bundle.bundle.cache_clear()
    try:
        with pytest.raises(FileNotFoundError, match="npm run build"):
            _bundle.bundle("table")
    finally:
        monkeypatch.undo()
        _bundle.bundle.cache_clear()
