"""Board: seeding from the schema, editing panels, scope, selection → table filter, stats."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from _support import wait_for

from weave_nb.charts import ErrorRate, Feedback, Histogram, Latency, Mean, Volume
from weave_nb.charts.seed import MAX_PANELS, seed_panels
from weave_nb.monitor.schema import is_monitor_schema
from weave_nb.store import StreamTable
from weave_nb.widgets.board import Board
from weave_nb.widgets.chart import Chart


def monitor_rows(n: int) -> list[dict[str, Any]]:
    """Rows shaped like those ``@monitor`` writes."""
    rows = []
    for i in range(n):
        error = i % 10 == 0
        rows.append(
            {
                "name": "ask",
                "inputs": {"question": f"q{i}"},
                "output": None if error else f"a{i}",
                "status": "error" if error else "success",
                "exception": {"type": "ValueError", "message": "bad"} if error else None,
                "latency_ms": float(10 + i),
                "trace_id": f"t{i}",
                "parent_id": None,
            }
        )
    return rows


@pytest.fixture
def boards() -> Iterator[list[Board]]:
    made: list[Board] = []
    yield made
    for board in made:
        board.close()


# -- seeding -----------------------------------------------------------------------


def test_monitor_tables_get_the_monitoring_panels(table: StreamTable) -> None:
    table.log(monitor_rows(20))
    assert is_monitor_schema(table.schema)
    panels = seed_panels(table, thumbs="thumbs", labels=["label"])
    assert [type(p) for p in panels] == [Volume, Latency, ErrorRate, Feedback, Feedback]
    assert [getattr(p, "field", None) for p in panels[3:]] == ["thumbs", "label"]
    without_thumbs = seed_panels(table, labels=["verdict"])
    assert [getattr(p, "field", None) for p in without_thumbs[3:]] == ["verdict"]


def test_generic_tables_get_a_panel_per_useful_column(table: StreamTable) -> None:
    table.log(
        [
            {
                "duration_s": float(i),
                "score": i * 0.5,
                "model": f"m{i % 3}",
                "prompt": f"free text {i}",
                "flag": i % 2 == 0,
                "meta": {"k": i},
            }
            for i in range(40)
        ]
    )
    panels = seed_panels(table)
    described = [(type(p).__name__, getattr(p, "column", None)) for p in panels]
    assert described == [
        ("Volume", None),
        ("Latency", "duration_s"),  # durations get percentiles, never a sum
        ("Mean", "score"),
        ("Counts", "model"),  # low-cardinality text; "prompt" has 40 values
    ]


def test_generic_seeding_is_capped(table: StreamTable) -> None:
    table.log({f"n{i}": float(i) for i in range(20)})
    assert len(seed_panels(table)) == MAX_PANELS


def test_monitor_board_header_and_feedback_panels(table: StreamTable, boards: list[Board]) -> None:
    table.log(monitor_rows(20))
    board = Board(table, feedback={"label": ["right", "wrong"]})
    boards.append(board)
    assert [p.kind.title for p in board.panels][:3] == [
        "Calls",
        "latency_ms percentiles",
        "Error rate",
    ]
    stats = {s["label"]: s["value"] for s in board.stats}
    assert stats == {
        "calls": "20",
        "error rate": "10.0%",
        "p50 latency": "20 ms",
        "p95 latency": "28 ms",
    }
    first = table.window(0, 1).column("_id")[0].as_py()
    table.annotate(first, {"thumbs": "up"})
    wait_for(lambda: any(s["label"] == "feedback" for s in board.stats))
    assert {s["label"]: s["value"] for s in board.stats}["feedback"] == "👍 1  👎 0"
    thumbs_panel = board.panels[3]
    wait_for(lambda: thumbs_panel.error == "" and thumbs_panel.data)
    assert thumbs_panel.data[0]["group"] == "up"


def test_feedback_panels_say_how_to_give_feedback_until_it_arrives(
    table: StreamTable, boards: list[Board]
) -> None:
    table.log(monitor_rows(20))
    board = Board(table, feedback={"verdict": ["right", "wrong"]})
    boards.append(board)
    thumbs, verdict = board.panels[3:]
    # Neither field exists yet: a friendly note, not "no column 'thumbs' in table ...".
    for panel, field in ((thumbs, "thumbs"), (verdict, "verdict")):
        assert panel.kind.field == field  # type: ignore[attr-defined]
        assert panel.error == ""
        assert panel.data == []
        assert panel.spec  # the axes are drawn (faded) under the note
    assert thumbs.empty == "No feedback yet — use 👍/👎 in the table below"
    assert "verdict" in verdict.empty

    first = table.window(0, 1).column("_id")[0].as_py()
    table.annotate(first, {"verdict": "wrong"})
    wait_for(lambda: verdict.data != [] and verdict.empty == "")
    assert [row["group"] for row in verdict.data] == ["wrong"]
    assert thumbs.empty != ""  # still no thumbs
    wait_for(lambda: any(s["label"] == "verdict" for s in board.stats))
    assert {s["label"]: s["value"] for s in board.stats}["verdict"] == "right 0  wrong 1"


def test_generic_board_counts_rows(table: StreamTable, boards: list[Board]) -> None:
    table.log([{"x": i} for i in range(7)])
    board = Board(table)
    boards.append(board)
    assert board.stats == [{"label": "rows", "value": "7", "tone": ""}]
    assert board.title == "calls"
    assert board.get_state()["table_widget"] == f"anywidget:{board.table_widget.model_id}"


# -- editing ----------------------------------------------------------------------


def test_add_remove_move_panels(table: StreamTable, boards: list[Board]) -> None:
    table.log([{"x": float(i)} for i in range(10)])
    board = Board(table, panels=["volume"])
    boards.append(board)
    hist = board.add("histogram", column="x")
    first = board.add(Mean("x"), index=0)
    assert [type(p.kind) for p in board.panels] == [Mean, Volume, Histogram]
    assert board.get_state()["panels"] == [f"anywidget:{p.model_id}" for p in board.panels]
    board.move(hist, 0)
    assert board.panels[0] is hist
    board.remove(1)
    assert first.comm is None  # removed charts are closed
    assert [type(p.kind) for p in board.panels] == [Histogram, Volume]
    board.panels = list(reversed(board.panels))
    assert [type(p.kind) for p in board.panels] == [Volume, Histogram]
    with pytest.raises(ValueError, match="not a panel"):
        board.remove(first)
    other = Chart(table, "volume", live=False)
    with pytest.raises(TypeError, match="options"):
        board.add(other, column="x")
    other.close()


# -- scope and selection --------------------------------------------------------------


def test_filter_applies_to_every_panel_and_the_table(
    table: StreamTable, boards: list[Board]
) -> None:
    table.log(monitor_rows(30))
    board = Board(table)
    boards.append(board)
    board.filter = "latency_ms >= 30"
    assert board.filter_error == ""
    assert all(p.scope.filter == "latency_ms >= 30" for p in board.panels)
    assert sum(r["value"] for r in board.panels[0].data) == 10
    assert board.table_widget.filter == "latency_ms >= 30"
    assert {s["label"]: s["value"] for s in board.stats}["calls"] == "10"
    board.filter = "no_such_column > 1"
    assert "no_such_column" in board.filter_error
    assert all(p.scope.filter == "latency_ms >= 30" for p in board.panels)  # unchanged


def test_date_range_presets_and_absolute_range(table: StreamTable, boards: list[Board]) -> None:
    now = dt.datetime.now(dt.timezone.utc)
    table.log([{"_timestamp": now - dt.timedelta(hours=3), "x": 1}, {"_timestamp": now, "x": 2}])
    board = Board(table, panels=["volume"])
    boards.append(board)
    volume = board.panels[0]
    assert sum(r["value"] for r in volume.data) == 2
    board.range = "1h"
    assert volume.scope.last == dt.timedelta(hours=1)
    assert sum(r["value"] for r in volume.data) == 1
    board.set_range(now - dt.timedelta(hours=4), now - dt.timedelta(hours=2))
    assert board.range == "custom"
    assert sum(r["value"] for r in volume.data) == 1
    assert table.count(board.table_widget.filter) == 1
    board.set_range()
    assert board.range == "all"
    assert board.table_widget.filter == ""
    with pytest.raises(ValueError, match="unknown date range"):
        Board(table, range="fortnight")


def test_clicking_a_bar_filters_the_table(table: StreamTable, boards: list[Board]) -> None:
    table.log(monitor_rows(30))
    board = Board(table)
    boards.append(board)
    errors = next(p for p in board.panels if isinstance(p.kind, ErrorRate))
    errors._handle_custom_msg({"type": "select", "datum": errors.data[0]}, [])
    assert board.selection.startswith("errors in")
    assert table.count(board.table_widget.filter) == 3  # the error rows of that bucket
    volume = board.panels[0]
    volume._handle_custom_msg({"type": "select", "datum": volume.data[0]}, [])
    assert errors.selection is None  # one selection at a time
    assert table.count(board.table_widget.filter) == 30
    board._handle_custom_msg({"type": "clear_selection"}, [])
    assert board.selection == ""
    assert board.table_widget.filter == ""


def test_close_closes_everything(table: StreamTable) -> None:
    table.log({"x": 1})
    board = Board(table)
    children = [*board.panels, board.table_widget]
    board.close()
    assert all(child.comm is None for child in children)
    assert board.comm is None


def test_a_board_made_before_the_first_row_is_seeded_when_rows_arrive(
    table: StreamTable, boards: list[Board]
) -> None:
    board = Board(table)
    boards.append(board)
    assert [type(p.kind) for p in board.panels] == [Volume]
    first = board.panels[0]
    table.log(monitor_rows(10))
    wait_for(lambda: len(board.panels) == 4)
    assert [type(p.kind) for p in board.panels] == [Volume, Latency, ErrorRate, Feedback]
    assert first.comm is None
    wait_for(lambda: any(s["label"] == "error rate" for s in board.stats))


def test_chosen_panels_are_never_reseeded(table: StreamTable, boards: list[Board]) -> None:
    board = Board(table, panels=["volume"])
    boards.append(board)
    table.log(monitor_rows(10))
    wait_for(lambda: board.stats and board.stats[0]["value"] == "10")
    assert [type(p.kind) for p in board.panels] == [Volume]


def test_sub_millisecond_latencies_keep_their_digits() -> None:
    from weave_nb.charts.stats import _ms

    assert [_ms(v) for v in (0.337, 4.5, 28.2, 1500.0, None)] == [
        "0.34 ms",
        "4.5 ms",
        "28 ms",
        "1.50 s",
        "–",
    ]
