"""A board over a drifting table shows its drift panel, the drifted count and watches.

Screenshots land in ``tests/e2e/artifacts/`` (``test_drift_board-lab-drift.png``, and the
drift notebook's board, ``test_drift_notebook-lab-board.png``).
"""

from __future__ import annotations

import pytest
from _jupyter import NotebookPage, expect
from test_board_live import BOARD, CHART, NOTEBOOKS, unique

# Monitor-shaped rows over the last hour, 10 a minute: questions get longer and the
# language changes after minute 30, a watch on the answer scores fires.
SEED = """import datetime as dt
import weave_nb as wnb

now = dt.datetime.now(dt.timezone.utc).replace(second=0, microsecond=0)
start = now - dt.timedelta(minutes=60)
t = wnb.StreamTable({name!r})
t.log([
    {{
        "_timestamp": start + dt.timedelta(minutes=m, seconds=6 * k),
        "name": "ask",
        "inputs": {{"question_len": 20 + (7 * k + m) % 30 + (25 if m >= 30 else 0),
                    "lang": ("en", "de")[k % 2] if m >= 30 else "en"}},
        "output": {{"score": ((k * 13 + m) % 10) / 10}},
        "status": "success",
        "latency_ms": 50.0 + (m * 7 + k) % 40,
        "trace_id": f"t{{m}}-{{k}}",
    }}
    for m in range(60)
    for k in range(10)
])
t.flush()
watch = t.watch("avg(inputs.question_len) > 40", print, every="1s", window="2h")
board = t.board(title={name!r})
board"""


@pytest.mark.frontends("lab")
def test_drift_board(nb: NotebookPage) -> None:
    name = unique("drift_board")
    nb.open_new("drift_board", [SEED.format(name=name)])
    nb.run_cell(0)
    board = nb.page.locator(BOARD).filter(has_text=name)
    expect(board).to_be_visible()
    drift = board.locator(CHART).filter(has_text="Drift of inputs and outputs")
    expect(drift).to_have_count(1)
    expect(drift.locator("svg")).to_be_visible()
    expect(drift).not_to_have_attribute("data-points", "0")
    expect(drift).to_contain_text("drift threshold")
    expect(board.locator('[data-stat="drifted"]')).to_contain_text("2 of 3 columns")
    expect(board.locator('[data-stat="watches"]')).to_contain_text("1 active, 1 firing")
    assert nb.unexpected_page_errors() == []
    nb.page.set_viewport_size({"width": 1280, "height": 2000})
    board.scroll_into_view_if_needed()
    nb.screenshot("drift", board)


@pytest.mark.frontends("lab")
def test_drift_notebook(nb: NotebookPage) -> None:
    nb.open_copy(NOTEBOOKS / "drift.ipynb")
    nb.run_all(timeout_ms=240_000)
    notebook = nb.page.locator(".jp-NotebookPanel:not(.lm-mod-hidden)")
    board = notebook.locator(BOARD)
    expect(board).to_have_count(1)
    drift = board.locator(CHART).filter(has_text="Drift of inputs and outputs")
    expect(drift).not_to_have_attribute("data-points", "0")
    expect(board.locator('[data-stat="drifted"]')).to_contain_text("of 4 columns")
    compare = notebook.locator(CHART).filter(has_text="reference vs current")
    expect(compare).not_to_have_attribute("data-points", "0")
    nb.page.set_viewport_size({"width": 1280, "height": 2000})
    board.scroll_into_view_if_needed()
    nb.screenshot("board", board)
    compare.scroll_into_view_if_needed()
    nb.screenshot("compare", compare)
