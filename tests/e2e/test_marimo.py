"""The table and a chart in marimo (issue 13), through ``marimo edit`` in headless Chromium.

marimo renders each widget inside a shadow root, where styles in the document's head do not
reach, and carries widget messages over its own websocket: this test opens
``marimo_app.py`` (a table with an image column, its table widget and a chart) as a new
user would and checks the table is laid out as a grid, scrolls, shows thumbnails and the
full image, stores feedback, and that the chart draws. Its screenshot is
``tests/e2e/artifacts/test_marimo-table.png``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from _jupyter import expect, free_port, stop, wait_until_answering

import weave_nb as wnb

E2E_DIR = Path(__file__).resolve().parent
APP = E2E_DIR / "marimo_app.py"
ARTIFACTS_DIR = E2E_DIR / "artifacts"
VIEWPORT = {"width": 1280, "height": 900}
TABLE_NAME = "marimo_images"  # the StreamTable marimo_app.py logs
ROWS = 300
STORE_TIMEOUT_S = 30.0
TABLE = '[data-weave-nb="table"]'
CHART = '[data-weave-nb="chart"]'

# Cells run when the page opens, as after a user's "run all" (marimo's default waits for one).
USER_CONFIG = "[runtime]\nauto_instantiate = true\n"


@dataclass
class MarimoServer:
    port: int
    data_root: Path
    log_path: Path
    page_errors: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


@pytest.fixture
def marimo(_e2e_requirements: None, tmp_path: Path) -> Iterator[MarimoServer]:
    """``marimo edit`` of a copy of marimo_app.py, with its state and tables under ``tmp_path``."""
    try:
        import marimo  # noqa: F401
    except ImportError:
        if os.environ.get("WEAVE_NB_E2E") == "1":
            pytest.fail("e2e tests required (WEAVE_NB_E2E=1) but marimo is not installed")
        pytest.skip("marimo is not installed (it is in the `test` extra)")
    home = tmp_path / "home"
    home.mkdir()
    (home / ".marimo.toml").write_text(USER_CONFIG)
    app = tmp_path / "app.py"
    shutil.copy(APP, app)
    env = {
        **os.environ,
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "XDG_STATE_HOME": str(home / ".state"),
        "WEAVE_NB_ROOT": str(tmp_path / "weave_nb_data"),
        # The kernel must import this checkout even if the editable install points elsewhere.
        "PYTHONPATH": os.pathsep.join(
            filter(None, [str(E2E_DIR.parents[1]), os.environ.get("PYTHONPATH")])
        ),
    }
    port = free_port()
    log_path = tmp_path / "marimo.log"
    command = [
        *(sys.executable, "-m", "marimo", "edit", "--headless", "--no-token"),
        *("--host", "127.0.0.1", "--port", str(port)),
        *("--skip-update-check", "--no-sandbox", str(app)),
    ]
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(
            command, cwd=tmp_path, env=env, stdout=log_file, stderr=subprocess.STDOUT
        )
    server = MarimoServer(port, tmp_path / "weave_nb_data", log_path)
    try:
        wait_until_answering(f"{server.url}/health", process, "marimo", log_path)
        yield server
    finally:
        stop(process)


def _stored_thumbs(data_root: Path, row_id: str) -> Any:
    """The row's ``thumbs`` feedback as the store on disk has it (``None`` if not there yet)."""
    table = wnb.open_table(TABLE_NAME, root=data_root)
    try:
        frame = table.to_pandas().set_index("_id")
        return frame.loc[row_id, "thumbs"] if "thumbs" in frame.columns else None
    finally:
        table.close()


def test_table_and_chart_in_marimo(marimo: MarimoServer, browser: Any, tmp_path: Path) -> None:
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    page.on("pageerror", lambda exc: marimo.page_errors.append(str(exc)))
    try:
        page.goto(marimo.url)
        table = page.locator(TABLE)
        expect(table).to_have_attribute("data-total-rows", str(ROWS), timeout=90_000)

        # A grid: the header row is shown and the cells of a row sit side by side.
        expect(table.locator('[role="columnheader"][data-column="answer"]')).to_be_visible()
        last = table.locator(f'[data-row-id="r{ROWS - 1}"]')  # the view starts at the tail
        expect(last).to_be_visible()
        id_box = last.locator('[data-cell="_id"]').bounding_box()
        answer_box = last.locator('[data-cell="answer"]').bounding_box()
        assert id_box, "the last row's _id cell is not laid out"
        assert answer_box, "the last row's answer cell is not laid out"
        assert abs(id_box["y"] - answer_box["y"]) < 1, (id_box, answer_box)
        assert answer_box["x"] > id_box["x"] + id_box["width"] - 1, (id_box, answer_box)

        # Thumbnails arrive as Arrow buffers over marimo's websocket, and decode.
        thumbnail = last.locator('[data-cell="image"] img')
        expect(thumbnail).to_be_visible()
        expect(thumbnail).not_to_have_js_property("naturalWidth", 0)

        # It scrolls: the first rows are fetched when the view goes to the top.
        table.locator(".wnb-scroller").evaluate("el => { el.scrollTop = 0; }")
        first = table.locator('[data-row-id="r0"]')
        expect(first).to_be_visible()
        page.screenshot(path=str(tmp_path / "marimo_table.png"), full_page=True)
        ARTIFACTS_DIR.mkdir(parents=True, exist_ok=True)
        shutil.copy(tmp_path / "marimo_table.png", ARTIFACTS_DIR / "test_marimo-table.png")

        # The full image is asked for on click and comes back as a buffer too.
        first.locator('[data-cell="image"] img').click()
        detail = table.locator('[data-role="detail"] img')
        expect(detail).to_be_visible()
        expect(detail).to_have_js_property("naturalWidth", 32)
        page.keyboard.press("Escape")  # the detail's close button has the focus
        expect(table.locator('[data-role="detail"]')).to_be_hidden()

        # Feedback goes through the kernel into the store on disk.
        thumbs_up = first.locator('[data-feedback="up"]')
        thumbs_up.click()
        expect(thumbs_up).to_have_attribute("aria-pressed", "true")
        deadline = time.monotonic() + STORE_TIMEOUT_S
        while _stored_thumbs(marimo.data_root, "r0") != "up":
            assert time.monotonic() < deadline, f"feedback not stored:\n{marimo.log()[-4000:]}"
            time.sleep(0.25)  # the kernel flushes in the background; nothing to await here

        # The chart draws its marks from the shared vega runtime.
        chart = page.locator(CHART)
        expect(chart).not_to_have_attribute("data-points", "0")
        expect(chart.locator("svg .role-mark").first).to_be_attached()
        chart.scroll_into_view_if_needed()
        page.screenshot(path=str(tmp_path / "marimo_chart.png"))
        shutil.copy(tmp_path / "marimo_chart.png", ARTIFACTS_DIR / "test_marimo-chart.png")
    finally:
        context.close()
    assert not marimo.page_errors, "\n".join(marimo.page_errors)
