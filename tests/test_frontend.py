"""The front-end's own checks, run from pytest so one command tests everything.

vitest covers the pure logic in js/ (formatting, windowing); tsc checks the
JSDoc types; the bundle check proves what `pip install` built is complete and
imports nothing from the network (the browser may be offline).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
STATIC = ROOT / "weave_nb" / "static"
BUNDLES = ("table.js", "chart.js", "board.js", "vega_runtime.js")
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _npm(*args: str) -> subprocess.CompletedProcess[str]:
    npm = shutil.which("npm")
    if npm is None or not (ROOT / "node_modules").is_dir():
        if os.environ.get("WEAVE_NB_E2E") == "1":
            pytest.fail("npm and node_modules are required (run `pip install -e .` to build)")
        pytest.skip("npm or node_modules missing")
    env = {**os.environ, "NO_COLOR": "1", "FORCE_COLOR": "0"}
    result = subprocess.run(
        [npm, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False
    )
    result.stdout = _ANSI.sub("", result.stdout)
    return result


def test_lint_and_vitest_pass() -> None:
    result = _npm("test")
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    assert re.search(r"Tests\s+\d+ passed", result.stdout), result.stdout[-2000:]


def test_jsdoc_types_check() -> None:
    result = _npm("run", "typecheck")
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]


@pytest.mark.parametrize("bundle", BUNDLES)
def test_bundle_is_built_and_offline(bundle: str) -> None:
    path = STATIC / bundle
    assert path.is_file(), f"{path.name} was not built; run `pip install -e .` or `npm run build`"
    code = path.read_text(encoding="utf-8")
    assert not re.search(r"""(?:import|from)\s*\(?\s*["']https?://""", code), (
        f"{bundle} imports from a URL; the browser may be offline"
    )
