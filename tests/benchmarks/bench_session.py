"""Cost of ``wnb.session()``: entering a block, and a monitored call inside one.

Run: ``python tests/benchmarks/bench_session.py [--calls N] [--rounds R]``.

Variants (medians of ``R`` rounds of ``N`` each, interleaved):
  nullcontext        ``with contextlib.nullcontext():`` — the floor of any ``with`` block
  session            ``with wnb.session("user-42"):`` — set and reset one context variable
  monitor            a monitored call of two scalars, outside any session
  monitor+session    the same call inside a session block (its row gets ``session_id``)
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import tempfile
import time
from collections.abc import Callable

import weave_nb as wnb


def add(a: int, b: float) -> float:
    return a + b


def timed(body: Callable[[int], object], calls: int) -> float:
    start = time.perf_counter()
    for i in range(calls):
        body(i)
    return (time.perf_counter() - start) / calls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=3)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as root:
        table = wnb.StreamTable("bench_session", root=root)
        monitored = wnb.monitor(table=table)(add)

        def null(i: int) -> None:
            with contextlib.nullcontext():
                pass

        def session(i: int) -> None:
            with wnb.session("user-42"):
                pass

        def call(i: int) -> None:
            monitored(i, 0.5)

        def call_in_session(i: int) -> None:
            with wnb.session("user-42"):
                monitored(i, 0.5)

        variants = {
            "nullcontext": null,
            "session": session,
            "monitor": call,
            "monitor+session": call_in_session,
        }
        samples: dict[str, list[float]] = {name: [] for name in variants}
        for body in variants.values():  # warm up
            timed(body, 500)
        table.flush()
        for _ in range(options.rounds):
            for name, body in variants.items():
                samples[name].append(timed(body, options.calls))
                table.flush()
        table.close()
    median = {name: statistics.median(v) * 1e6 for name, v in samples.items()}
    print(f"median of {options.rounds} rounds of {options.calls:,} calls")
    print(f"{'variant':<16} {'µs/call':>8}")
    for name, value in median.items():
        print(f"{name:<16} {value:8.2f}")
    print(f"session block: {median['session'] - median['nullcontext']:.2f} µs over a bare with")
    print(
        f"monitored call in a session: {median['monitor+session'] - median['monitor']:.2f} µs "
        "more (the block, and a session_id column built in the flusher)"
    )


if __name__ == "__main__":
    main()
