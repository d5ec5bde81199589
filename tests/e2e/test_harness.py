"""Smoke test of the e2e harness: an inline anywidget renders and syncs in both front-ends."""

from __future__ import annotations

import pytest
from _jupyter import NotebookPage, expect

COUNTER_WIDGET = '''import anywidget
import traitlets


class Counter(anywidget.AnyWidget):
    _esm = """
    function render({ model, el }) {
      const root = document.createElement("div");
      root.setAttribute("data-e2e", "counter");
      const label = document.createElement("span");
      const button = document.createElement("button");
      button.textContent = "add one";
      const show = () => {
        label.textContent = `${model.get("label")}: ${model.get("count")} `;
        root.setAttribute("data-count", String(model.get("count")));
      };
      button.addEventListener("click", () => {
        model.set("count", model.get("count") + 1);
        model.save_changes();
      });
      model.on("change:count", show);
      show();
      root.append(label, button);
      el.append(root);
    }
    export default { render };
    """
    label = traitlets.Unicode("clicks").tag(sync=True)
    count = traitlets.Int(0).tag(sync=True)


counter = Counter(label="harness clicks 👍")
counter
'''


def test_inline_widget_renders_and_syncs_to_kernel(nb: NotebookPage) -> None:
    nb.open_new(
        "harness_counter",
        [COUNTER_WIDGET, 'print("count =", counter.count)', 'raise ValueError("boom")'],
    )
    nb.run_cell(0)
    widget = nb.cell_output(0).locator('[data-e2e="counter"]')
    expect(widget).to_have_text("harness clicks 👍: 0 add one")
    nb.screenshot("before-click", widget)

    button = widget.get_by_role("button", name="add one")
    button.click()
    button.click()
    expect(widget).to_have_attribute("data-count", "2")
    nb.screenshot("after-click", widget)

    nb.run_cell(1)
    assert nb.output_text(1) == "count = 2\n"

    assert nb.run_cell(2, check=False) is False
    assert nb.output_text(2) == "ValueError: boom\n"
    nb.screenshot("page")


@pytest.mark.frontends("lab")
def test_page_errors_are_collected(nb: NotebookPage) -> None:
    with nb.page.expect_event("pageerror"):
        nb.page.evaluate("setTimeout(() => { throw new Error('harness probe'); })")
    assert nb.unexpected_page_errors() == ["harness probe"]
    # The probe is deliberate; clear it so the fixture's page-error check passes.
    nb.page_errors.clear()
