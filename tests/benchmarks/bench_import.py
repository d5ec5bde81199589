"""Import cost: ``import weave_nb`` + the first table widget, beside the libraries alone.

Run: ``python tests/benchmarks/bench_import.py``. Each measurement is a fresh interpreter
(imports are cached per process), median of 3, the baseline measured in the same run:
``import pyarrow, pandas, duckdb, ipywidgets`` alone. The difference is what weave_nb
adds before a table shows; the chart stack (altair) must not be part of it.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile

RUNS = 3

_BASELINE = """
import time
start = time.perf_counter()
import pyarrow, pandas, duckdb, ipywidgets
print(time.perf_counter() - start)
"""

_WEAVE = """
import sys, time
start = time.perf_counter()
import weave_nb
t = weave_nb.StreamTable("bench_import", root=sys.argv[1])
t.log([{"_id": i, "x": i * 0.5, "text": f"row {i}"} for i in range(1000)])
t.widget()._repr_mimebundle_()
elapsed = time.perf_counter() - start
assert "altair" not in sys.modules, "showing a table imported altair"
print(elapsed)
"""


def _seconds(code: str, *args: str) -> float:
    out = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, check=True
    )
    return float(out.stdout.strip().splitlines()[-1])


def main() -> None:
    base, weave = [], []
    with tempfile.TemporaryDirectory() as root:
        for _ in range(RUNS):
            base.append(_seconds(_BASELINE))
            weave.append(_seconds(_WEAVE, root))
    b, w = statistics.median(base), statistics.median(weave)
    print(f"import + first table widget (1,000 rows), fresh interpreter, median of {RUNS}")
    print(f"  import pyarrow, pandas, duckdb, ipywidgets : {b * 1000:7.0f} ms")
    print(f"  import weave_nb + StreamTable + widget     : {w * 1000:7.0f} ms")
    print(f"  weave_nb's own cost                        : {(w - b) * 1000:7.0f} ms  (goal <= 300)")


if __name__ == "__main__":
    main()
