"""Log → visible: how long a row logged in a busy cell takes to show in the page (issue 11).

A cell logs 100 rows at a steady 10 rows/s and keeps the kernel busy throughout, so
every update must come from the widget's background ticker, never from a request the
browser makes. The kernel notes the wall-clock time of each ``log()``; the page notes,
with a ``MutationObserver`` on the widget, when the row count (``data-total-rows``)
and the newest row shown (the view follows the tail) change. Kernel and browser run on
one machine, so both read the same clock.
"""

from __future__ import annotations

import json
import statistics
import uuid

import pytest
from _jupyter import NotebookPage, expect

TABLE = '[data-weave-nb="table"]'
ROWS = 100
RATE = 10.0  # rows per second

# The goal (issue 11). Measured on a 2-core machine: p95 about 200 ms (the ticker pushes
# at most 5 times a second), the same with both cores kept busy by other processes, so
# the bound holds with a wide margin.
P95_BOUND_MS = 500.0

# Notes, for each change of the widget, the time (ms since the epoch, as Python's
# time.time() * 1000) and the row count / newest step shown. Mutation callbacks run
# right after the DOM changes, before the next paint.
_JS_WATCH = """root => {
    const seen = (window.__weaveNbSeen = { totals: [], steps: [] });
    const now = () => performance.timeOrigin + performance.now();
    const note = () => {
        const t = now();
        const total = Number(root.dataset.totalRows);
        const totals = seen.totals;
        if (!totals.length || totals[totals.length - 1][1] !== total) totals.push([t, total]);
        const cells = root.querySelectorAll('[data-row-id] [data-cell="step"]');
        const last = cells.length ? cells[cells.length - 1].textContent : '';
        const step = last ? Number(last.replace(/,/g, '')) : NaN;
        const steps = seen.steps;
        if (!Number.isNaN(step) && (!steps.length || steps[steps.length - 1][1] !== step)) {
            steps.push([t, step]);
        }
    };
    new MutationObserver(note).observe(root, {
        attributes: true, childList: true, subtree: true, characterData: true,
    });
    note();
}"""


def _delays(sent_ms: list[float], seen: list[list[float]], reached: int) -> list[float]:
    """Delay of each logged row ``i`` until the first change whose value reached ``reached + i``."""
    delays = []
    for i, sent in enumerate(sent_ms):
        first = next((t for t, value in seen if value >= reached + i), None)
        assert first is not None, f"row {i} never showed ({seen[-3:]})"
        delays.append(first - sent)
    return delays


def _p(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


@pytest.mark.frontends("lab")
def test_a_logged_row_shows_within_half_a_second(nb: NotebookPage) -> None:
    name = f"latency_{uuid.uuid4().hex[:8]}"
    nb.open_new(
        "table_latency",
        [
            f"import json, time\nimport weave_nb as wnb\n"
            f"t = wnb.StreamTable({name!r})\nt.log({{'step': -1}})\nt",
            # The pacing sleeps are the workload (a steady rate), not a wait in the test.
            f"sent = []\nstart = time.time() + 0.2\nfor i in range({ROWS}):\n"
            f"    time.sleep(max(0.0, start + i / {RATE} - time.time()))\n"
            "    sent.append(time.time() * 1000)\n"
            "    t.log({'step': i})\n"
            # Busy a little longer, so the last rows too are pushed while the cell runs.
            "time.sleep(1.0)\n"
            "print(json.dumps(sent))",
        ],
    )
    nb.run_cell(0)
    widget = nb.cell_output(0).locator(TABLE)
    expect(widget).to_have_attribute("data-total-rows", "1")
    expect(widget.locator('[data-row-id] [data-cell="step"]')).to_have_text("-1")
    widget.evaluate(_JS_WATCH)

    run = nb.start_run(1)
    expect(nb.cell(1).locator(".jp-InputPrompt")).to_have_text("[*]:")
    nb.wait_for_run(run)
    nb.page.wait_for_function(
        f"() => window.__weaveNbSeen.steps.some(([, step]) => step >= {ROWS - 1})"
    )
    sent = json.loads(nb.output_text(1))
    seen = nb.page.evaluate("() => window.__weaveNbSeen")
    assert len(sent) == ROWS

    count = _delays(sent, seen["totals"], reached=2)
    row = _delays(sent, seen["steps"], reached=0)
    figures = {
        label: (_p(values, 50), _p(values, 95), max(values))
        for label, values in (("row count", count), ("newest row", row))
    }
    for label, (p50, p95, worst) in figures.items():
        print(
            f"log → {label} in the page ({ROWS} rows at {RATE:g}/s, busy cell):"
            f" p50 {p50:.0f} ms, p95 {p95:.0f} ms, max {worst:.0f} ms"
        )
    for label, (_p50, p95, _worst) in figures.items():
        assert p95 <= P95_BOUND_MS, f"{label}: p95 {p95:.0f} ms > {P95_BOUND_MS:.0f} ms"
