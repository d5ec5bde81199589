"""Every example notebook runs top to bottom offline (nbclient), writing only under a tmp root."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
NAMES = ("quickstart", "monitor_llm", "digits_feedback", "drift")

Executed = tuple[Any, Path]

# Boards grow panels from their ticker's thread (the drift panel once 200 rows are in),
# which may not have run when the last cell ends: run one refresh of every board, as its
# ticker would, so the saved widget state is that of the final table. Growing live is
# tested in test_board_drift.py.
SETTLE_BOARDS = """\
import gc
from weave_nb.widgets import Board
for board in [o for o in gc.get_objects() if isinstance(o, Board)]:
    board._refresh_stats()
"""


@pytest.fixture(scope="module")
def executed(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Executed]:
    """Run a notebook once per test session (in its own tmp dir and table root)."""
    done: dict[str, Executed] = {}

    def run(name: str) -> Executed:
        if name not in done:
            workdir = tmp_path_factory.mktemp(name)
            notebook = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)  # type: ignore[no-untyped-call]
            notebook.cells.append(nbformat.v4.new_code_cell(SETTLE_BOARDS))  # type: ignore[no-untyped-call]
            client = NotebookClient(
                notebook,
                kernel_name="python3",
                timeout=240,
                resources={"metadata": {"path": str(workdir)}},
            )
            with pytest.MonkeyPatch.context() as patch:
                patch.setenv("WEAVE_NB_ROOT", str(workdir / "tables"))
                client.execute()
            notebook.cells.pop()  # the settling cell is the harness's, not the notebook's
            done[name] = (notebook, workdir)
        return done[name]

    return run


def widget_models(notebook: Any) -> list[dict[str, Any]]:
    state = notebook.metadata.get("widgets", {}).get(
        "application/vnd.jupyter.widget-state+json", {}
    )
    return [model["state"] for model in state.get("state", {}).values()]


@pytest.mark.parametrize("name", NAMES)
def test_notebook_runs_offline(name: str, executed: Callable[[str], Executed]) -> None:
    before = sorted(p.name for p in NOTEBOOKS.iterdir())
    notebook, _ = executed(name)
    errors = [
        f"{output.ename}: {output.evalue}"
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.outputs
        if output.output_type == "error"
    ]
    assert errors == []
    assert sorted(p.name for p in NOTEBOOKS.iterdir()) == before, "the notebook wrote into the repo"
    charts = [m for m in widget_models(notebook) if "spec" in m and "runtime" in m]
    assert charts, "no chart was displayed"
    assert all(not m["error"] for m in charts if m["data"]), "a chart with data reports an error"
    # The vega runtime travels once, in one model, however many charts the notebook shows.
    assert len({m["runtime"] for m in charts}) == 1
    assert max(len(m["_esm"]) for m in charts) < 20_000


@pytest.mark.parametrize(
    ("name", "title", "panels"),
    [
        # Seeded for a monitor table: calls, latency, error rate, feedback over time (thumbs),
        # drift (the table has over 200 rows), plus two added panels.
        ("monitor_llm", "LLM calculator", 7),
        # Its agent part: calls, latency, error rate, tokens and cost by model, feedback.
        ("monitor_llm", "Agent traces", 6),
        # The same with a second feedback field (verdict), drift, plus two added panels.
        ("digits_feedback", "Digits classifier", 8),
        # Calls, latency, error rate, accuracy from `correct`, drift of inputs and outputs.
        ("drift", "Digits under drift", 5),
    ],
)
def test_boards_of_the_notebooks(
    name: str, title: str, panels: int, executed: Callable[[str], Executed]
) -> None:
    notebook, _ = executed(name)
    boards = [m for m in widget_models(notebook) if "panels" in m and "table_widget" in m]
    assert title in [board["title"] for board in boards]
    board = next(board for board in boards if board["title"] == title)
    assert len(board["panels"]) == panels
    assert {stat["label"] for stat in board["stats"]} >= {"calls", "error rate", "p50 latency"}
    if title == "Agent traces":  # LLM calls with prices: the header sums their cost
        assert "total cost" in {stat["label"] for stat in board["stats"]}
    if name == "drift":  # the noisy camera moved the inputs: the header says so
        drifted = next(stat for stat in board["stats"] if stat["label"] == "drifted")
        assert drifted["tone"] == "bad"
    models = notebook.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    panels_state = [models[ref.removeprefix("anywidget:")]["state"] for ref in board["panels"]]
    # Every feedback field the table offers has a panel: a chart, or a note saying how to
    # give feedback, never an error about a missing column.
    assert [p["error"] for p in panels_state] == [""] * panels
    table = models[board["table_widget"].removeprefix("anywidget:")]["state"]
    shown = [c["name"] for c in table["columns"] if c["name"] not in table["hidden_columns"]]
    if name == "digits_feedback":
        # The reviewer sees the digit and the prediction first, next to the feedback controls.
        assert shown[:2] == ["image", "output"]
        assert any(p["empty"].startswith("No feedback yet") for p in panels_state)
