"""Live updates re-aggregate only the newest bucket, and fall back to a full aggregate."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from weave_nb.charts import Latency, Mean, Scope, Volume, _incremental
from weave_nb.store import StreamTable

T0 = dt.datetime(2026, 1, 5, 12, 0, tzinfo=dt.timezone.utc)


@pytest.fixture
def calls(table: StreamTable, monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """The keyword arguments of every ``table.aggregate`` call."""
    seen: list[dict[str, Any]] = []
    aggregate = table.aggregate

    def spy(stats: Any, **kwargs: Any) -> Any:
        seen.append(kwargs)
        return aggregate(stats, **kwargs)

    monkeypatch.setattr(table, "aggregate", spy)
    return seen


def log_minutes(table: StreamTable, minutes: range, per_minute: int = 3) -> None:
    table.log(
        [
            {"_timestamp": T0 + dt.timedelta(minutes=m, seconds=15 * k), "latency_ms": m + k}
            for m in minutes
            for k in range(per_minute)
        ]
    )


def test_updates_match_a_full_aggregate(table: StreamTable, calls: list[dict[str, Any]]) -> None:
    live = Latency(every="1min")
    for first in range(0, 30, 5):
        log_minutes(table, range(first, first + 5))
        assert live.render(table, Scope()).rows == Latency(every="1min").render(table, Scope()).rows
    tails = [c for c in calls[1:] if c["start"] is not None]
    assert tails, "no update re-aggregated only the newest bucket"


def test_an_update_reads_from_the_last_bucket_on(
    table: StreamTable, calls: list[dict[str, Any]]
) -> None:
    log_minutes(table, range(10))
    live = Volume(every="1min")
    live.render(table, Scope())
    log_minutes(table, range(10, 12))
    rows = live.render(table, Scope()).rows
    assert calls[-1]["start"] == T0 + dt.timedelta(minutes=9)
    assert [r["value"] for r in rows] == [3] * 12


def test_no_change_no_query(table: StreamTable, calls: list[dict[str, Any]]) -> None:
    log_minutes(table, range(5))
    live = Volume(every="1min")
    first = live.render(table, Scope()).rows
    assert live.render(table, Scope()).rows == first
    assert len(calls) == 1


def test_annotations_change_old_buckets_at_once(table: StreamTable) -> None:
    table.log([{"_id": f"r{m}", "_timestamp": T0 + dt.timedelta(minutes=m)} for m in range(10)])
    accuracy = Mean("CASE WHEN verdict = 'right' THEN 1.0 ELSE 0.0 END", every="1min")
    table.annotate("r0", {"verdict": "wrong"})
    assert accuracy.render(table, Scope()).rows[0]["value"] == 0.0
    table.annotate("r0", {"verdict": "right"})  # no new rows: everything is aggregated again
    assert accuracy.render(table, Scope()).rows[0]["value"] == 1.0


def test_another_scope_is_aggregated_in_full(
    table: StreamTable, calls: list[dict[str, Any]]
) -> None:
    log_minutes(table, range(10))
    live = Volume(every="1min")
    live.render(table, Scope())
    rows = live.render(table, Scope(filter="latency_ms < 3")).rows
    assert calls[-1]["start"] is None
    assert sum(r["value"] for r in rows) == 6


def test_growing_span_changes_the_adaptive_width(table: StreamTable) -> None:
    log_minutes(table, range(30), per_minute=1)
    live = Volume()
    assert {r["bucket_end"] - r["bucket"] for r in live.render(table, Scope()).rows} == {30_000}
    log_minutes(table, range(30, 120), per_minute=1)
    rows = live.render(table, Scope()).rows
    assert rows == Volume().render(table, Scope()).rows
    assert {r["bucket_end"] - r["bucket"] for r in rows} == {120_000}


def test_late_rows_show_after_the_full_refresh_interval(
    table: StreamTable, monkeypatch: pytest.MonkeyPatch
) -> None:
    log_minutes(table, range(10))
    live = Volume(every="1min")
    live.render(table, Scope())
    table.log([{"_timestamp": T0}, {"_timestamp": T0 + dt.timedelta(minutes=10)}])  # one late
    assert live.render(table, Scope()).rows[0]["value"] == 3  # the newest bucket only
    monkeypatch.setattr(_incremental, "FULL_REFRESH_SECONDS", 0.0)
    table.log({"_timestamp": T0 + dt.timedelta(minutes=10)})
    assert live.render(table, Scope()).rows[0]["value"] == 4
