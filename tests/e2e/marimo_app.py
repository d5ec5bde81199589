"""The marimo notebook of tests/e2e/test_marimo.py: a table with an image column, its live
table widget and a chart, each widget wrapped in ``mo.ui.anywidget`` as marimo's docs do."""

import marimo

app = marimo.App()


@app.cell
def _():
    import datetime as dt

    import marimo as mo
    import numpy as np

    import weave_nb as wnb

    return dt, mo, np, wnb


@app.cell
def _(dt, np, wnb):
    t = wnb.StreamTable("marimo_images")
    # One row a minute over the last five hours, so the chart has buckets to draw.
    start = dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=300)
    rows = []
    for i in range(300):
        pixels = np.zeros((24, 32, 3), np.uint8)
        pixels[:, :, i % 3] = 255
        rows.append(
            {
                "_id": f"r{i}",
                "_timestamp": start + dt.timedelta(minutes=i),
                "image": wnb.Image(pixels),
                "answer": f"answer {i}",
                "latency_ms": 10.0 + i % 60,
            }
        )
    t.log(rows)
    t.flush()
    return (t,)


@app.cell
def _(mo, t):
    mo.ui.anywidget(t.widget())
    return


@app.cell
def _(mo, t):
    mo.ui.anywidget(t.chart("latency", column="latency_ms"))
    return


if __name__ == "__main__":
    app.run()
