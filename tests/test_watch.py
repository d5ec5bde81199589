"""t.watch(): fires and clears, refuses bad conditions at the call, never crashes its thread."""

from __future__ import annotations

import threading
import warnings
from collections.abc import Iterator

import pytest

import weave_nb as wnb
from weave_nb.quality import WatchEvent, active_watches, drift_condition

ERROR_RATE = "avg(CASE WHEN status = 'error' THEN 1.0 ELSE 0.0 END) > 0.5"
WAIT = 10.0  # seconds; a watch every 20 ms answers long before


class Events:
    """A watch callback recording events, and a way to wait for the n-th."""

    def __init__(self) -> None:
        self.events: list[WatchEvent] = []
        self._changed = threading.Condition()

    def __call__(self, event: WatchEvent) -> None:
        with self._changed:
            self.events.append(event)
            self._changed.notify_all()

    def wait_for(self, n: int) -> list[bool]:
        with self._changed:
            assert self._changed.wait_for(lambda: len(self.events) >= n, timeout=WAIT), self.events
            return [e.fired for e in self.events]


@pytest.fixture
def table() -> Iterator[wnb.StreamTable]:
    with wnb.StreamTable("watched", persist=False) as t:
        t.log({"status": "success", "x": 1.0})
        t.flush()
        yield t


def test_fires_when_true_and_again_when_cleared(table: wnb.StreamTable) -> None:
    events = Events()
    watch = table.watch(ERROR_RATE, events, every=0.02, window="1h")
    table.log([{"status": "error", "x": 1.0}] * 3)
    assert events.wait_for(1) == [True]
    assert watch.firing
    assert events.events[0].rows == 4
    table.log([{"status": "success", "x": 1.0}] * 10)
    assert events.wait_for(2) == [True, False]
    watch.stop()
    assert not watch.active
    assert active_watches(table) == []


@pytest.mark.parametrize(
    ("condition", "message"),
    [
        ("avg(x) >>> 1", "not valid SQL"),
        ("avg(nope) > 1", "not valid SQL"),
        ("status = 'error'", "must aggregate the window's rows"),
        ("avg(x)", "must be true or false"),
    ],
)
def test_bad_conditions_are_refused_at_the_call(
    table: wnb.StreamTable, condition: str, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        table.watch(condition, print, every=0.02)
    assert active_watches(table) == []


def test_bad_durations_are_refused(table: wnb.StreamTable) -> None:
    with pytest.raises(ValueError, match="every"):
        table.watch(ERROR_RATE, print, every=0)
    with pytest.raises(ValueError, match="bucket width"):
        table.watch(ERROR_RATE, print, every="soon")


def test_a_failing_condition_is_reported_once_and_stops(table: wnb.StreamTable) -> None:
    calls: list[str] = []

    def broken(_table: wnb.StreamTable, _where: str) -> bool:
        calls.append(_where)
        raise RuntimeError("model server gone")

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        watch = table.watch(broken, print, every=0.02)
        watch._thread.join(timeout=WAIT)
    assert not watch._thread.is_alive()
    assert not watch.active
    assert watch.error == "RuntimeError: model server gone"
    assert len(calls) == 1  # evaluated once, then stopped
    reports = [w for w in caught if "model server gone" in str(w.message)]
    assert len(reports) == 1


def test_a_failing_callback_is_reported_and_watching_goes_on(table: wnb.StreamTable) -> None:
    events = Events()

    def callback(event: WatchEvent) -> None:
        events(event)
        raise ValueError("pager down")

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        watch = table.watch(ERROR_RATE, callback, every=0.02, window="1h")
        table.log([{"status": "error"}] * 3)
        events.wait_for(1)
        table.log([{"status": "success"}] * 10)
        assert events.wait_for(2) == [True, False]
    assert watch.active
    assert sum("pager down" in str(w.message) for w in caught) == 1
    watch.stop()


def test_watches_stop_when_the_table_closes() -> None:
    table = wnb.StreamTable("closing", persist=False)
    table.log({"status": "success"})
    watch = table.watch(ERROR_RATE, print, every="1h")
    assert active_watches(table) == [watch]
    table.close()
    watch._thread.join(timeout=WAIT)
    assert not watch._thread.is_alive()
    assert not watch.active


def test_drift_condition_fires_when_the_window_drifted(table: wnb.StreamTable) -> None:
    table.log([{"status": "success", "x": float(i % 10)} for i in range(200)])
    table.flush()
    events = Events()
    # The window (the last hour: every row) is the reference until new values arrive.
    watch = table.watch(drift_condition("x < 50", ["x"]), events, every=0.05, window="1h")
    assert not watch.firing
    table.log([{"status": "success", "x": 100.0 + i} for i in range(400)])
    assert events.wait_for(1) == [True]
    watch.stop()


def test_a_count_condition_fires_on_silence(table: wnb.StreamTable) -> None:
    events = Events()
    # The window (the last 50 ms) soon holds no rows: fewer than one call is silence.
    watch = table.watch("count(*) < 1", events, every=0.02, window=0.05)
    assert events.wait_for(1) == [True]
    assert events.events[0].rows == 0
    watch.stop()
