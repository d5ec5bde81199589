"""A fleet of writer processes appending to one table on S3-compatible storage.

Run: ``python tests/benchmarks/bench_fleet.py`` (``--writers 16 --seconds 20
--interval 1``). Starts a local S3-compatible server (moto, on loopback),
then N writer processes that each log rows at a steady rate and flush every
``--interval`` seconds, timing each flush (= one Delta append commit). Prints
rows landed vs sent, ids unique, commits, retries after conflicts, and the
commit latency p50/p95 beside the same fleet writing to local disk.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parents[1]))

from _s3 import s3_server

import weave_nb as wnb

_WRITER = """
    import json, sys, time, weave_nb as wnb
    root, worker, seconds, interval, rate = sys.argv[1:6]
    worker, seconds, interval, rate = int(worker), float(seconds), float(interval), float(rate)
    table = wnb.StreamTable("fleet", root=root, flush_interval=3600)
    sent, latencies, start = 0, [], time.monotonic()
    next_flush = start + interval
    while time.monotonic() - start < seconds:
        due = int((time.monotonic() - start) * rate)
        while sent < due:
            table.log({"worker": worker, "seq": sent, "latency_ms": sent % 97 * 1.5})
            sent += 1
        if time.monotonic() >= next_flush:
            began = time.perf_counter()
            table.flush()
            latencies.append(time.perf_counter() - began)
            next_flush += interval
        time.sleep(0.005)
    began = time.perf_counter()
    table.flush()
    latencies.append(time.perf_counter() - began)
    print(json.dumps({"sent": sent, "latencies": latencies, "retries": table.commit_retries}))
    table.close()
"""


def run_fleet(
    root: str,
    writers: int,
    seconds: float,
    interval: float,
    rate: float,
    env: dict[str, str] | None,
) -> dict[str, Any]:
    """Run the fleet against ``root``; what it sent, what landed, and the commit latencies."""
    environment = {**os.environ, **(env or {})}
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                textwrap.dedent(_WRITER),
                root,
                str(w),
                str(seconds),
                str(interval),
                str(rate),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=environment,
        )
        for w in range(writers)
    ]
    reports = []
    for proc in procs:
        out, err = proc.communicate(timeout=seconds * 20 + 120)
        if proc.returncode != 0:
            raise SystemExit(f"writer failed:\n{err}")
        reports.append(json.loads(out.strip().splitlines()[-1]))
    table = wnb.open_table("fleet", root=root)
    arrow = table.to_arrow()
    landed = arrow.num_rows
    pairs = set(zip(arrow["worker"].to_pylist(), arrow["seq"].to_pylist(), strict=True))
    assert table.location is not None
    from deltalake import DeltaTable

    rows_table = DeltaTable(
        table.location.child("rows").uri,
        storage_options=dict(table.location.storage_options) or None,
    )
    commits = rows_table.version()
    table.close()
    latencies = sorted(x for r in reports for x in r["latencies"])
    return {
        "sent": sum(r["sent"] for r in reports),
        "landed": landed,
        "unique": len(pairs),
        "commits": commits,
        "retries": sum(r["retries"] for r in reports),
        "p50_ms": 1000 * statistics.median(latencies),
        "p95_ms": 1000 * latencies[int(0.95 * (len(latencies) - 1))],
    }


class _ConflictCounter(logging.Handler):
    """Counts commits the server refused because another writer took the version (HTTP 412)."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.conflicts = 0

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        if "_delta_log/" in text and '"PUT ' in text and '" 412 ' in text:
            self.conflicts += 1


def _print(label: str, result: dict[str, Any]) -> None:
    print(
        f"{label:<22} sent {result['sent']:>8,}  landed {result['landed']:>8,}  "
        f"unique {result['unique']:>8,}  commits {result['commits']:>5}  "
        f"retries {result['retries']:>4}  commit p50 {result['p50_ms']:7.1f} ms  "
        f"p95 {result['p95_ms']:7.1f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--writers", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--interval", type=float, default=1.0)
    parser.add_argument("--rate", type=float, default=200, help="rows/s per writer")
    args = parser.parse_args()
    print(
        f"{args.writers} writers × {args.rate:g} rows/s for {args.seconds:g} s, "
        f"each flushing every {args.interval:g} s"
    )
    with tempfile.TemporaryDirectory() as tmp:
        local = run_fleet(tmp, args.writers, args.seconds, args.interval, args.rate, None)
    _print("local disk (baseline)", local)
    with s3_server() as server:
        os.environ.update(server.environment)
        counter = _ConflictCounter()
        werkzeug = logging.getLogger("werkzeug")
        werkzeug.setLevel(logging.INFO)
        werkzeug.propagate = False
        werkzeug.addHandler(counter)
        root = f"s3://{server.new_bucket()}/bench"
        remote = run_fleet(
            root, args.writers, args.seconds, args.interval, args.rate, server.environment
        )
        remote["retries"] += counter.conflicts
    _print("S3 (moto, loopback)", remote)
    print("retries = commits that lost the race for a version and were rebased (HTTP 412)")
    for result in (local, remote):
        if result["landed"] != result["sent"] or result["unique"] != result["sent"]:
            raise SystemExit("rows were lost or duplicated")


if __name__ == "__main__":
    main()
