"""Fixtures for end-to-end tests in a real JupyterLab 4 / Notebook 7 in headless Chromium.

Every test under ``tests/e2e`` is marked ``e2e`` automatically. A test that takes the
``nb`` fixture runs once per front-end (ids ``lab`` and ``notebook``); restrict it with
``@pytest.mark.frontends("lab")``. Each front-end gets one Jupyter server per session and
all tests share one browser, but every test gets a fresh browser context and page.

Fixtures:

``nb`` (:class:`_jupyter.NotebookPage`)
    A page in the current front-end. ``nb.open_new(name, sources)`` writes a notebook of
    code cells and opens it (kernel connected and idle), ``nb.open_copy(path)`` opens a
    copy of an existing notebook file; ``nb.run_all()``, ``nb.run_cell(i)``,
    ``nb.start_run(i)`` + ``nb.wait_for_run(run)`` run cells (0-based indices);
    ``nb.output_text(i)`` reads a cell's text output, ``nb.cell_output(i)`` locates its
    output area, ``nb.page`` is the Playwright page, and ``nb.screenshot(label, locator)``
    saves ``tests/e2e/artifacts/<test>-<frontend>-<label>.png`` and returns its path.
    After the test, any page error fails it (except Notebook 7.6.5's known one). A failing
    test gets a ``-failure.png`` screenshot plus the browser errors and the tail of the
    server log in its report.
``frontend`` (``"lab"`` | ``"notebook"``), ``jupyter`` (:class:`_jupyter.JupyterServer`),
``browser`` (Playwright ``Browser``) for tests that need them directly.

Kernels run on the Python that runs pytest, with this checkout on ``PYTHONPATH`` and
``WEAVE_NB_ROOT`` set to a per-front-end temporary directory (``jupyter.root_dir.parent /
"weave_nb_data"``), so tables written by one test are visible to later ones in the same
session: give tables unique names.

Example::

    from _jupyter import NotebookPage, expect

    def test_counter(nb: NotebookPage) -> None:
        nb.open_new("counter", ["import weave_nb as wnb", "t = wnb.StreamTable('t1')\\nt"])
        nb.run_all()
        widget = nb.cell_output(1).locator('[data-weave-nb="table"]')
        expect(widget).to_be_visible()
        nb.screenshot("table", widget)

The browser is Debian's ``/usr/bin/chromium`` unless ``WEAVE_NB_CHROMIUM`` names another
executable. When Playwright or the browser is missing, e2e tests are skipped, or fail if
``WEAVE_NB_E2E=1`` (as in CI) so a broken CI setup cannot pass silently.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import Any

import pytest
from _jupyter import FRONTENDS, Frontend, JupyterServer, NotebookPage, jupyter_server

E2E_DIR = Path(__file__).resolve().parent
REPO_ROOT = E2E_DIR.parents[1]
ARTIFACTS_DIR = E2E_DIR / "artifacts"

DEFAULT_CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
VIEWPORT = {"width": 1280, "height": 900}
EXPECT_TIMEOUT_MS = 20_000


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "frontends(*names): run an e2e test only in these front-ends (lab, notebook)"
    )


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.is_relative_to(E2E_DIR):
            item.add_marker(pytest.mark.e2e)


_PAGE_KEY = pytest.StashKey[NotebookPage]()
_SERVER_LOG_TAIL_CHARS = 6_000


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """On a failing e2e test, save a screenshot and attach console errors and the server log."""
    report: pytest.TestReport = yield
    notebook_page = item.stash.get(_PAGE_KEY, None)
    if report.failed and report.when == "call" and notebook_page is not None:
        try:
            shot = notebook_page.screenshot("failure")
            report.sections.append(("e2e failure screenshot", str(shot)))
        except Exception as exc:  # the page may be what broke; keep the original failure
            report.sections.append(("e2e failure screenshot", f"not taken: {exc}"))
        report.sections.append(("e2e browser errors", notebook_page.errors_text() or "(none)"))
        log = notebook_page.server.log()[-_SERVER_LOG_TAIL_CHARS:]
        report.sections.append(("e2e jupyter server log (tail)", log))
    return report


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "frontend" not in metafunc.fixturenames:
        return
    marker = metafunc.definition.get_closest_marker("frontends")
    names = marker.args if marker else FRONTENDS
    unknown = set(names) - set(FRONTENDS)
    if unknown:
        raise pytest.UsageError(f"unknown front-end(s) {sorted(unknown)}; choose from {FRONTENDS}")
    # Session scope groups the tests by front-end, so only one server runs at a time.
    metafunc.parametrize("frontend", names, indirect=True, scope="session")


def _chromium_path() -> str:
    return os.environ.get("WEAVE_NB_CHROMIUM", DEFAULT_CHROMIUM)


def _missing_requirement() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Python Playwright is not installed (pip install playwright)"
    path = _chromium_path()
    if shutil.which(path) is None:
        return (
            f"no Chromium executable at {path!r}: install Debian's chromium package "
            "or set WEAVE_NB_CHROMIUM to a Chromium binary"
        )
    return None


@pytest.fixture(scope="session")
def _e2e_requirements() -> None:
    reason = _missing_requirement()
    if reason is None:
        return
    if os.environ.get("WEAVE_NB_E2E") == "1":
        pytest.fail(f"e2e tests required (WEAVE_NB_E2E=1) but {reason}", pytrace=False)
    pytest.skip(f"e2e: {reason} (set WEAVE_NB_E2E=1 to make this a failure)")


@pytest.fixture(scope="session")
def frontend(request: pytest.FixtureRequest) -> Frontend:
    """The front-end under test: ``"lab"`` or ``"notebook"``."""
    name: Frontend = request.param
    return name


@pytest.fixture(scope="session")
def jupyter(
    _e2e_requirements: None, frontend: Frontend, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[JupyterServer]:
    """A Jupyter server for ``frontend``, shared by the session's tests of that front-end."""
    base = tmp_path_factory.mktemp(f"jupyter-{frontend}")
    with jupyter_server(frontend, base, repo_root=REPO_ROOT) as server:
        yield server


@pytest.fixture(scope="session")
def browser(_e2e_requirements: None) -> Iterator[Any]:
    """One headless Chromium for the whole session (each test gets its own context)."""
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=EXPECT_TIMEOUT_MS)
    with sync_playwright() as playwright:
        # launch() gives the browser a fresh temporary profile, removed on close.
        browser = playwright.chromium.launch(
            executable_path=_chromium_path(), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def nb(
    request: pytest.FixtureRequest, browser: Any, jupyter: JupyterServer, frontend: str
) -> Iterator[NotebookPage]:
    """A fresh page in ``frontend``; fails the test on unexpected page errors."""
    context = browser.new_context(viewport=VIEWPORT)
    try:
        page = context.new_page()
        prefix = ARTIFACTS_DIR / f"{request.node.originalname}-{frontend}"
        notebook_page = NotebookPage(page, jupyter, prefix)
        request.node.stash[_PAGE_KEY] = notebook_page
        yield notebook_page
        errors = notebook_page.unexpected_page_errors()
        if errors:
            pytest.fail(
                f"unexpected page errors in {frontend}:\n{notebook_page.errors_text()}",
                pytrace=False,
            )
    finally:
        context.close()
        jupyter.shutdown_sessions()
