"""Fixtures shared by the unit tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from _s3 import S3Server, s3_server

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


@pytest.fixture(scope="session")
def s3() -> Iterator[S3Server]:
    """A local S3-compatible server (moto) for the whole session."""
    with s3_server() as server:
        yield server


@pytest.fixture
def s3_root(s3: S3Server, monkeypatch: pytest.MonkeyPatch) -> str:
    """``s3://<fresh bucket>/mon``, with the ``AWS_*`` environment pointing at the server."""
    for key, value in s3.environment.items():
        monkeypatch.setenv(key, value)
    return f"s3://{s3.new_bucket()}/mon"
