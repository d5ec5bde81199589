"""The trace view in JupyterLab: clicking a traced row shows its tree, waterfall and details.

Looked at through ``data-role="trace"`` (with ``data-trace-id``, ``data-span-count``),
``data-span-id``/``data-depth`` per call, ``.wnb-bar`` for waterfall bars and
``data-role="span-detail"`` for the selected call; screenshots go to
``tests/e2e/artifacts/``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from _jupyter import NotebookPage, expect
from test_table import TABLE, unique


def open_trace(nb: NotebookPage, notebook: str, source: str, rows: int, root: str) -> Any:
    """Run a one-cell notebook showing a table of ``rows`` rows, click ``root``'s row, and
    return the table widget and its trace view."""
    nb.open_new(notebook, [source])
    nb.run_all()
    widget = nb.cell_output(0).locator(TABLE)
    expect(widget).to_have_attribute("data-total-rows", str(rows))
    widget.locator(".wnb-row", has_text=root).first.locator('[data-cell="name"]').click()
    return widget, widget.locator('[data-role="trace"]')


NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"

CHAIN = """import time
import weave_nb as wnb

t = wnb.StreamTable({name!r})

@wnb.monitor(table=t)
def retrieve(query):
    time.sleep(0.03)
    return ["doc about " + query]

@wnb.monitor(table=t)
def llm(prompt, model="gpt-4o"):
    time.sleep(0.06)
    usage = {{"prompt_tokens": 120, "completion_tokens": 8}}
    return {{"model": model, "text": "4", "usage": usage}}

@wnb.monitor(table=t)
def calculator(expression):
    time.sleep(0.01)
    raise ZeroDivisionError("division by zero")

@wnb.monitor(table=t)
def answer(question):
    docs = retrieve(question)
    reply = llm(f"{{docs}} {{question}}")
    try:
        calculator("1/0")
    except ZeroDivisionError:
        pass
    return reply["text"]

with wnb.session("user-42"):
    answer("what is 2+2?")
t.flush()
hidden = ["_client_id", "thumbs", "note", "trace_id", "parent_id", "start_time", "end_time"]
t.widget(hidden=hidden)"""


@pytest.mark.frontends("lab")
def test_clicking_a_row_opens_its_trace_tree_waterfall_and_details(nb: NotebookPage) -> None:
    widget, trace = open_trace(nb, "trace_chain", CHAIN.format(name=unique("chain")), 4, "answer")
    expect(trace).to_be_visible()
    expect(trace).to_have_attribute("data-span-count", "4")
    spans = trace.locator("[data-span-id]")
    expect(spans).to_have_count(4)
    names = spans.locator(".wnb-span-label").all_inner_texts()
    assert [n.rsplit(".", 1)[-1] for n in names] == ["answer", "retrieve", "llm", "calculator"]
    depths = spans.evaluate_all("els => els.map(e => e.getAttribute('data-depth'))")
    assert depths == ["0", "1", "1", "1"]
    bars = trace.locator(".wnb-bar")
    expect(bars).to_have_count(4)
    boxes = [bars.nth(i).bounding_box() for i in range(4)]
    assert boxes[0]["width"] > boxes[2]["width"] > boxes[3]["width"] > 0  # root spans them all
    assert boxes[1]["x"] < boxes[2]["x"] < boxes[3]["x"]  # steps start one after another
    expect(trace.locator(".wnb-bar-error")).to_have_count(1)
    expect(trace.locator(".wnb-dot-error")).to_have_count(1)  # the kernel's failed column
    detail = trace.locator('[data-role="span-detail"]')
    expect(detail.locator('[data-field="session_id"]')).to_contain_text("user-42")
    nb.screenshot("trace-chain", widget)

    trace.locator(".wnb-trace-spans").press("ArrowDown")  # the keys walk through the calls
    expect(spans.nth(1)).to_have_attribute("aria-selected", "true")
    expect(detail.locator('[data-field="name"]')).to_contain_text("retrieve")
    spans.nth(2).click()
    expect(detail.locator('[data-field="total_tokens"]')).to_contain_text("128")
    expect(detail.locator('[data-field="model"]')).to_contain_text("gpt-4o")
    spans.nth(3).click()
    expect(detail.locator('[data-field="exception"]')).to_contain_text("ZeroDivisionError")
    expect(detail.locator(".wnb-field-error")).to_have_attribute("data-field", "exception")
    expect(spans.nth(3)).to_have_attribute("aria-selected", "true")
    nb.screenshot("trace-error-detail", widget)


BIG = """import datetime as dt
import weave_nb as wnb

t = wnb.StreamTable({name!r})
start = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)

def span(id, parent, name, ms, took, status="success"):
    return {{"_id": id, "trace_id": "T", "parent_id": parent, "name": name, "status": status,
            "latency_ms": took, "start_time": start + dt.timedelta(milliseconds=ms)}}

rows = [span("root", None, "agent run", 0, 2000.0)]
for k in range(333):  # 1 + 333 * 3 = 1000 spans
    rows.append(span(f"k{{k}}", "root", f"step {{k}}", 6 * k, 5.0))
    rows.append(span(f"k{{k}}a", f"k{{k}}", f"tool {{k}}a", 6 * k + 1, 2.0))
    rows.append(span(f"k{{k}}b", f"k{{k}}", f"tool {{k}}b", 6 * k + 3, 2.0,
                     "error" if k % 50 == 0 else "success"))
t.log(rows)
t.flush()
t.widget(sort=[("name", "asc")], follow=False)"""


@pytest.mark.frontends("lab")
def test_a_thousand_span_trace_opens_windowed(nb: NotebookPage) -> None:
    source = BIG.format(name=unique("big"))
    widget, trace = open_trace(nb, "trace_big", source, 1000, "agent run")
    expect(trace).to_have_attribute("data-span-count", "1000")
    expect(trace.locator("[data-span-id]").first).to_be_visible()
    shown = trace.locator("[data-span-id]").count()
    assert 0 < shown < 40, f"{shown} span rows in the page: the list is not windowed"
    nb.screenshot("trace-1000", widget)
    trace.locator(".wnb-trace-spans").evaluate("el => { el.scrollTop = el.scrollHeight; }")
    last = trace.locator("[data-span-id]").last
    expect(last).to_have_attribute("data-depth", "2")
    expect(last.locator(".wnb-span-label")).to_have_text("tool 332b")
    trace.locator(".wnb-trace-spans").press("Home")
    expect(trace.locator('[data-span-id="root"]')).to_have_attribute("aria-selected", "true")
    trace.locator(".wnb-trace-spans").press("End")
    expect(trace.locator('[data-span-id="k332b"]')).to_have_attribute("aria-selected", "true")
    assert trace.locator("[data-span-id]").count() < 40

    # A call deep in the trace, clicked in the table, is scrolled into view and selected.
    widget.locator('[data-role="filter"]').fill("name = 'tool 300b'")
    widget.locator('[data-role="filter"]').press("Enter")
    expect(widget).to_have_attribute("data-matched-rows", "1")
    widget.locator(".wnb-row", has_text="tool 300b").first.locator('[data-cell="name"]').click()
    deep = trace.locator('[data-span-id="k300b"]')
    expect(deep).to_be_visible()
    expect(deep).to_have_attribute("aria-selected", "true")
    expect(trace.locator('[data-role="span-detail"] [data-field="name"]')).to_contain_text(
        "tool 300b"
    )
    nb.screenshot("trace-1000-deep", widget)


PRICED = "import weave_nb as wnb\nwnb.init(prices={'gpt-4o': {'input': 2.5, 'output': 10.0}})\n"


@pytest.mark.frontends("lab")
def test_the_trace_view_works_inside_a_board(nb: NotebookPage) -> None:
    source = CHAIN.format(name=unique("board_chain")).replace(
        "t.widget(hidden=hidden)", "t.board(title='Agent')"
    )
    source = source.replace("import weave_nb as wnb\n", PRICED)
    nb.open_new("trace_board", [source])
    nb.run_all()
    board = nb.cell_output(0).locator('[data-weave-nb="board"]')
    widget = board.locator(TABLE)
    expect(widget).to_have_attribute("data-total-rows", "4")
    widget.locator(".wnb-row", has_text="answer").first.locator('[data-cell="name"]').click()
    trace = widget.locator('[data-role="trace"]')
    expect(trace.locator("[data-span-id]")).to_have_count(4)
    expect(trace.locator(".wnb-bar")).to_have_count(4)
    trace.scroll_into_view_if_needed()
    nb.screenshot("trace-in-board", widget)
    titles = board.locator('[data-weave-nb="chart"]').evaluate_all(
        "charts => charts.map(c => c.closest('[data-panel]')?.textContent ?? c.textContent)"
    )
    assert any("Tokens per call" in t for t in titles), titles
    expect(board).to_contain_text("total cost")
    nb.page.set_viewport_size({"width": 1280, "height": 1800})  # the whole board in view
    board.scroll_into_view_if_needed()
    nb.screenshot("board-tokens-cost", board)
    app = "window.jupyterapp.commands"
    try:  # the trace view follows JupyterLab's dark theme like the table does
        nb.page.evaluate(
            f"() => {app}.execute('apputils:change-theme', {{theme: 'JupyterLab Dark'}})"
        )
        nb.page.wait_for_function("() => document.body.dataset.jpThemeLight === 'false'")
        expect(nb.page.locator("#jupyterlab-splash")).to_have_count(0)  # the theme switch's overlay
        background = trace.evaluate("el => getComputedStyle(el).backgroundColor")
        assert background not in {"rgb(255, 255, 255)", "white"}, background
        nb.screenshot("trace-dark", widget)
    finally:
        nb.page.evaluate(
            f"() => {app}.execute('apputils:change-theme', {{theme: 'JupyterLab Light'}})"
        )
        nb.page.wait_for_function("() => document.body.dataset.jpThemeLight === 'true'")


@pytest.mark.frontends("lab")
def test_the_example_notebook_opens_agent_traces(nb: NotebookPage) -> None:
    nb.open_copy(NOTEBOOKS / "monitor_llm.ipynb")
    nb.run_all(timeout_ms=240_000)
    board = nb.page.locator('[data-weave-nb="board"]', has_text="Agent traces")
    expect(board).to_contain_text("total cost")
    widget = board.locator(TABLE)
    # The newest rows are the OpenTelemetry spans: their trace opens the same way.
    widget.locator(".wnb-row", has_text="otel_agent").last.locator('[data-cell="name"]').click()
    trace = widget.locator('[data-role="trace"]')
    expect(trace.locator("[data-span-id]")).to_have_count(3)
    names = trace.locator(".wnb-span-label").all_inner_texts()
    assert names == ["otel_agent", "chat sim-gpt-4o", "calculator"], names
    # A monitored agent call: its steps under it.
    widget.locator('[data-role="filter"]').fill("name = 'agent'")
    widget.locator('[data-role="filter"]').press("Enter")
    expect(widget).to_have_attribute("data-matched-rows", "24")
    widget.locator(".wnb-row").first.locator('[data-cell="name"]').click()
    expect(trace.locator(".wnb-span-label").first).to_have_text("agent")
    names = trace.locator(".wnb-span-label").all_inner_texts()
    assert {"retrieve", "chat_model"} <= set(names), names
    trace.scroll_into_view_if_needed()
    nb.screenshot("notebook-agent-trace", widget)
