"""Fixtures shared by the unit tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from weave_nb.store import StreamTable

_E2E_DIR = Path(__file__).parent / "e2e"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run the browser tests last.

    Playwright's sync API keeps an event loop running in the main thread until
    the session ends, so an ``asyncio.run`` in a later test would fail.
    """
    items.sort(key=lambda item: item.path.is_relative_to(_E2E_DIR))


@pytest.fixture
def table(tmp_path: Path) -> Iterator[StreamTable]:
    """A persisted table under the test's own directory, closed after the test."""
    with StreamTable("calls", root=tmp_path) as t:
        yield t
