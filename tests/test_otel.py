"""OpenTelemetry spans into a StreamTable: GenAI and OpenInference mapping, links, bad input."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from typing import Any

import pytest
from _support import rows

pytest.importorskip("opentelemetry.sdk")

from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor

import weave_nb as wnb
from weave_nb._config import configure
from weave_nb.monitor import MonitorWarning, monitor
from weave_nb.otel import SpanExporter, install
from weave_nb.store import StreamTable
from weave_nb.tracing import trace_frame

PRICES = {"gpt-4o": {"input": 2.5, "output": 10.0}}


@pytest.fixture(autouse=True)
def _settings() -> Iterator[None]:
    configure(prices=None, redact=(), max_value_bytes=1_000_000)
    yield
    configure(prices=None, redact=(), max_value_bytes=1_000_000)


@pytest.fixture
def provider(table: StreamTable) -> Iterator[TracerProvider]:
    provider = install(table, batch=False, prices=PRICES)
    yield provider
    provider.shutdown()


def by_name(table: StreamTable) -> dict[str, dict[str, Any]]:
    return {row["name"]: row for row in rows(table)}


def run_chain(provider: TracerProvider) -> None:
    tracer = provider.get_tracer("test")
    with tracer.start_as_current_span("chain") as chain:
        chain.set_attribute("openinference.span.kind", "CHAIN")
        chain.set_attribute("input.value", "what is 2+2?")
        with tracer.start_as_current_span("llm") as llm:
            llm.set_attribute("gen_ai.request.model", "gpt-4o")
            llm.set_attribute("gen_ai.response.model", "gpt-4o-2024-08-06")
            llm.set_attribute("gen_ai.usage.input_tokens", 1000)
            llm.set_attribute("gen_ai.usage.output_tokens", 100)
            llm.set_attribute("gen_ai.input.messages", '[{"role": "user", "content": "2+2"}]')
            llm.set_attribute("gen_ai.output.messages", '[{"role": "assistant", "content": "4"}]')
            llm.set_attribute("temperature", 0.2)
        try:
            with tracer.start_as_current_span("calculator") as tool:
                tool.set_attribute("openinference.span.kind", "TOOL")
                raise ZeroDivisionError("division by zero")
        except ZeroDivisionError:
            pass
        chain.set_attribute("output.value", "4")


def test_chain_with_llm_and_failing_tool_spans(
    table: StreamTable, provider: TracerProvider
) -> None:
    run_chain(provider)
    spans = by_name(table)
    chain, llm, tool = spans["chain"], spans["llm"], spans["calculator"]
    assert chain["parent_id"] is None
    assert llm["parent_id"] == tool["parent_id"] == chain["_id"]
    assert len({chain["trace_id"], llm["trace_id"], tool["trace_id"]}) == 1
    assert (len(chain["trace_id"]), len(chain["_id"])) == (32, 16)
    # inputs of spans of one table share one struct: fields a span lacks are null
    assert (chain["span_kind"], chain["inputs"]["value"], chain["output"]) == (
        "CHAIN",
        "what is 2+2?",
        "4",
    )
    assert llm["model"] == "gpt-4o-2024-08-06"
    assert (llm["input_tokens"], llm["output_tokens"], llm["total_tokens"]) == (1000, 100, 1100)
    assert llm["cost_usd"] == pytest.approx((1000 * 2.5 + 100 * 10) / 1e6)
    assert llm["inputs"]["messages"] == '[{"role": "user", "content": "2+2"}]'
    assert llm["attributes"]["temperature"] == 0.2
    assert "gen_ai.usage.input_tokens" not in llm["attributes"]
    assert llm["status"] == chain["status"] == "success"
    assert tool["status"] == "error"
    assert tool["exception"]["type"] == "ZeroDivisionError"
    assert tool["exception"]["message"] == "division by zero"
    assert "Traceback" in tool["exception"]["traceback"]
    assert tool["latency_ms"] >= 0
    assert tool["start_time"] <= tool["end_time"]
    frame = trace_frame(table, chain["trace_id"])
    assert frame["name"].tolist() == ["chain", "llm", "calculator"]
    assert frame["depth"].tolist() == [0, 1, 1]


def test_openinference_llm_attributes_and_sessions(
    table: StreamTable, provider: TracerProvider
) -> None:
    tracer = provider.get_tracer("test")
    with wnb.session("conv-1"), tracer.start_as_current_span("oi-llm") as span:
        span.set_attribute("openinference.span.kind", "LLM")
        span.set_attribute("llm.model_name", "gpt-4o")
        span.set_attribute("llm.token_count.prompt", 10)
        span.set_attribute("llm.token_count.completion", 5)
        span.set_attribute("llm.token_count.total", 15)
        span.set_attribute("gen_ai.prompt", "old-style prompt")
        span.set_attribute("gen_ai.completion", "old-style answer")
    with tracer.start_as_current_span("tagged") as span:
        span.set_attribute("session.id", "explicit")
    spans = by_name(table)
    row = spans["oi-llm"]
    assert (row["session_id"], row["span_kind"], row["model"]) == ("conv-1", "LLM", "gpt-4o")
    assert (row["input_tokens"], row["output_tokens"], row["total_tokens"]) == (10, 5, 15)
    assert (row["inputs"]["prompt"], row["output"]) == ("old-style prompt", "old-style answer")
    assert spans["tagged"]["session_id"] == "explicit"


def test_odd_attribute_types_and_unknown_model_write_the_row_and_warn_once_per_span_name(
    table: StreamTable, provider: TracerProvider
) -> None:
    tracer = provider.get_tracer("test")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(3):
            with tracer.start_as_current_span("odd") as span:
                span.set_attribute("gen_ai.request.model", "unlisted-model")
                span.set_attribute("gen_ai.usage.input_tokens", "twelve")
                span.set_attribute("gen_ai.usage.output_tokens", -3)
                span.set_attribute("input.value", 42)
                span.set_attribute("tags", ["a", "b"])
    messages = [str(w.message) for w in caught if w.category is MonitorWarning]
    assert sum("input_tokens" in m for m in messages) == 1
    assert sum("unlisted-model" in m for m in messages) == 1
    logged = [r for r in rows(table) if r["name"] == "odd"]
    assert len(logged) == 3
    row = logged[0]
    assert (row["model"], row["input_tokens"], row["output_tokens"], row["cost_usd"]) == (
        "unlisted-model",
        None,
        None,
        None,
    )
    assert row["attributes"]["gen_ai.usage.input_tokens"] == "twelve"
    assert row["attributes"]["input.value"] == 42
    assert row["attributes"]["tags"] == ["a", "b"]


def test_spans_and_monitor_calls_nested_in_each_other_share_one_trace(
    table: StreamTable, provider: TracerProvider
) -> None:
    tracer = provider.get_tracer("test")

    @monitor(table=table)
    def retrieve(query: str) -> str:
        with tracer.start_as_current_span("vector-search"), tracer.start_as_current_span("embed"):
            pass
        return "doc"

    @monitor(table=table)
    def pipeline(query: str) -> str:
        return retrieve(query)

    with tracer.start_as_current_span("request"):
        pipeline("q")
    spans = by_name(table)
    request = spans["request"]
    names = ["pipeline", "retrieve", "vector-search", "embed"]
    monitored = {n: next(r for k, r in spans.items() if k.endswith(n)) for n in names}
    assert {r["trace_id"] for r in monitored.values()} == {request["trace_id"]}
    assert monitored["pipeline"]["parent_id"] == request["_id"]
    assert monitored["retrieve"]["parent_id"] == monitored["pipeline"]["_id"]
    assert monitored["vector-search"]["parent_id"] == monitored["retrieve"]["_id"]
    assert monitored["embed"]["parent_id"] == monitored["vector-search"]["_id"]
    frame = trace_frame(table, request["trace_id"])
    assert frame["depth"].tolist() == [0, 1, 2, 3, 4]


def test_span_inside_a_root_monitor_call_takes_the_calls_trace(
    table: StreamTable, provider: TracerProvider
) -> None:
    tracer = provider.get_tracer("test")

    @monitor(table=table)
    def handler(x: int) -> int:
        with tracer.start_as_current_span("work"):
            return x

    _, record = handler.call(1)
    spans = by_name(table)
    assert spans["work"]["trace_id"] == record.trace_id
    assert spans["work"]["parent_id"] == record.id


def test_exporter_redacts_attributes_and_inputs(table: StreamTable) -> None:
    wnb.init(redact=["api_key"])
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(SpanExporter(table, redact=["*secret*"])))
    with provider.get_tracer("t").start_as_current_span("call") as span:
        span.set_attribute("llm.api_key", "sk-1")
        span.set_attribute("my_secret", "s-2")
        span.set_attribute("input.value", "fine")
    provider.shutdown()
    (row,) = rows(table)
    assert "sk-1" not in repr(row)
    assert "s-2" not in repr(row)
    assert row["attributes"] == {"llm.api_key": "[REDACTED]", "my_secret": "[REDACTED]"}


def test_export_never_raises_when_the_store_refuses(table: StreamTable) -> None:
    provider = TracerProvider()
    exporter = SpanExporter(table)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    table.close()
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        with provider.get_tracer("t").start_as_current_span("late"):
            pass  # the table is closed: the export fails quietly, the app goes on


def test_a_span_that_cannot_be_mapped_is_still_written(table: StreamTable) -> None:
    class Odd:
        name = "odd-span"
        attributes = {"k": "v"}  # noqa: RUF012

        @property
        def context(self) -> Any:
            raise RuntimeError("no context")

    exporter = SpanExporter(table)
    with pytest.warns(MonitorWarning, match="odd-span"):
        exporter.export([Odd()])  # type: ignore[list-item]
    (row,) = rows(table)
    assert row["name"] == "odd-span"
    assert row["attributes"] == '{"k": "v"}'


def test_exporter_wants_a_stream_table() -> None:
    with pytest.raises(TypeError, match="StreamTable"):
        SpanExporter("not a table")  # type: ignore[arg-type]


def test_without_the_sdk_the_import_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib
    import sys

    monkeypatch.delitem(sys.modules, "weave_nb.otel")
    monkeypatch.setitem(sys.modules, "opentelemetry", None)  # as if it were not installed
    with pytest.raises(ImportError, match="pip install opentelemetry-sdk"):
        importlib.import_module("weave_nb.otel")
    monkeypatch.undo()
    assert importlib.import_module("weave_nb.otel").SpanExporter is SpanExporter
