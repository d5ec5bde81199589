"""Types of the C module built from ``_speedups.c`` (see :mod:`weave_nb._accel`)."""

from collections.abc import Iterable, Iterator
from contextvars import ContextVar
from typing import Any

class Intake:
    pending: list[Any]
    kind: int
    limit: int
    def __init__(self, pending: list[Any], kind: int, limit: int) -> None: ...

class LogFront:
    _pending: list[Any]
    _fast_keys: frozenset[str]
    _backlog_limit: int
    def log(self, row: Any) -> None: ...

class CallFront:
    @property
    def _intake(self) -> Intake | None: ...
    def _arm(self, wrapped: Any, sink: Any, intake: Intake) -> None: ...
    def __call__(self, *args: Any, **kwargs: Any) -> Any: ...

def set_plain_types(types: Iterable[type]) -> None: ...
def configure_calls(
    current: ContextVar[Any],
    counter: Iterator[int],
    switch: Any,
    state: Any,
    frame_layout: tuple[int, ...],
) -> None: ...
def columns_of(rows: list[dict[str, Any]], names: list[str]) -> list[list[Any]]: ...
def plain_array(
    values: list[Any],
) -> tuple[int, int, bytes | None, bytes] | tuple[int, int, bytes | None, bytes, bytes] | None: ...
def item_runs(items: list[Any]) -> list[range]: ...
def numbered_text(prefix: str, start: int, n: int) -> tuple[bytes, bytes]: ...
