"""Helpers shared by the unit tests."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from weave_nb.store import StreamTable


def rows(table: StreamTable) -> list[dict[str, Any]]:
    """Every row of ``table``'s merged view, after a flush."""
    table.flush()
    logged: list[dict[str, Any]] = table.to_arrow().to_pylist()
    return logged


def wait_for(condition: Callable[[], object], timeout: float = 5.0) -> None:
    """Poll ``condition`` until it is true; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.02)
