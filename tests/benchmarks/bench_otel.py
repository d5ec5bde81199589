"""OpenTelemetry exporter throughput: spans/s into a StreamTable vs OTel's InMemorySpanExporter.

Run: ``python tests/benchmarks/bench_otel.py [--spans N] [--batch B] [--rounds R]``.

The spans (a chain span, an LLM span with GenAI attributes and token usage,
and a tool span, repeated) are made once by the OpenTelemetry SDK; each round
exports them in batches of ``B`` as ``BatchSpanProcessor`` does, then (for the
StreamTable) flushes, so the figure includes writing them to disk. A second
baseline encodes each span as JSON (``span.to_json()``), the floor of any exporter
that serializes. Medians of
``R`` rounds, both exporters in the same run.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Sequence
from typing import Any

from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from weave_nb.otel import SpanExporter
from weave_nb.store import StreamTable


def make_spans(n: int) -> list[ReadableSpan]:
    """``n`` finished spans of three-span chains."""
    memory = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(memory))
    tracer = provider.get_tracer("bench_otel")
    for i in range(n // 3 + 1):
        with tracer.start_as_current_span("chain") as chain:
            chain.set_attribute("openinference.span.kind", "CHAIN")
            chain.set_attribute("input.value", f"question {i}")
            with tracer.start_as_current_span("llm") as llm:
                llm.set_attribute("gen_ai.request.model", "gpt-4o")
                llm.set_attribute("gen_ai.usage.input_tokens", 100 + i % 50)
                llm.set_attribute("gen_ai.usage.output_tokens", 20)
                llm.set_attribute(
                    "gen_ai.input.messages", f'[{{"role": "user", "content": "{i}"}}]'
                )
                llm.set_attribute("temperature", 0.2)
            with tracer.start_as_current_span("tool") as tool:
                tool.set_attribute("openinference.span.kind", "TOOL")
                tool.set_attribute("tool.name", "calculator")
    return list(memory.get_finished_spans())[:n]


class JsonExporter(InMemorySpanExporter):  # type: ignore[misc]
    """Encodes each span as JSON and drops it: the floor of any exporter that serializes."""

    def export(self, spans: Sequence[ReadableSpan]) -> Any:
        for span in spans:
            span.to_json(indent=None)
        return super().export(())


def export_all(exporter: Any, spans: Sequence[ReadableSpan], batch: int) -> None:
    for start in range(0, len(spans), batch):
        exporter.export(spans[start : start + batch])
    exporter.force_flush()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--spans", type=int, default=30_000)
    parser.add_argument("--batch", type=int, default=512, help="BatchSpanProcessor's default")
    parser.add_argument("--rounds", type=int, default=3)
    options = parser.parse_args()
    spans = make_spans(options.spans)
    rates: dict[str, list[float]] = {
        "InMemorySpanExporter": [],
        "span.to_json() per span": [],
        "weave_nb SpanExporter": [],
    }
    with tempfile.TemporaryDirectory() as root:
        for r in range(options.rounds):
            memory = InMemorySpanExporter()
            start = time.perf_counter()
            export_all(memory, spans, options.batch)
            rates["InMemorySpanExporter"].append(len(spans) / (time.perf_counter() - start))
            start = time.perf_counter()
            export_all(JsonExporter(), spans, options.batch)
            rates["span.to_json() per span"].append(len(spans) / (time.perf_counter() - start))
            table = StreamTable(f"bench_otel_{r}", root=root)
            exporter = SpanExporter(table, prices={"gpt-4o": (2.5, 10.0)})
            start = time.perf_counter()
            export_all(exporter, spans, options.batch)
            rates["weave_nb SpanExporter"].append(len(spans) / (time.perf_counter() - start))
            assert len(table) == len(spans)
            table.close()
    print(f"{len(spans):,} spans in batches of {options.batch}, median of {options.rounds} rounds")
    print(f"{'exporter':<24} {'spans/s':>12}")
    for name, values in rates.items():
        print(f"{name:<24} {statistics.median(values):12,.0f}")
    ratio = statistics.median(rates["InMemorySpanExporter"]) / statistics.median(
        rates["weave_nb SpanExporter"]
    )
    print(f"weave_nb takes {ratio:,.0f}x the time of appending to a list; it validates, maps and")
    print("writes every span to Parquet on disk (the JSON line shows what encoding alone costs)")


if __name__ == "__main__":
    main()
