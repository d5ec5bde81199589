"""The vega + vega-lite runtime, sent to the browser once per kernel.

anywidget sends each widget's ``_esm`` with every instance, so a chart that
bundled vega (about 800 KB) would ship it again for every chart of a board.
Instead the runtime is the ``_esm`` of one hidden widget per kernel; its
front-end ``initialize`` returns the runtime as the widget's exports. Each
chart holds a reference to this widget (``runtime`` trait, sent as
``"anywidget:<model id>"``) and its small view module resolves the exports
through anywidget's ``host.getWidget`` (anywidget >= 0.11), so the runtime
travels and is imported once, however many charts a kernel shows.
"""

from __future__ import annotations

import threading

import anywidget
import traitlets

from ._bundle import bundle

__all__ = ["VegaRuntime", "vega_runtime"]


class VegaRuntime(anywidget.AnyWidget):  # type: ignore[misc]
    """Hidden widget carrying the vega runtime (js/vega_runtime.js); never displayed."""

    _esm = traitlets.Unicode().tag(sync=True)


_lock = threading.Lock()
_shared: VegaRuntime | None = None


def vega_runtime() -> VegaRuntime:
    """The kernel's runtime widget, created (and its comm opened) on first use."""
    global _shared
    with _lock:
        # A closed widget (e.g. after ipywidgets.Widget.close_all()) has no comm.
        if _shared is None or _shared.comm is None:
            _shared = VegaRuntime(_esm=bundle("vega_runtime"))
        return _shared
