"""Sessions: ``with wnb.session("user-42"):`` tags every monitored call and span inside it.

The session lives in a :mod:`contextvars` variable, so it follows asyncio tasks
and threads started with ``contextvars.copy_context().run``, like trace links.
Records read it only after the first ``session()`` block was ever entered
(:data:`STATE`), so a process that never uses sessions (or OpenTelemetry) pays
one attribute read per monitored call.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable

__all__ = ["SESSION", "STATE", "current_session", "session"]

SESSION: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "weave_nb_session", default=None
)


class _State:
    """Process-wide hooks of monitored calls; ``hooked`` is the one flag the hot path reads."""

    __slots__ = ("external_parent", "hooked")

    def __init__(self) -> None:
        self.hooked = False
        """Whether a session was ever entered or an external parent lookup is set."""
        self.external_parent: Callable[[], tuple[str, str] | None] | None = None
        """``() -> (trace_id, parent_id)`` of an enclosing span of another tracer, or ``None``."""

    def set_external_parent(self, lookup: Callable[[], tuple[str, str] | None]) -> None:
        """Let root monitored calls adopt an enclosing span (OpenTelemetry) as their parent."""
        self.external_parent = lookup
        self.hooked = True


STATE = _State()


class session:  # lower case: used like a function, ``with wnb.session("user-42"):``
    """Tag every monitored call (and OpenTelemetry span) inside the block with ``session_id``.

    Blocks nest (the innermost wins) and follow asyncio tasks and threads run
    through ``contextvars.copy_context().run``. The block yields the id as text::

        with wnb.session("user-42"):
            answer("2+2")          # its row has session_id == "user-42"

    A class rather than a generator-based context manager: entering and leaving
    costs a context variable set and reset, nothing more.
    """

    __slots__ = ("_token", "session_id")

    def __init__(self, session_id: str | int) -> None:
        if isinstance(session_id, bool) or not isinstance(session_id, str | int):
            raise TypeError(f"session ids are str or int, got {type(session_id).__name__}")
        text = str(session_id)
        if not text:
            raise ValueError("a session id must not be empty")
        self.session_id = text
        """The id the calls inside the block get."""
        self._token: contextvars.Token[str | None] | None = None

    def __enter__(self) -> str:
        STATE.hooked = True
        self._token = SESSION.set(self.session_id)
        return self.session_id

    def __exit__(self, *exc_info: object) -> None:
        if self._token is not None:
            SESSION.reset(self._token)
            self._token = None


def current_session() -> str | None:
    """The session id of the innermost :func:`session` block running in this context."""
    return SESSION.get()
