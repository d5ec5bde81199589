"""The live table widget in a real JupyterLab and Notebook 7 (issue 4).

Every test looks at the widget through the testing contract attributes
(``data-weave-nb``, ``data-total-rows``, ``data-row-id``, ``data-column``,
``data-feedback``, ``data-role="filter"``) and saves a screenshot of it under
``tests/e2e/artifacts/``.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from _jupyter import NotebookPage, expect

TABLE = '[data-weave-nb="table"]'
XSS = "<img src=x onerror=window.__weave_nb_xss=1>"


def unique(name: str) -> str:
    """A table name unused by earlier tests (tables persist for the session)."""
    return f"{name}_{uuid.uuid4().hex[:8]}"


def row_ids(widget: Any) -> list[str]:
    """``data-row-id`` of the rendered rows, top to bottom."""
    ids: list[str] = widget.locator("[data-row-id]").evaluate_all(
        "rows => rows.map(r => r.getAttribute('data-row-id'))"
    )
    return ids


def resize_widget(nb: NotebookPage, widget: Any, width: int) -> None:
    """Make ``widget`` about ``width`` px wide by resizing the page (side panel closed)."""
    nb.page.evaluate("() => window.jupyterapp.shell.collapseLeft?.()")
    viewport = width + 250
    for _ in range(2):  # the second pass corrects for the notebook's margins
        nb.page.set_viewport_size({"width": viewport, "height": 900})
        nb.page.wait_for_timeout(100)
        viewport += width - round(widget.bounding_box()["width"])


def assert_nothing_covered(widget: Any, *, fits: bool = False) -> None:
    """Every data column can be seen: scrolled fully right, none ends under the
    sticky feedback column, and rows line up with the header. ``fits``: the
    columns fit the widget, so nothing needs scrolling sideways either."""
    scroller = widget.locator(".wnb-scroller")
    if fits:
        overflow = scroller.evaluate("el => el.scrollWidth - el.clientWidth")
        assert overflow <= 0, f"columns overflow by {overflow}px"
    scroller.evaluate("el => { el.scrollLeft = el.scrollWidth; }")
    geometry = widget.evaluate(
        """root => {
            const box = el => el.getBoundingClientRect();
            const heads = [...root.querySelectorAll('.wnb-header [data-column]')];
            const cells = [...root.querySelector('[data-row-id]').children];
            return {
                lastRight: box(heads[heads.length - 1]).right,
                feedbackLeft: box(root.querySelector('.wnb-fb-th')).left,
                heads: [...heads, root.querySelector('.wnb-fb-th')].map(h => box(h).left),
                cells: cells.map(c => box(c).left),
            };
        }"""
    )
    assert geometry["lastRight"] <= geometry["feedbackLeft"] + 1, geometry
    assert geometry["heads"] == pytest.approx(geometry["cells"], abs=1), geometry
    scroller.evaluate("el => { el.scrollLeft = 0; }")


def test_rows_images_and_text_as_text(nb: NotebookPage) -> None:
    name = unique("images")
    nb.open_new(
        "table_images",
        [
            f"""import numpy as np
import weave_nb as wnb
t = wnb.StreamTable({name!r})
rng = np.random.default_rng(0)
for i in range(6):
    pixels = np.zeros((120, 160, 3), np.uint8)
    pixels[:, :, i % 3] = 60 + 30 * i
    pixels[20 + 10 * i : 60 + 10 * i, 40:120] = 255
    t.log({{
        "_id": f"img{{i}}",
        "image": wnb.Image(pixels),
        "latency_ms": 12.5 * (i + 1) ** 2,
        "ok": i % 2 == 0,
        "prompt": {XSS!r} if i == 0 else "a long prompt " * 300 if i == 1 else f"prompt {{i}}",
        "meta": {{"model": "m1", "tokens": [i, i * 2]}},
        "error": "ValueError: bad input" if i == 4 else None,
    }})
t""",
        ],
    )
    nb.run_all()
    widget = nb.cell_output(0).locator(TABLE)
    expect(widget).to_have_attribute("data-total-rows", "6")
    expect(widget.locator("[data-row-id]")).to_have_count(6)
    expect(widget.locator('[data-row-id="img3"] img')).to_be_visible()
    expect(widget.locator("[data-row-id] img")).to_have_count(6)
    for column in ("_id", "_timestamp", "image", "latency_ms", "ok", "prompt", "meta", "error"):
        expect(widget.locator(f'[data-column="{column}"]')).to_have_count(1)

    # The markup arrives as text: shown literally, no element created, nothing run.
    xss_cell = widget.locator('[data-row-id="img0"] [data-cell="prompt"]')
    expect(xss_cell).to_have_text(XSS)
    assert xss_cell.locator("img").count() == 0
    assert nb.page.evaluate("() => window.__weave_nb_xss === undefined")

    # Cell formatting: numbers, booleans, nested JSON, error rows.
    expect(widget.locator('[data-row-id="img1"] [data-cell="latency_ms"]')).to_have_text("50")
    expect(widget.locator('[data-row-id="img0"] [data-cell="ok"]')).to_have_text("✓")
    expect(widget.locator('[data-row-id="img1"] [data-cell="ok"]')).to_have_text("✗")
    expect(widget.locator('[data-row-id="img2"] [data-cell="meta"]')).to_have_text(
        '{"model":"m1","tokens":[2,4]}'
    )
    expect(widget.locator('[data-row-id="img4"]')).to_have_class("wnb-row wnb-error")
    nb.screenshot("table", widget)

    # Long text arrives cut short; expanding it fetches the whole value from the kernel.
    long_text = widget.locator('[data-row-id="img1"] [data-cell="prompt"]')
    expect(long_text).to_have_attribute("data-cut", "true")
    long_text.click()
    detail = widget.locator('[data-role="detail"] pre')
    expect(detail).to_have_text("a long prompt " * 300)
    widget.locator('[data-role="detail"] [aria-label="close"]').click()

    # Clicking a thumbnail opens the full-size image from the kernel.
    widget.locator('[data-row-id="img3"] img').click()
    full = widget.locator('[data-role="detail"] img')
    expect(full).to_be_visible()
    assert full.evaluate("img => img.naturalWidth") == 160
    nb.screenshot("full-image", widget)


def test_total_grows_while_a_cell_logs_in_a_tight_loop(nb: NotebookPage) -> None:
    name = unique("live")
    nb.open_new(
        "table_live",
        [
            f"import time\nimport weave_nb as wnb\n"
            f"t = wnb.StreamTable({name!r})\nt.log({{'step': -1}})\nt",
            # A tight loop (no sleep): the view must update from the ticker thread.
            "end = time.monotonic() + 6\nn = 0\n"
            "while time.monotonic() < end and n < 2_000_000:\n"
            "    t.log({'step': n, 'latency_ms': n % 1000 / 3})\n    n += 1\n"
            "print('logged', n)",
            "t.flush()\nprint(len(t))",
        ],
    )
    nb.run_cell(0)
    widget = nb.cell_output(0).locator(TABLE)
    expect(widget).to_have_attribute("data-total-rows", "1")

    run = nb.start_run(1)
    panel = nb.page.evaluate("() => window.jupyterapp.shell.currentWidget.id")
    selector = f"[id='{panel}'] {TABLE}"
    total = f"Number(document.querySelector({selector!r}).dataset.totalRows)"
    nb.page.wait_for_function(f"() => {total} > 1000")
    first = nb.page.evaluate(f"() => {total}")
    nb.page.wait_for_function(f"() => {total} > {first}")
    # The newest rows arrive too, pushed while the loop runs (the cell has not finished).
    expect(widget.locator("[data-row-id]").first).to_be_visible()
    expect(nb.cell(1).locator(".jp-InputPrompt")).to_have_text("[*]:")
    nb.screenshot("while-logging", widget)

    # Scrolled up, the view stops following and counts new rows; rows it must ask
    # for wait for the busy kernel, and the view says so.
    widget.locator(".wnb-scroller").evaluate("el => { el.scrollTop = el.scrollHeight / 3; }")
    expect(widget.locator('[data-role="new-rows"]')).to_be_visible()
    expect(widget.locator('[data-role="new-rows"]')).to_contain_text("new rows")
    expect(widget.locator('[data-role="busy"]')).to_be_visible()
    nb.screenshot("scrolled-up-busy", widget)
    nb.wait_for_run(run)
    expect(widget.locator('[data-role="busy"]')).to_be_hidden()
    widget.locator('[data-role="new-rows"]').click()
    expect(widget.locator('[data-role="new-rows"]')).to_be_hidden()

    nb.run_cell(2)
    final = nb.output_text(2).strip()
    expect(widget).to_have_attribute("data-total-rows", final)
    # Following the tail: the newest row is the last one shown.
    last_step = widget.locator("[data-row-id]").last.locator('[data-cell="step"]')
    expect(last_step).to_have_text(f"{int(final) - 2:,}")
    nb.screenshot("after-logging", widget)


def test_sort_filter_and_columns(nb: NotebookPage) -> None:
    name = unique("sort")
    latencies = [120, 900, 40, 650, 300, 820, 10, 510]
    nb.open_new(
        "table_sort",
        [
            f"""import weave_nb as wnb
t = wnb.StreamTable({name!r})
for i, ms in enumerate({latencies!r}):
    t.log({{"_id": f"r{{i}}", "latency_ms": ms, "status": "error" if i in (1, 3, 5) else "ok"}})
t""",
        ],
    )
    nb.run_all()
    widget = nb.cell_output(0).locator(TABLE)
    expect(widget.locator("[data-row-id]")).to_have_count(8)
    log_order = [f"r{i}" for i in range(8)]
    assert row_ids(widget) == log_order
    ascending = [f"r{i}" for i in sorted(range(8), key=lambda i: latencies[i])]

    header = widget.locator('[data-column="latency_ms"]')
    header.click()
    expect(header).to_have_attribute("aria-sort", "ascending")
    expect(widget.locator("[data-row-id]").first).to_have_attribute("data-row-id", ascending[0])
    assert row_ids(widget) == ascending
    nb.screenshot("sorted-asc", widget)
    header.click()
    expect(header).to_have_attribute("aria-sort", "descending")
    expect(widget.locator("[data-row-id]").first).to_have_attribute("data-row-id", ascending[-1])
    assert row_ids(widget) == ascending[::-1]
    header.click()
    expect(header).to_have_attribute("aria-sort", "none")
    expect(widget.locator("[data-row-id]").first).to_have_attribute("data-row-id", "r0")
    assert row_ids(widget) == log_order

    box = widget.locator('[data-role="filter"]')
    box.fill("latency_ms > 500 and status = 'error'")
    box.press("Enter")
    expect(widget.locator("[data-row-id]")).to_have_count(3)
    assert row_ids(widget) == ["r1", "r3", "r5"]
    expect(widget.locator('[data-role="count"]')).to_have_text("3 of 8 rows")
    nb.screenshot("filtered", widget)

    box.fill("latency_ms > and")
    box.press("Enter")
    error = widget.locator('[data-role="filter-error"]')
    expect(error).to_be_visible()
    expect(error).to_contain_text("syntax error")
    nb.screenshot("filter-error", widget)

    box.fill("")
    box.press("Enter")
    expect(error).to_be_hidden()
    expect(widget.locator("[data-row-id]")).to_have_count(8)

    widget.locator('[data-role="columns"]').click()
    widget.locator('[data-toggle-column="status"]').uncheck()
    expect(widget.locator('[data-column="status"]')).to_have_count(0)
    expect(widget.locator('[data-cell="status"]')).to_have_count(0)
    nb.screenshot("column-hidden", widget)


def test_feedback_is_stored_and_shown_in_every_view(nb: NotebookPage) -> None:
    name = unique("feedback")
    nb.open_new(
        "table_feedback",
        [
            f"""import weave_nb as wnb
t = wnb.StreamTable({name!r})
t.log([{{"_id": f"f{{i}}", "answer": f"answer {{i}}"}} for i in range(5)])
w = t.widget(feedback={{"label": ["correct", "wrong", "unsure"]}})
w""",
            "w2 = t.widget()\nw2",
            'print(t.to_pandas().set_index("_id").loc["f2", ["thumbs", "note", "label"]].tolist())',
            't.annotate("f4", {"thumbs": "down"})',
            'print(w.selected["_id"], w.selected["answer"])',
        ],
    )
    nb.run_cell(0)
    nb.run_cell(1)
    first = nb.cell_output(0).locator(TABLE)
    second = nb.cell_output(1).locator(TABLE)
    expect(second.locator("[data-row-id]")).to_have_count(5)

    row = first.locator('[data-row-id="f2"]')
    row.locator('[data-feedback="up"]').click()
    expect(row.locator('[data-feedback="up"]')).to_have_attribute("aria-pressed", "true")
    # The other view of the same table shows it too (pushed by the kernel).
    expect(second.locator('[data-row-id="f2"] [data-feedback="up"]')).to_have_attribute(
        "aria-pressed", "true"
    )
    note = row.locator('[data-feedback="note"]')
    note.fill("looks right")
    note.press("Enter")
    expect(second.locator('[data-row-id="f2"] [data-feedback="note"]')).to_have_value("looks right")
    row.locator('[data-feedback="label"]').select_option("correct")
    # The second view has no label control: there, the label is an ordinary column.
    expect(second.locator('[data-row-id="f2"] [data-cell="label"]')).to_have_text("correct")
    # Feedback fields are not repeated as data columns beside the controls...
    expect(first.locator('[data-column="thumbs"]')).to_have_count(0)
    for width in (850, 1100):
        resize_widget(nb, first, width)
        assert_nothing_covered(first, fits=True)
        nb.screenshot(f"feedback-{width}px", first)
    # ...but the Columns menu shows them.
    first.locator('[data-role="columns"]').click()
    first.locator('[data-toggle-column="label"]').check()
    expect(first.locator('[data-row-id="f2"] [data-cell="label"]')).to_have_text("correct")
    first.locator('[data-role="columns"]').click()
    assert_nothing_covered(first)

    nb.run_cell(2)
    assert nb.output_text(2) == "['up', 'looks right', 'correct']\n"

    # Programmatic annotations appear in the widget.
    nb.run_cell(3)
    expect(first.locator('[data-row-id="f4"] [data-feedback="down"]')).to_have_attribute(
        "aria-pressed", "true"
    )

    # Selecting a row exposes it in Python.
    first.locator('[data-row-id="f1"] [data-cell="answer"]').click()
    expect(first.locator('[data-row-id="f1"]')).to_have_attribute("aria-selected", "true")
    nb.run_cell(4)
    assert nb.output_text(4) == "f1 answer 1\n"
    nb.screenshot("selected", first)


# Effective text and background colors of an element, composited over its
# ancestors' backgrounds on a 1x1 canvas (which also resolves color-mix() and
# alpha), and their WCAG contrast ratio.
CONTRAST_JS = """el => {
    const canvas = document.createElement('canvas');
    canvas.width = canvas.height = 1;
    const ctx = canvas.getContext('2d', { willReadFrequently: true });
    const layers = [];
    for (let node = el; node; node = node.parentElement) {
        layers.unshift(getComputedStyle(node).backgroundColor);
    }
    ctx.fillStyle = '#fff';
    ctx.fillRect(0, 0, 1, 1);
    for (const color of layers) { ctx.fillStyle = color; ctx.fillRect(0, 0, 1, 1); }
    const bg = [...ctx.getImageData(0, 0, 1, 1).data];
    ctx.fillStyle = getComputedStyle(el).color;
    ctx.fillRect(0, 0, 1, 1);
    const fg = [...ctx.getImageData(0, 0, 1, 1).data];
    const lum = ([r, g, b]) => {
        const c = [r, g, b].map(v => v / 255).map(
            v => v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);
        return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
    };
    const [hi, lo] = [lum(fg), lum(bg)].sort((a, b) => b - a);
    return { ratio: (hi + 0.05) / (lo + 0.05), fg, bg };
}"""


@pytest.mark.frontends("lab")
def test_monitor_table_with_errors_in_light_and_dark_theme(nb: NotebookPage) -> None:
    name = unique("monitor")
    nb.open_new(
        "table_monitor",
        [
            f"""import weave_nb as wnb
t = wnb.StreamTable({name!r})

@wnb.monitor(table=t)
def classify(text: str, threshold: float = 0.5) -> dict:
    if len(text) % 4 == 0:
        raise ValueError(f"cannot classify {{text[:12]!r}}: the input is too ambiguous to label")
    return {{"label": "positive" if len(text) % 3 else "negative", "score": len(text) / 40}}

for i in range(30):
    try:
        classify("review " + "x" * i, threshold=0.3)
    except ValueError:
        pass
t.flush()
t.widget(height=520)""",
        ],
    )
    nb.run_all()
    widget = nb.cell_output(0).locator(TABLE)
    expect(widget).to_have_attribute("data-total-rows", "30")
    for column in ("name", "inputs", "output", "status", "exception", "latency_ms", "trace_id"):
        expect(widget.locator(f'[data-column="{column}"]')).to_have_count(1)
    failed = widget.locator('[data-row-id]:has([data-cell="status"]:text-is("error"))')
    expect(failed.nth(2)).to_be_visible()
    for index in range(failed.count()):
        expect(failed.nth(index)).to_have_class("wnb-row wnb-error")
    exception = failed.first.locator('[data-cell="exception"]')
    expect(exception).to_have_text(
        "ValueError: cannot classify 'review xxxxx': the input is too ambiguous to label"
    )
    succeeded = widget.locator('[data-row-id]:has([data-cell="status"]:text-is("success"))')
    expect(succeeded.first.locator('[data-cell="exception"]')).to_have_text("null")
    expect(succeeded.first).to_have_class("wnb-row")
    nb.screenshot("light", widget)

    # The traceback is one click away.
    exception.click()
    detail = widget.locator('[data-role="detail"] pre')
    expect(detail).to_contain_text("Traceback (most recent call last)")
    expect(detail).to_contain_text("in classify")
    nb.screenshot("traceback", widget)
    widget.locator('[data-role="detail"] [aria-label="close"]').click()

    nb.page.evaluate(
        "() => window.jupyterapp.commands.execute("
        "'apputils:change-theme', {theme: 'JupyterLab Dark'})"
    )
    try:
        nb.page.wait_for_function("() => document.body.dataset.jpThemeLight === 'false'")
        nb.page.wait_for_timeout(300)  # the theme's stylesheet applies after the attribute
        readable = {
            "header": (widget.locator('[data-column="status"]'), 4.5),
            "count": (widget.locator('[data-role="count"]'), 4.5),
            "text": (succeeded.first.locator('[data-cell="name"]'), 4.5),
            "number": (succeeded.first.locator('[data-cell="latency_ms"]'), 4.5),
            "exception": (exception, 4.5),
            "error row text": (failed.first.locator('[data-cell="name"]'), 4.5),
            "nested": (succeeded.first.locator('[data-cell="inputs"]'), 4.5),
            "null": (succeeded.first.locator('[data-cell="exception"]'), 3.0),
            "filter": (widget.locator('[data-role="filter"]'), 4.5),
            "note": (succeeded.first.locator('[data-feedback="note"]'), 4.5),
        }
        contrast = {
            label: (locator.evaluate(CONTRAST_JS), minimum)
            for label, (locator, minimum) in readable.items()
        }
        nb.screenshot("dark", widget)
        low = {k: v for k, (v, minimum) in contrast.items() if v["ratio"] < minimum}
        assert not low, low
        background = contrast["text"][0]["bg"]
        assert max(background[:3]) < 80, f"dark theme background is light: {background}"
    finally:
        nb.page.evaluate(
            "() => window.jupyterapp.commands.execute("
            "'apputils:change-theme', {theme: 'JupyterLab Light'})"
        )


@pytest.mark.frontends("lab")
def test_image_arguments_of_a_monitored_call_show_as_thumbnails(nb: NotebookPage) -> None:
    name = unique("vision")
    nb.open_new(
        "table_vision",
        [
            f"""import numpy as np
import weave_nb as wnb

@wnb.monitor({name!r})
def classify(image, threshold=0.5):
    return "bright" if image.mean() > threshold * 255 else "dark"

for i in range(4):
    pixels = np.zeros((64, 96, 3), np.uint8)
    pixels[8 * i : 8 * i + 24, 16:80] = (255, 200 - 40 * i, 40 * i)
    classify(pixels)
classify.table.widget(hidden=["inputs", "_client_id"])""",
        ],
    )
    nb.run_all()
    widget = nb.cell_output(0).locator(TABLE)
    expect(widget).to_have_attribute("data-total-rows", "4")
    header = widget.locator('[data-column="inputs.image"]')
    expect(header).to_have_count(1)
    expect(header).to_have_attribute("data-sortable", "false")
    thumbnails = widget.locator('[data-cell="inputs.image"] img')
    expect(thumbnails).to_have_count(4)
    nb.screenshot("monitored-images", widget)
    thumbnails.nth(2).click()
    full = widget.locator('[data-role="detail"] img')
    expect(full).to_be_visible()
    assert full.evaluate("img => img.naturalWidth") == 96
