"""A seeded board's drift panel, quality panels and header figures (drifted, watches)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import test_board
from _support import wait_for

from weave_nb.charts import Drift, Quality
from weave_nb.charts.seed_quality import MIN_DRIFT_ROWS
from weave_nb.store import StreamTable
from weave_nb.widgets.board import Board

# The fixture closing the boards a test made.
boards = test_board.boards

T0 = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)


def calls(start: int, n: int, *, shifted: bool) -> list[dict[str, Any]]:
    """Monitor-shaped rows; ``shifted`` rows have longer questions and another language."""
    return [
        {
            "_timestamp": T0 + dt.timedelta(seconds=i),
            "name": "ask",
            "inputs": {
                "question_len": (i % 50) + (80 if shifted else 0),
                "lang": "de" if shifted else "en",
            },
            "output": {"score": (i % 17) / 17},
            "status": "success",
            "latency_ms": 10.0 + i % 7,
            "trace_id": f"t{i}",
        }
        for i in range(start, start + n)
    ]


def stat(board: Board, label: str) -> dict[str, str] | None:
    return next((s for s in board.stats if s["label"] == label), None)


def test_drifting_monitor_table_gets_a_drift_panel_and_a_count(
    table: StreamTable, boards: list[Board]
) -> None:
    table.log(calls(0, 300, shifted=False) + calls(300, 300, shifted=True))
    table.flush()
    board = Board(table)
    boards.append(board)
    drift = [p for p in board.panels if isinstance(p.kind, Drift)]
    assert len(drift) == 1
    assert drift[0].kind.columns == ["inputs.question_len", "inputs.lang", "output.score"]
    assert drift[0].error == ""
    assert {row["series"] for row in drift[0].data} == set(drift[0].kind.columns)
    assert stat(board, "drifted") == {"label": "drifted", "value": "2 of 3 columns", "tone": "bad"}


def test_the_drift_panel_arrives_with_enough_rows(table: StreamTable, boards: list[Board]) -> None:
    table.log(calls(0, 20, shifted=False))
    board = Board(table)
    boards.append(board)
    assert not any(isinstance(p.kind, Drift) for p in board.panels)
    table.log(calls(20, MIN_DRIFT_ROWS, shifted=False))
    wait_for(lambda: any(isinstance(p.kind, Drift) for p in board.panels))
    wait_for(lambda: stat(board, "drifted") is not None)


def test_feedback_gets_a_quality_panel(table: StreamTable, boards: list[Board]) -> None:
    table.log(calls(0, 10, shifted=False))
    table.flush()
    table.annotate(table.window(0, 1).column("_id")[0].as_py(), {"thumbs": "up"})
    board = Board(table)
    boards.append(board)
    quality = [p for p in board.panels if isinstance(p.kind, Quality)]
    assert [q.kind.field for q in quality] == ["thumbs"]
    assert [row["value"] for row in quality[0].data] == [1.0]


def test_the_header_counts_watches(table: StreamTable, boards: list[Board]) -> None:
    table.log(calls(0, 10, shifted=False))
    board = Board(table)
    boards.append(board)
    assert stat(board, "watches") is None
    watch = table.watch("max(latency_ms) > 1000", print, every=0.02, window="1h")
    # Logged now (the watch looks at the last hour), with a slow call.
    table.log({"name": "ask", "status": "success", "latency_ms": 5000.0})
    wait_for(
        lambda: (
            stat(board, "watches")
            == {"label": "watches", "value": "1 active, 1 firing", "tone": "bad"}
        )
    )
    watch.stop()
    wait_for(lambda: stat(board, "watches") is None)
