"""Package-level contracts: public names, and no Jupyter imports for the store and @monitor."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import weave_nb as wnb

_NO_JUPYTER = """
import sys
import weave_nb as wnb
t = wnb.StreamTable("plain", root=sys.argv[1])
t.log({"x": 1})

@wnb.monitor(table=t)
def double(x):
    return 2 * x

assert double(2) == 4
t.flush()
assert len(t) == 2, len(t)
loaded = sorted(m for m in ("ipywidgets", "anywidget", "altair", "traitlets") if m in sys.modules)
print(",".join(loaded) or "none")
"""


def test_store_and_monitor_run_without_importing_jupyter(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-c", _NO_JUPYTER, str(tmp_path)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.strip() == "none"


def test_public_names_resolve() -> None:
    for name in wnb.__all__:
        assert getattr(wnb, name) is not None, name


def test_widgets_are_loaded_on_first_use() -> None:
    from weave_nb.widgets import TableWidget

    assert wnb.TableWidget is TableWidget
