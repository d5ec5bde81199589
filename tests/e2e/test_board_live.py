"""Boards, live charts and the example notebooks in a real JupyterLab (issue 5).

Looks at the board through its testing contract: the root ``data-weave-nb="board"`` holds
chart roots ``data-weave-nb="chart"`` with ``data-points`` (data points drawn) and the
table widget ``data-weave-nb="table"``. Screenshots land in ``tests/e2e/artifacts/``; those
of the example notebooks (``test_example_notebook-lab-<name>.png``) are the README's.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from _jupyter import NotebookPage, expect

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
BOARD = '[data-weave-nb="board"]'
CHART = '[data-weave-nb="chart"]'
TABLE = '[data-weave-nb="table"]'

# Monitor-shaped rows, three calls a minute over 50 minutes of the last hour (one-minute
# buckets), all failing in minute 40: an error spike. Rows logged later go into minutes 50
# to 58, new buckets that keep the span (and so the adaptive bucket width) the same.
SEED = """import datetime as dt
import weave_nb as wnb
from weave_nb.widgets.board import Board

now = dt.datetime.now(dt.timezone.utc).replace(second=0, microsecond=0)
start = now - dt.timedelta(minutes=60)
t = wnb.StreamTable({name!r})
t.log([
    {{
        "_timestamp": start + dt.timedelta(minutes=m, seconds=10 * k),
        "name": "ask",
        "inputs": {{"question": f"q{{m}}-{{k}}"}},
        "output": None if m == 40 else f"a{{m}}",
        "status": "error" if m == 40 else "success",
        "exception": {{"type": "TimeoutError", "message": "upstream"}} if m == 40 else None,
        "latency_ms": 50.0 + m + 5 * k,
        "trace_id": f"t{{m}}-{{k}}",
    }}
    for m in range(50)
    for k in range(3)
])
t.flush()
board = Board(t)
board"""


GIVE_FEEDBACK = "t.annotate(t.window(0, 1).column('_id')[0].as_py(), {'thumbs': 'up'})"


def unique(name: str) -> str:
    return f"{name}_{uuid.uuid4().hex[:8]}"


def board_of(nb: NotebookPage, name: str) -> Any:
    """The board titled ``name`` (Lab may keep an earlier test's notebook open in a hidden tab)."""
    return nb.page.locator(BOARD).filter(has_text=name)


def screenshot(nb: NotebookPage, label: str, target: Any, width: int = 1280) -> None:
    """Screenshot ``target`` whole: a board is taller than the default viewport."""
    nb.page.set_viewport_size({"width": width, "height": 2000})
    target.scroll_into_view_if_needed()
    nb.screenshot(label, target)


def fit_board(nb: NotebookPage, board: Any, width: int) -> int:
    """Size the page so the board is ``width`` px wide (Lab's side bars take the rest)."""
    viewport = width + 430
    for _ in range(3):
        nb.page.set_viewport_size({"width": viewport, "height": 2000})
        actual = round(board.bounding_box()["width"])
        if abs(actual - width) <= 8:
            break
        viewport += width - actual
    return viewport


# What is wrong with the board's layout, as text ([] when nothing): overlapping panels, a
# chart wider than its panel (clipped), header stats or the table sticking out of the board.
_LAYOUT_PROBLEMS = """(board) => {
  const box = (el) => el.getBoundingClientRect();
  const outer = box(board);
  const problems = [];
  const inside = (name, r) => {
    if (r.left < outer.left - 1 || r.right > outer.right + 1) problems.push(`${name} sticks out`);
  };
  const panels = [...board.querySelectorAll(".weave-nb-board-panel")].map(box);
  panels.forEach((a, i) => panels.slice(i + 1).forEach((b, j) => {
    const overlap = Math.min(a.right, b.right) - Math.max(a.left, b.left) > 1
      && Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top) > 1;
    if (overlap) problems.push(`panels ${i} and ${i + j + 1} overlap`);
  }));
  board.querySelectorAll(".weave-nb-board-panel").forEach((panel, i) => {
    const p = box(panel);
    inside(`panel ${i}`, p);
    const svg = panel.querySelector("svg");
    if (!svg) { problems.push(`panel ${i} has no chart`); return; }
    const s = box(svg);
    if (s.right > p.right + 1 || s.width < p.width * 0.6) {
      problems.push(`chart ${i} is ${Math.round(s.width)} px in a ${Math.round(p.width)} px panel`);
    }
  });
  board.querySelectorAll("[data-stat]").forEach((el) => inside(`stat ${el.dataset.stat}`, box(el)));
  const table = board.querySelector('[data-weave-nb="table"]');
  if (table) inside("table", box(table));
  const columns = new Set(panels.map((r) => Math.round(r.left))).size;
  return { problems, columns };
}"""


# The colour vega paints under a chart: its background rect, else the svg's own style.
_BACKDROP = """(svg) => {
  const rect = svg.querySelector("rect.background");
  return (rect && rect.getAttribute("fill")) || getComputedStyle(svg).backgroundColor;
}"""


def layout(board: Any) -> dict[str, Any]:
    found: dict[str, Any] = board.evaluate(_LAYOUT_PROBLEMS)
    return found


def points(chart: object) -> int:
    return int(chart.get_attribute("data-points"))  # type: ignore[attr-defined]


def run_finished(nb: NotebookPage, run: object) -> bool:
    return bool(nb.page.evaluate("(id) => window.__weaveNbRuns[id].done", run.run_id))  # type: ignore[attr-defined]


def test_board_renders_and_grows_while_a_cell_logs(nb: NotebookPage) -> None:
    name = unique("board_live")
    nb.open_new(
        "board_live",
        [
            SEED.format(name=name),
            """import time
for m in range(50, 59):
    t.log({"_timestamp": start + dt.timedelta(minutes=m), "name": "ask",
           "inputs": {"question": "live"}, "output": "ok", "status": "success",
           "latency_ms": 80.0, "trace_id": f"live{m}"})
    time.sleep(0.5)""",
        ],
    )
    nb.run_cell(0)
    board = board_of(nb, name)
    expect(board).to_be_visible()
    charts = board.locator(CHART)
    expect(charts).to_have_count(4)  # calls, latency, error rate, feedback over time
    expect(board.locator(TABLE)).to_have_attribute("data-total-rows", "150")
    volume = charts.nth(0)
    expect(volume.locator("svg")).to_be_visible()
    expect(volume).to_have_attribute("data-points", "50")  # one bar per minute
    before = points(volume)
    expect(board.locator('[data-stat="calls"]')).to_contain_text("150")
    screenshot(nb, "before", board)

    run = nb.start_run(1)
    # The logging cell keeps the kernel busy; the charts must update meanwhile.
    nb.page.wait_for_function(
        "([el, n]) => Number(el.getAttribute('data-points')) > n",
        arg=[volume.element_handle(), before],
        timeout=20_000,
    )
    assert not run_finished(nb, run), "the chart only updated after the cell finished"
    nb.wait_for_run(run)
    expect(board.locator(TABLE)).to_have_attribute("data-total-rows", "159")
    expect(board.locator('[data-stat="calls"]')).to_contain_text("159")
    expect(volume).to_have_attribute("data-points", "59")
    screenshot(nb, "after", board)


def check_layout_at_two_widths(nb: NotebookPage, board: Any) -> None:
    """Two columns of panels in a notebook-width board, three in a wide one; nothing
    overlaps or is clipped, and the charts follow their panel's width."""
    for width, columns in ((850, 2), (1400, 3)):
        viewport = fit_board(nb, board, width)
        nb.page.wait_for_function(
            f"(b) => ({_LAYOUT_PROBLEMS})(b).problems.length === 0",
            arg=board.element_handle(),
            timeout=10_000,
        )
        assert layout(board) == {"problems": [], "columns": columns}
        screenshot(nb, f"width-{width}", board, viewport)


def check_dark_theme(nb: NotebookPage, board: Any) -> None:
    """In JupyterLab Dark the charts' text follows the theme and no white canvas shows."""
    charts = board.locator(CHART)
    app = "window.jupyterapp.commands"
    label = charts.nth(0).locator(".role-axis-label text").first
    light_fill = label.get_attribute("fill")
    try:
        nb.page.evaluate(
            f"() => {app}.execute('apputils:change-theme', {{theme: 'JupyterLab Dark'}})"
        )
        nb.page.wait_for_function("() => document.body.dataset.jpThemeLight === 'false'")
        expect(label).not_to_have_attribute("fill", light_fill or "")
        muted = nb.page.evaluate(
            "() => getComputedStyle(document.body).getPropertyValue('--jp-ui-font-color2').trim()"
        )
        expect(charts.nth(0).locator(".role-axis-label text").first).to_have_attribute(
            "fill", muted
        )
        backdrop = charts.nth(0).locator("svg").first.evaluate(_BACKDROP)
        assert backdrop not in {"white", "#fff", "#ffffff", "rgb(255, 255, 255)"}, backdrop
        screenshot(nb, "dark", board)
    finally:
        nb.page.evaluate(
            f"() => {app}.execute('apputils:change-theme', {{theme: 'JupyterLab Light'}})"
        )
        nb.page.wait_for_function("() => document.body.dataset.jpThemeLight === 'true'")


def check_feedback_empty_state_goes_live(nb: NotebookPage, board: Any, cell: int) -> None:
    """The feedback panel says how to give feedback; running ``cell`` (which gives some)
    turns the note into the chart, live."""
    feedback = board.locator(CHART).nth(3)
    note = feedback.locator('[data-role="empty"]')
    expect(note).to_contain_text("No feedback yet — use 👍/👎 in the table below")
    expect(note).to_contain_text("Feedback over time")  # the panel keeps its title
    nb.run_cell(cell)
    expect(note).to_be_hidden()
    expect(feedback).to_have_attribute("data-points", "1")


@pytest.mark.frontends("lab")
def test_clicking_the_error_spike_filters_the_table(nb: NotebookPage) -> None:
    name = unique("board_click")
    nb.open_new("board_click", [SEED.format(name=name), "board.table_widget.filter", GIVE_FEEDBACK])
    nb.run_cell(0)
    board = board_of(nb, name)
    errors = board.locator(CHART).nth(2)
    expect(errors).not_to_have_attribute("data-points", "0")
    table = board.locator(TABLE)
    expect(table.locator("[data-row-id]").first).to_be_visible()

    # The spike is the only bar with a height: the tallest path of the bar mark.
    bars = errors.locator(".mark-rect path")
    heights = bars.evaluate_all("els => els.map(e => e.getBBox().height)")
    spike = bars.nth(max(range(len(heights)), key=heights.__getitem__))
    spike.click()

    expect(board.locator('[data-role="selection"]')).to_contain_text("errors in")
    rows = table.locator("[data-row-id]")
    expect(rows).to_have_count(3)
    for i in range(3):
        expect(rows.nth(i)).to_contain_text("TimeoutError")
    screenshot(nb, "spike-selected", board)

    nb.run_cell(1)
    assert "status" in nb.output_text(1)

    board.locator('[data-role="clear-selection"]').click()
    expect(board.locator('[data-role="selection"]')).to_be_hidden()
    # The unfiltered rows replace the three filtered ones: a fourth row appears.
    expect(rows.nth(3)).to_be_visible()

    # The same board (a notebook and a kernel cost ~10 s, so they are shared): layout at two
    # widths, the dark theme, and the feedback panel's empty state turning into a chart.
    check_layout_at_two_widths(nb, board)
    check_dark_theme(nb, board)
    check_feedback_empty_state_goes_live(nb, board, cell=2)


@pytest.mark.frontends("lab")
@pytest.mark.parametrize(
    ("name", "boards", "charts"),
    [("quickstart", 0, 3), ("monitor_llm", 2, 13), ("digits_feedback", 1, 8)],
)
def test_example_notebook(nb: NotebookPage, name: str, boards: int, charts: int) -> None:
    nb.open_copy(NOTEBOOKS / f"{name}.ipynb")
    nb.run_all(timeout_ms=240_000)
    notebook = nb.page.locator(".jp-NotebookPanel:not(.lm-mod-hidden)")
    expect(notebook.locator(BOARD)).to_have_count(boards)
    expect(notebook.locator(CHART)).to_have_count(charts)
    drawn = notebook.locator(f"{CHART}:not([data-points='0'])")
    expect(drawn.first).to_be_visible()
    expect(notebook.locator(TABLE).first).to_be_visible()
    target = notebook.locator(BOARD).first if boards else notebook.locator(CHART).nth(1)
    screenshot(nb, name, target)
