"""The process-wide on/off switch of ``@monitor``: one attribute read on every monitored call."""

from __future__ import annotations

from types import TracebackType

from weave_nb._accel import env_flag

__all__ = ["SWITCH", "monitoring"]


class _Switch:
    """Process-wide on/off switch; one attribute read on every monitored call."""

    __slots__ = ("enabled",)

    def __init__(self) -> None:
        self.enabled = not env_flag("WEAVE_NB_DISABLED")


SWITCH = _Switch()


class _MonitoringState:
    """What :func:`monitoring` returns: the new state, and a context manager restoring the old."""

    __slots__ = ("_previous", "enabled")

    def __init__(self, previous: bool, enabled: bool) -> None:
        self._previous = previous
        self.enabled = enabled

    def __enter__(self) -> bool:
        return self.enabled

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        SWITCH.enabled = self._previous

    def __bool__(self) -> bool:
        return self.enabled

    def __repr__(self) -> str:
        return f"monitoring(enabled={self.enabled})"


def monitoring(enabled: bool | None = None) -> _MonitoringState:
    """Turn ``@monitor`` on or off for the whole process, or report whether it is on.

    ``monitoring(enabled=False)`` makes every monitored function call straight
    through (no rows, no table created); :func:`current_record` then returns a
    non-recording record. The environment variable ``WEAVE_NB_DISABLED=1`` sets
    the initial state. Used as a context manager, the previous state is restored
    on exit::

        with wnb.monitoring(enabled=False):
            run_tests()
    """
    previous = SWITCH.enabled
    if enabled is not None:
        SWITCH.enabled = bool(enabled)
    return _MonitoringState(previous, SWITCH.enabled)
