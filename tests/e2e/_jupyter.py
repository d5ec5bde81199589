"""Drive a real Jupyter front-end (JupyterLab 4 or Notebook 7) from pytest.

This module holds the machinery; ``conftest.py`` turns it into fixtures. The pieces:

* :func:`jupyter_server` starts ``python -m jupyterlab`` / ``python -m notebook`` on a free
  loopback port with a fixed token and fully isolated state (HOME, config, runtime, IPython,
  settings and workspaces live in a temporary directory), and stops it again.
* :func:`write_notebook` writes a notebook made of code cells into the server's root.
* :class:`NotebookPage` wraps a Playwright page showing one notebook: open it, wait for the
  kernel, run cells, read outputs and take screenshots.
* ``expect`` is Playwright's auto-waiting assertion. Test modules import it from here, not
  from ``playwright.sync_api``, so they still collect when Playwright is missing and
  ``conftest.py`` can skip (or, with ``WEAVE_NB_E2E=1``, fail) them with a clear reason.

Cells are run through ``window.jupyterapp`` (the server is started with
``expose_app_in_browser``), never through the REST kernel API, so the page sees every
output, and through the same commands in both front-ends. Kernel readiness is checked on the
current notebook's ``sessionContext`` rather than on the toolbar indicator, which reads
"idle" for a moment before the session has a kernel; a "Run All" sent then is silently lost.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import nbformat

if TYPE_CHECKING:
    from playwright.sync_api import expect as expect
else:
    try:
        from playwright.sync_api import expect
    except ImportError:  # conftest skips or fails the e2e tests with the reason

        def expect(*args: Any, **kwargs: Any) -> Any:
            raise RuntimeError("Python Playwright is not installed")


Frontend = Literal["lab", "notebook"]
FRONTENDS: tuple[Frontend, ...] = ("lab", "notebook")

TOKEN = "weave-nb-e2e"
"""Fixed server token; the server only listens on 127.0.0.1."""

#: Notebook 7.6.5 raises this page error on every load, with or without widgets.
KNOWN_PAGE_ERRORS: dict[Frontend, tuple[str, ...]] = {
    "lab": (),
    "notebook": ("reading 'schema'",),
}

SERVER_START_TIMEOUT_S = 60.0
KERNEL_TIMEOUT_MS = 60_000
RUN_TIMEOUT_MS = 120_000

# The Python application and its traitlets class for each front-end.
_APP: dict[Frontend, tuple[str, str]] = {
    "lab": ("jupyterlab", "LabApp"),
    "notebook": ("notebook", "JupyterNotebookApp"),
}

# Settings written into the isolated user-settings directory before the server starts.
_SETTINGS: dict[str, dict[str, Any]] = {
    # Without this a news / update toast covers the bottom right of every screenshot.
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false",
        "checkForUpdates": False,
    },
    # Windowed notebooks drop off-screen cells from the DOM, which would make
    # "the n-th cell" locators depend on the scroll position.
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
}


@dataclass
class JupyterServer:
    """A running Jupyter server for one front-end."""

    frontend: Frontend
    port: int
    root_dir: Path
    log_path: Path
    process: subprocess.Popen[bytes]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def notebook_url(self, name: str) -> str:
        """URL that opens the notebook ``name`` (relative to the root) in this front-end."""
        if self.frontend == "lab":
            # `reset`: start from an empty workspace, so Lab does not restore earlier
            # tests' notebooks as background tabs that could take the focus.
            return f"{self.base_url}/lab/tree/{name}?reset&token={TOKEN}"
        return f"{self.base_url}/notebooks/{name}?token={TOKEN}"

    def log(self) -> str:
        """The server's combined stdout/stderr so far."""
        return self.log_path.read_text(errors="replace")

    def _api(self, method: str, path: str) -> Any:
        request = urllib.request.Request(
            f"{self.base_url}/api/{path}",
            method=method,
            headers={"Authorization": f"token {TOKEN}"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            body = response.read()
        return json.loads(body) if body else None

    def shutdown_sessions(self) -> None:
        """Stop every session and its kernel, so idle kernels do not pile up across tests."""
        for session in self._api("GET", "sessions"):
            self._api("DELETE", f"sessions/{session['id']}")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _write_json(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=1))


def _server_env(state_dir: Path, weave_nb_root: Path, pythonpath: Path) -> dict[str, str]:
    env = dict(os.environ)
    dirs = {
        "HOME": state_dir / "home",
        "JUPYTER_CONFIG_DIR": state_dir / "config",
        "JUPYTER_DATA_DIR": state_dir / "data",
        "JUPYTER_RUNTIME_DIR": state_dir / "runtime",
        "IPYTHONDIR": state_dir / "ipython",
    }
    for name, path in dirs.items():
        path.mkdir(parents=True, exist_ok=True)
        env[name] = str(path)
    # The kernel must import this checkout even if the editable install points elsewhere.
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(pythonpath), env.get("PYTHONPATH", "")) if p
    )
    env["WEAVE_NB_ROOT"] = str(weave_nb_root)
    env.pop("JUPYTER_TOKEN", None)
    # A kernelspec in the (isolated, highest-priority) data dir pins the kernel to the Python
    # running pytest, whatever "python3" kernelspecs the system has.
    _write_json(
        dirs["JUPYTER_DATA_DIR"] / "kernels" / "python3" / "kernel.json",
        {
            "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            "display_name": "Python 3 (ipykernel)",
            "language": "python",
            "metadata": {"debugger": False},
        },
    )
    return env


def _server_command(frontend: Frontend, port: int, root: Path, state_dir: Path) -> list[str]:
    module, app = _APP[frontend]
    cmd = [
        sys.executable,
        "-m",
        module,
        "--no-browser",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        "--ServerApp.allow_root=True",
        f"--IdentityProvider.token={TOKEN}",
        f"--ServerApp.root_dir={root}",
        f"--{app}.expose_app_in_browser=True",
        f"--{app}.user_settings_dir={state_dir / 'settings'}",
        f"--{app}.workspaces_dir={state_dir / 'workspaces'}",
    ]
    if frontend == "lab":
        cmd += [
            "--LabApp.news_url=None",
            "--LabApp.extension_manager=readonly",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        ]
    return cmd


def wait_until_answering(url: str, process: subprocess.Popen[bytes], what: str, log: Path) -> None:
    """Wait until ``url`` answers 200, failing with the server's log (``log``) if ``process``
    exits or ``SERVER_START_TIMEOUT_S`` passes; ``what`` names the server in messages."""
    deadline = time.monotonic() + SERVER_START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"{what} exited with code {process.returncode} before answering."
                f"\n--- server log ---\n{log.read_text(errors='replace')}"
            )
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.25)  # polling a process we do not control; there is nothing to await
    raise RuntimeError(
        f"{what} did not answer {url} within {SERVER_START_TIMEOUT_S:.0f} s."
        f"\n--- server log ---\n{log.read_text(errors='replace')}"
    )


def stop(process: subprocess.Popen[bytes]) -> None:
    """Terminate a server started by a test, killing it if it does not exit in time."""
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=15)


@contextlib.contextmanager
def jupyter_server(
    frontend: Frontend, base_dir: Path, *, repo_root: Path
) -> Iterator[JupyterServer]:
    """Run a Jupyter server for ``frontend`` with all its state under ``base_dir``.

    Notebooks go to ``base_dir / "notebooks"`` (the server root); kernels get
    ``WEAVE_NB_ROOT=base_dir / "weave_nb_data"`` and ``repo_root`` on ``PYTHONPATH``.
    The server is terminated (then killed) on exit; its log is in ``base_dir / "server.log"``.
    """
    root = base_dir / "notebooks"
    state_dir = base_dir / "state"
    root.mkdir(parents=True, exist_ok=True)
    for rel_path, settings in _SETTINGS.items():
        _write_json(state_dir / "settings" / rel_path, settings)
    env = _server_env(state_dir, base_dir / "weave_nb_data", repo_root)
    port = free_port()
    log_path = base_dir / "server.log"
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(
            _server_command(frontend, port, root, state_dir),
            cwd=root,
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    server = JupyterServer(frontend, port, root, log_path, process)
    try:
        status = f"{server.base_url}/api/status?token={TOKEN}"
        wait_until_answering(status, process, f"Jupyter ({frontend})", log_path)
        yield server
    finally:
        stop(process)


def write_notebook(directory: Path, name: str, sources: Sequence[str]) -> str:
    """Write a Python notebook of code cells ``sources`` to ``directory / name``.

    ``name`` gets an ``.ipynb`` suffix if it has none. Returns the file name, which
    :meth:`NotebookPage.open` takes.
    """
    if not name.endswith(".ipynb"):
        name += ".ipynb"
    nb = nbformat.v4.new_notebook()  # type: ignore[no-untyped-call]
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3 (ipykernel)",
        "language": "python",
    }
    nb.cells = [nbformat.v4.new_code_cell(s) for s in sources]  # type: ignore[no-untyped-call]
    nbformat.write(nb, directory / name)  # type: ignore[no-untyped-call]
    return name


# --- JavaScript run in the page (window.jupyterapp is the JupyterLab / Notebook 7 app) ---

# The current notebook panel, or null while the app is still starting.
_JS_PANEL = """() => {
  const app = window.jupyterapp;
  const w = app && app.shell && app.shell.currentWidget;
  return w && w.sessionContext && w.content && w.content.model ? w : null;
}"""

_JS_KERNEL_STATUS = f"""() => {{
  const w = ({_JS_PANEL})();
  const kernel = w && w.sessionContext.session && w.sessionContext.session.kernel;
  return kernel && kernel.connectionStatus === 'connected' ? kernel.status : null;
}}"""
_JS_KERNEL_IDLE = f"""() => ({_JS_KERNEL_STATUS})() === 'idle'"""
# Busy is fine for queueing a cell; what loses a run is a session without a kernel yet.
_JS_KERNEL_READY = f"""() => ['idle', 'busy'].includes(({_JS_KERNEL_STATUS})())"""

# Start a command, record its outcome under a run id; the Python side waits on that record.
_JS_START_RUN = f"""([runId, cellIndex]) => {{
  const w = ({_JS_PANEL})();
  const runs = (window.__weaveNbRuns = window.__weaveNbRuns || {{}});
  runs[runId] = {{ done: false, ok: null, error: null }};
  // Run commands act on the notebook that last had focus: make sure it is this one.
  window.jupyterapp.shell.activateById(w.id);
  let command = 'notebook:run-all-cells';
  if (cellIndex !== null) {{
    const count = w.content.model.cells.length;
    if (cellIndex < 0 || cellIndex >= count) {{
      throw new Error(`cell index ${{cellIndex}} out of range (notebook has ${{count}} cells)`);
    }}
    w.content.deselectAll();
    w.content.activeCellIndex = cellIndex;
    command = 'notebook:run-cell';
  }}
  window.jupyterapp.commands.execute(command).then(
    (ok) => {{ runs[runId] = {{ done: true, ok: ok !== false, error: null }}; }},
    (err) => {{ runs[runId] = {{ done: true, ok: false, error: String(err) }}; }},
  );
}}"""

_JS_RUN_DONE = """(runId) => !!(window.__weaveNbRuns && window.__weaveNbRuns[runId].done)"""
_JS_RUN_RESULT = """(runId) => window.__weaveNbRuns[runId]"""

# nbformat outputs of one cell, from the model (independent of what is scrolled into view).
_JS_CELL_OUTPUTS = f"""(cellIndex) => {{
  const cell = ({_JS_PANEL})().content.model.cells.get(cellIndex);
  return cell.type === 'code' ? cell.outputs.toJSON() : [];
}}"""

_JS_CELL_COUNT = f"""() => ({_JS_PANEL})().content.model.cells.length"""


def outputs_text(outputs: Sequence[dict[str, Any]]) -> str:
    """Text of nbformat outputs: streams, ``text/plain`` results and error tracebacks."""

    def joined(value: str | list[str]) -> str:
        return value if isinstance(value, str) else "".join(value)

    parts: list[str] = []
    for output in outputs:
        kind = output.get("output_type")
        if kind == "stream":
            parts.append(joined(output["text"]))
        elif kind in ("execute_result", "display_data"):
            text = output.get("data", {}).get("text/plain")
            if text is not None:
                parts.append(joined(text) + "\n")
        elif kind == "error":
            parts.append(f"{output['ename']}: {output['evalue']}\n")
    return "".join(parts)


@dataclass(frozen=True)
class CellRun:
    """Handle of a started cell execution; pass it to :meth:`NotebookPage.wait_for_run`."""

    run_id: int
    description: str


_run_ids = itertools.count()


@dataclass
class NotebookPage:
    """A Playwright page showing notebooks in one Jupyter front-end.

    ``page`` is a ``playwright.sync_api.Page``; typed loosely so this module imports
    without Playwright installed (conftest reports its absence clearly).
    """

    page: Any
    server: JupyterServer
    artifact_prefix: Path
    page_errors: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.page.on("pageerror", lambda exc: self.page_errors.append(str(exc)))
        self.page.on(
            "console",
            lambda msg: self.console_errors.append(msg.text) if msg.type == "error" else None,
        )

    @property
    def frontend(self) -> Frontend:
        return self.server.frontend

    def write(self, name: str, sources: Sequence[str]) -> str:
        """Write a notebook of code cells into the server root; see :func:`write_notebook`."""
        return write_notebook(self.server.root_dir, name, sources)

    def open(self, name: str) -> None:
        """Open notebook ``name`` and wait until its kernel is connected and idle."""
        self.page.goto(self.server.notebook_url(name), wait_until="domcontentloaded")
        self.page.wait_for_function(_JS_PANEL, timeout=KERNEL_TIMEOUT_MS)
        self.wait_for_kernel_idle()

    def open_copy(self, path: Path) -> None:
        """Copy the notebook file ``path`` (e.g. one of the project's examples) into the
        server root and open it."""
        shutil.copyfile(path, self.server.root_dir / path.name)
        self.open(path.name)

    def open_new(self, name: str, sources: Sequence[str]) -> None:
        """Write a notebook of code cells ``sources`` and open it."""
        self.open(self.write(name, sources))

    def wait_for_kernel_idle(self, timeout_ms: float = KERNEL_TIMEOUT_MS) -> None:
        """Wait until the current notebook's kernel is connected and idle."""
        self.page.wait_for_function(_JS_KERNEL_IDLE, timeout=timeout_ms)

    def start_run(self, cell_index: int | None = None) -> CellRun:
        """Start running one cell (by 0-based index) or, with ``None``, all cells.

        Returns at once, so a test can watch the page while the cell runs; pair with
        :meth:`wait_for_run`. Cells may be queued while another one still runs.
        """
        self.page.wait_for_function(_JS_KERNEL_READY, timeout=KERNEL_TIMEOUT_MS)
        run = CellRun(next(_run_ids), "all cells" if cell_index is None else f"cell {cell_index}")
        self.page.evaluate(_JS_START_RUN, [run.run_id, cell_index])
        return run

    def wait_for_run(
        self, run: CellRun, timeout_ms: float = RUN_TIMEOUT_MS, *, check: bool = True
    ) -> bool:
        """Wait until ``run`` finished and return whether every cell succeeded.

        With ``check`` (the default) a cell that raised fails the test instead.
        """
        self.page.wait_for_function(_JS_RUN_DONE, arg=run.run_id, timeout=timeout_ms)
        result = self.page.evaluate(_JS_RUN_RESULT, run.run_id)
        if check and not result["ok"]:
            raise AssertionError(
                f"running {run.description} failed in {self.frontend}: "
                f"{result['error'] or 'a cell raised'}\n{self.errors_text()}"
            )
        ok: bool = result["ok"]
        return ok

    def run_all(self, timeout_ms: float = RUN_TIMEOUT_MS, *, check: bool = True) -> bool:
        """Run all cells and wait until they finished; see :meth:`wait_for_run`."""
        return self.wait_for_run(self.start_run(None), timeout_ms, check=check)

    def run_cell(
        self, index: int, timeout_ms: float = RUN_TIMEOUT_MS, *, check: bool = True
    ) -> bool:
        """Run cell ``index`` (0-based) and wait until it finished; see :meth:`wait_for_run`."""
        return self.wait_for_run(self.start_run(index), timeout_ms, check=check)

    def cell_count(self) -> int:
        count: int = self.page.evaluate(_JS_CELL_COUNT)
        return count

    def cell_outputs(self, index: int) -> list[dict[str, Any]]:
        """The nbformat outputs of cell ``index`` as the front-end holds them."""
        outputs: list[dict[str, Any]] = self.page.evaluate(_JS_CELL_OUTPUTS, index)
        return outputs

    def output_text(self, index: int) -> str:
        """Text output of cell ``index``: streams, ``text/plain`` results, errors."""
        return outputs_text(self.cell_outputs(index))

    def cell(self, index: int) -> Any:
        """Locator of cell ``index`` (0-based) of the notebook in front.

        Scoped to the current panel: Lab restores earlier tests' notebooks as
        background tabs, whose cells are in the DOM too.
        """
        panel_id = self.page.evaluate("() => window.jupyterapp.shell.currentWidget?.id ?? ''")
        scope = self.page.locator(f"[id='{panel_id}']") if panel_id else self.page
        return scope.locator(".jp-Notebook .jp-Cell").nth(index)

    def cell_output(self, index: int) -> Any:
        """Locator of the output area of cell ``index``."""
        return self.cell(index).locator(".jp-OutputArea")

    def screenshot(self, label: str, target: Any | None = None) -> Path:
        """Save a PNG of ``target`` (a locator) or the whole page; returns its path.

        The file is ``tests/e2e/artifacts/<test>-<frontend>-<label>.png``.
        """
        path = self.artifact_prefix.with_name(f"{self.artifact_prefix.name}-{label}.png")
        path.parent.mkdir(parents=True, exist_ok=True)
        if target is None:
            self.page.screenshot(path=str(path))
        else:
            target.screenshot(path=str(path))
        return path

    def unexpected_page_errors(self) -> list[str]:
        """Page errors other than the front-end's known, harmless ones."""
        known = KNOWN_PAGE_ERRORS[self.frontend]
        return [e for e in self.page_errors if not any(k in e for k in known)]

    def errors_text(self) -> str:
        """All page and console errors seen so far, one per line."""
        lines = [f"page error: {e}" for e in self.page_errors]
        lines += [f"console error: {e}" for e in self.console_errors]
        return "\n".join(lines)
