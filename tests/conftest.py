"""Fixtures shared by the unit tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from weave_nb.store import StreamTable


@pytest.fixture
def table(tmp_path: Path) -> Iterator[StreamTable]:
    """A persisted table under the test's own directory, closed after the test."""
    with StreamTable("calls", root=tmp_path) as t:
        yield t
