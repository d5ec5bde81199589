"""Overhead of ``@monitor`` per call, beside baselines measured in the same run.

Run: ``python tests/benchmarks/bench_monitor.py [--calls N] [--rounds R]``.

Every variant wraps the same function (two small scalar arguments, scalar
result). Rounds interleave the variants so machine noise hits them alike; each
round times ``N`` calls of each variant, and the table reports the median over
rounds of the wall-clock time per call, the overhead over the bare call, and the
calling thread's CPU time per call (steadier than wall-clock on a busy machine;
background threads — the store's flusher, the span processor — are not in it).

Variants:
  bare          the function itself
  list-append   a minimal decorator appending (args, kwargs, result, t0, t1) to a list,
                t0 and t1 from time.time() around the call (the floor of issue 11: the
                monitor's caller path should stay within 2x of it)
  otel-span     an OpenTelemetry SDK span with the same attributes, BatchSpanProcessor
                and an exporter that drops spans (needs the ``bench`` extra)
  monitor       ``@monitor`` into a persisted StreamTable (the target: overhead <= 5 µs)
  monitor-only  ``@monitor`` into a table whose ``log`` does nothing and whose deferred
                writer's intake is a list emptied between rounds: the monitor's own share
                (the append to the backlog, all the store asks of the caller, included)
  store.log     one ``StreamTable.log`` of a row like the monitor's: the store's share
  store.log-flat  the same row with only plain scalars (no nested dict, no datetimes): the
                store's fast path, showing what the nested ``inputs`` and timestamps cost
  store flush   per row, the background conversion and write of the monitor's rows

Then the parts of the monitor's caller path that a list-append decorator does not
pay (or pays less of), each timed alone in Python in the same run, per call: what
the pure-Python path (``WEAVE_NB_PURE_PYTHON=1``) pays, and the C path
(``weave_nb._speedups``, the default where it is built) pays a fraction of.
"""

from __future__ import annotations

import argparse
import contextvars
import datetime as dt
import functools
import itertools
import os
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from typing import Any

from weave_nb._accel import SPEEDUPS
from weave_nb.monitor import monitor
from weave_nb.store import Intake, StreamTable, intake_of

NOW = dt.datetime.now(dt.timezone.utc)


def add(a: int, b: float) -> float:
    return a + b


def list_append(fn: Callable[..., Any]) -> tuple[Callable[..., Any], list[Any]]:
    sink: list[Any] = []

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        t0 = time.time()
        result = fn(*args, **kwargs)
        sink.append((args, kwargs, result, t0, time.time()))
        return result

    return wrapper, sink


def otel_span(
    fn: Callable[..., Any], queue_size: int
) -> tuple[Callable[..., Any], Callable[[], Any]] | None:
    """``fn`` inside an OpenTelemetry SDK span, and a function flushing the span processor.

    The queue holds a whole batch, so no span is dropped (dropping would flatter it).
    """
    try:
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import (
            BatchSpanProcessor,
            SpanExporter,
            SpanExportResult,
        )
    except ImportError:
        return None

    class DropExporter(SpanExporter):
        def export(self, spans: Sequence[Any]) -> SpanExportResult:
            return SpanExportResult.SUCCESS

    provider = TracerProvider()
    provider.add_span_processor(BatchSpanProcessor(DropExporter(), max_queue_size=queue_size))
    tracer = provider.get_tracer("bench_monitor")

    @functools.wraps(fn)
    def wrapper(a: Any, b: Any) -> Any:
        with tracer.start_as_current_span(fn.__qualname__) as span:
            span.set_attribute("inputs.a", a)
            span.set_attribute("inputs.b", b)
            result = fn(a, b)
            span.set_attribute("output", result)
            return result

    return wrapper, provider.force_flush


class NullTable(StreamTable):
    """An in-memory table that drops rows, to time the monitor without the store.

    Its deferred writer's intake (where the monitor appends) is a list that
    ``settle`` empties, untimed.
    """

    def log(self, row: Any) -> None:
        return None

    def deferred_writer(self, build: Any) -> Callable[[Any], None]:
        def drop(payload: Any) -> None:
            return None

        drop.intake = self.dropped  # type: ignore[attr-defined]
        return drop

    @functools.cached_property
    def dropped(self) -> Intake:
        return Intake([], 0, 1 << 62)

    def settle(self) -> None:
        self.dropped.pending.clear()


def log_monitor_like_row(table: StreamTable, a: int, b: float) -> None:
    """What ``@monitor`` logs for ``add(a, b)``, built from constants."""
    table.log(
        {
            "_id": "id",
            "name": "add",
            "inputs": {"a": a, "b": b},
            "output": a + b,
            "status": "success",
            "exception": None,
            "start_time": NOW,
            "end_time": NOW,
            "latency_ms": 0.001,
            "trace_id": "id",
            "parent_id": None,
        }
    )


def log_flat_row(table: StreamTable, a: int, b: float) -> None:
    """The monitor's row flattened to plain scalars."""
    table.log(
        {
            "_id": "id",
            "name": "add",
            "inputs.a": a,
            "inputs.b": b,
            "output": a + b,
            "status": "success",
            "exception": None,
            "latency_ms": 0.001,
            "trace_id": "id",
            "parent_id": None,
        }
    )


class Passthrough:
    """An object whose ``__call__`` only calls the function: what calling an instance costs."""

    def __init__(self, fn: Callable[..., Any]) -> None:
        self.fn = fn

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.fn(*args, **kwargs)


def caller_parts(table: StreamTable) -> dict[str, Callable[[int, float], Any]]:
    """Each part of the monitor's caller path alone, as a call of the same shape as ``add``."""
    current: contextvars.ContextVar[Any] = contextvars.ContextVar("bench", default=None)
    counter = itertools.count()
    plain = frozenset({int, float, str, bool, type(None), bytes})
    intake = intake_of(table.deferred_writer(lambda payloads: {"x": [0] * len(payloads)}))

    def context_variable(a: int, b: float) -> None:
        current.reset(current.set(a))

    def clocks(a: int, b: float) -> None:  # the floor reads 2 clocks, the monitor 3
        time.time_ns(), time.perf_counter_ns(), time.perf_counter_ns()

    def frame(a: int, b: float) -> None:
        key = next(counter)
        parent = current.get()
        _ = [key, key, parent, table, None]

    def type_check(a: int, b: float) -> bool:
        args = (a, b)
        return type(a + b) in plain and type(args[0]) in plain and type(args[1]) in plain

    def store_append(a: int, b: float) -> None:  # what the monitor does with the store's intake
        pending = intake.pending
        if len(pending) <= intake.limit:
            pending.append((0, intake.kind, (1, 1, None, (a, b), None, a + b, None, 0, 0)))

    def closure(*args: Any, **kwargs: Any) -> Any:
        return add(*args, **kwargs)

    return {
        "instance call": Passthrough(add),
        "closure call": closure,
        "ContextVar set+reset": context_variable,
        "3 clock reads": clocks,
        "frame (list+id)": frame,
        "plain-type check": type_check,
        "store append": store_append,
    }


def time_per_call(call: Callable[[int, float], Any], calls: int) -> tuple[float, float]:
    """Wall-clock and calling-thread CPU seconds per call over one batch."""
    start, cpu = time.perf_counter(), time.thread_time()
    for i in range(calls):
        call(i, 0.5)
    return (time.perf_counter() - start) / calls, (time.thread_time() - cpu) / calls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=5_000, help="calls per variant per round")
    parser.add_argument("--rounds", type=int, default=21, help="rounds (median is taken over them)")
    options = parser.parse_args()

    with tempfile.TemporaryDirectory() as root:
        table = StreamTable("bench_monitor", root=root)
        store_table = StreamTable("bench_store_log", root=root)
        flat_table = StreamTable("bench_store_log_flat", root=root)
        parts_table = StreamTable("bench_parts", root=root)
        appended, sink = list_append(add)
        variants: dict[str, Callable[[int, float], Any]] = {"bare": add, "list-append": appended}
        # Background work a variant leaves behind (span export, Arrow conversion and
        # writing) is finished untimed after its batch, so it never lands on another
        # variant's clock; the store's share is timed separately as "store flush".
        settle: dict[str, Callable[[], Any]] = {"list-append": sink.clear}
        span = otel_span(add, queue_size=2 * options.calls)
        if span is not None:
            variants["otel-span"], settle["otel-span"] = span
        variants["monitor"] = monitor(table=table)(add)
        null_table = NullTable("null", persist=False)
        variants["monitor-only"] = monitor(table=null_table)(add)
        settle["monitor-only"] = null_table.settle
        variants["store.log"] = functools.partial(log_monitor_like_row, store_table)
        settle["store.log"] = store_table.flush
        variants["store.log-flat"] = functools.partial(log_flat_row, flat_table)
        settle["store.log-flat"] = flat_table.flush
        parts = caller_parts(parts_table)
        variants.update(parts)
        settle["store append"] = parts_table.flush

        for name, call in variants.items():  # warm up
            time_per_call(call, 500)
            settle.get(name, table.flush)()
        samples: dict[str, list[tuple[float, float]]] = {n: [] for n in [*variants, "store flush"]}
        for _ in range(options.rounds):
            for name, call in variants.items():
                samples[name].append(time_per_call(call, options.calls))
                if name == "monitor":
                    start, cpu = time.perf_counter(), time.thread_time()
                    table.flush()
                    samples["store flush"].append(
                        (
                            (time.perf_counter() - start) / options.calls,
                            (time.thread_time() - cpu) / options.calls,
                        )
                    )
                else:
                    settle.get(name, lambda: None)()
        rows = len(table)
        table.close()
        store_table.close()
        flat_table.close()
        parts_table.close()

    wall_medians = {
        name: statistics.median(w for w, _ in values) * 1e6 for name, values in samples.items()
    }
    cpu_medians = {
        name: statistics.median(c for _, c in values) * 1e6 for name, values in samples.items()
    }
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs")
    print(f"fast paths: {'C (weave_nb._speedups)' if SPEEDUPS is not None else 'pure Python'}")
    print(f"{'variant':<20} {'µs/call':>9} {'overhead µs':>12} {'cpu µs/call':>12}")
    for name, median in wall_medians.items():
        if name in parts:
            continue
        overhead = (
            f"{median - wall_medians['bare']:12.2f}" if name != "store flush" else " per row, bg."
        )
        print(f"{name:<20} {median:9.2f} {overhead:>12} {cpu_medians[name]:12.2f}")
    print("parts of the caller path, each timed alone as a call like bare's (µs over bare):")
    for name in parts:
        extra, cpu_extra = wall_medians[name] - wall_medians["bare"], cpu_medians[name]
        print(f"  {name:<20} {extra:7.2f} {'':>12} {cpu_extra - cpu_medians['bare']:12.2f}")
    print(f"monitor rows logged: {rows} (expected {options.rounds * options.calls + 500})")
    floor = wall_medians["list-append"]
    caller = wall_medians["monitor"]
    amortised = caller + wall_medians["store flush"]
    print(
        f"@monitor vs list-append: caller path {caller:.2f} µs vs {floor:.2f} µs"
        f" ({caller / floor:.2f}x); amortised with the flusher's work {amortised:.2f} µs"
        f" ({amortised / floor:.2f}x)"
    )
    floor, caller = cpu_medians["list-append"], cpu_medians["monitor"]
    amortised = caller + cpu_medians["store flush"]
    print(
        f"the same in CPU time: caller path {caller:.2f} µs vs {floor:.2f} µs"
        f" ({caller / floor:.2f}x); amortised {amortised:.2f} µs ({amortised / floor:.2f}x)"
    )
    if span is None:
        print("otel-span skipped: install the 'bench' extra (opentelemetry-sdk)")


if __name__ == "__main__":
    main()
