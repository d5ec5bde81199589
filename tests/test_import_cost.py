"""Showing a table does not import the chart stack; charts import it when first made."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

_CHART_STACK = ("altair", "vl_convert", "vega_datasets", "jsonschema")

_SHOW_TABLE = """
import json, sys
import weave_nb
t = weave_nb.StreamTable("shown", root=sys.argv[1])
t.log([{"_id": i, "x": i * 0.5, "text": f"row {i}"} for i in range(1000)])
w = t.widget()
w._repr_mimebundle_()
before = sorted({m.split(".")[0] for m in sys.modules} & set(sys.argv[2].split(",")))
t.chart("histogram", column="x")
after = sorted({m.split(".")[0] for m in sys.modules} & set(sys.argv[2].split(",")))
print(json.dumps([before, after]))
"""


def test_table_widget_does_not_import_altair(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-c", _SHOW_TABLE, str(tmp_path), ",".join(_CHART_STACK)],
        capture_output=True,
        text=True,
        check=True,
    )
    before, after = json.loads(result.stdout.strip().splitlines()[-1])
    assert before == [], f"showing a table imported {before}"
    # The first chart brings altair in: the laziness moved the cost, it did not drop charts.
    assert "altair" in after


_DRIFT_AND_WATCH = """
import sys
import weave_nb
t = weave_nb.StreamTable("plain", persist=False)
t.log([{"x": float(i), "status": "success"} for i in range(100)])
t.drift("x < 50", columns=["x"])
t.watch("count(*) > 0", print, every=0.05).stop()
print(sorted({m.split(".")[0] for m in sys.modules} & {"altair", "ipywidgets", "anywidget"}))
"""


def test_drift_and_watches_run_without_the_chart_stack() -> None:
    """A server process checking drift or watching pays for neither altair nor Jupyter."""
    result = subprocess.run(
        [sys.executable, "-c", _DRIFT_AND_WATCH], capture_output=True, text=True, check=True
    )
    assert json.loads(result.stdout.strip().splitlines()[-1]) == []
