"""OpenTelemetry in: finished spans become rows of a StreamTable, beside ``@monitor`` calls.

Requires the OpenTelemetry SDK (``pip install opentelemetry-sdk``); importing
this module without it raises an ``ImportError`` saying so. Nothing else in
weave_nb imports it.

::

    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor
    import weave_nb.otel

    provider = TracerProvider()
    provider.add_span_processor(weave_nb.otel.LinkProcessor())      # links, sessions
    provider.add_span_processor(BatchSpanProcessor(weave_nb.otel.SpanExporter(table)))
    # or, the same in one call: provider = weave_nb.otel.install(table)

Each span is a row with the columns of a ``@monitor`` row: ``_id`` (span id),
``trace_id``, ``parent_id``, ``name``, ``start_time``, ``end_time``,
``latency_ms``, ``status`` (``success``/``error``), ``exception`` (from the
span's exception event, else its status description), plus ``session_id``,
``span_kind``, ``model``, token counts, ``cost_usd`` (with a price table),
``inputs`` and ``output``, read from the GenAI semantic conventions
(``gen_ai.*``) and OpenInference (``llm.*``, ``input.value``, ``session.id``,
``openinference.span.kind``). Every other attribute is kept in ``attributes``;
so is a mapped one whose value has an unexpected type (the mapped column is
then null, with one :class:`~weave_nb.monitor.MonitorWarning` per span name).

Ids are hex: 32 digits for traces, 16 for spans. With :class:`LinkProcessor`
installed, spans and ``@monitor`` calls nested in each other share one trace:
a monitored call inside a span is its child, and a span inside a monitored
call is the call's child, with the call's ``trace_id``.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
import warnings
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

try:
    from opentelemetry import trace as _trace
    from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor, TracerProvider
    from opentelemetry.sdk.trace import export as _export
    from opentelemetry.trace import StatusCode
except ImportError as missing:  # pragma: no cover - depends on the environment
    raise ImportError(
        "weave_nb.otel needs the OpenTelemetry SDK: pip install opentelemetry-sdk"
    ) from missing

from ._config import SETTINGS
from ._redact import Redactor
from .monitor import LOG_ERRORS, MonitorWarning, current_record, schema, storable_variants
from .tracing import SESSION, STATE, Prices, check_prices, cost_usd

if TYPE_CHECKING:
    from opentelemetry.context import Context

    from weave_nb.store import StreamTable

__all__ = ["LinkProcessor", "SpanExporter", "install", "span_row"]

TRACE_ATTRIBUTE = "weave_nb.trace_id"
"""Span attribute set by :class:`LinkProcessor`: the trace id the row gets."""
PARENT_ATTRIBUTE = "weave_nb.parent_id"
"""Span attribute set by :class:`LinkProcessor`: the enclosing ``@monitor`` call's id."""

_UTC = dt.timezone.utc
_FREE_FORM = (schema.INPUTS, schema.OUTPUT, "attributes")  # stored as text when refused
_MAX_LINKS = 10_000
_MAX_OPEN_SPANS = 100_000

# Attribute names, first match wins.
_MODEL = ("gen_ai.response.model", "gen_ai.request.model", "llm.model_name")
_INPUT_TOKENS = (
    "gen_ai.usage.input_tokens",
    "gen_ai.usage.prompt_tokens",
    "llm.token_count.prompt",
)
_OUTPUT_TOKENS = (
    "gen_ai.usage.output_tokens",
    "gen_ai.usage.completion_tokens",
    "llm.token_count.completion",
)
_TOTAL_TOKENS = ("llm.token_count.total", "gen_ai.usage.total_tokens")
_SESSION = ("session.id", "gen_ai.conversation.id")
_KIND = ("openinference.span.kind",)
_INPUTS = (
    ("gen_ai.input.messages", "messages"),
    ("gen_ai.prompt", "prompt"),
    ("input.value", "value"),
)
_OUTPUTS = ("gen_ai.output.messages", "gen_ai.completion", "output.value")
_LINK_KEYS = (TRACE_ATTRIBUTE, PARENT_ATTRIBUTE)


def _hex_trace(trace_id: int) -> str:
    return format(trace_id, "032x")


def _hex_span(span_id: int) -> str:
    return format(span_id, "016x")


# ---------------------------------------------------------------------------
# Links between spans and @monitor calls


class _Links:
    """OTel trace ids adopted into a ``@monitor`` trace (bounded: oldest forgotten first)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._traces: OrderedDict[int, str] = OrderedDict()

    def get(self, trace_id: int) -> str | None:
        return self._traces.get(trace_id)

    def put(self, trace_id: int, monitor_trace: str) -> None:
        with self._lock:
            self._traces[trace_id] = monitor_trace
            while len(self._traces) > _MAX_LINKS:
                self._traces.popitem(last=False)


_LINKS = _Links()


def _enclosing_span() -> tuple[str, str] | None:
    """``(trace_id, parent_id)`` for a root ``@monitor`` call running inside an OTel span."""
    context = _trace.get_current_span().get_span_context()
    if not context.is_valid:
        return None
    trace = _LINKS.get(context.trace_id) or _hex_trace(context.trace_id)
    return trace, _hex_span(context.span_id)


def _link_monitor_calls() -> None:
    if STATE.external_parent is not _enclosing_span:
        STATE.set_external_parent(_enclosing_span)


class LinkProcessor(SpanProcessor):  # type: ignore[misc]
    """Links spans to ``@monitor`` calls and tags them with the current session.

    Add it to the tracer provider beside the processor of :class:`SpanExporter`.
    A span started inside a monitored call becomes the call's child (attributes
    ``weave_nb.trace_id``/``weave_nb.parent_id``, read by the exporter); a span
    started inside ``with wnb.session(...)`` gets ``session.id``.
    """

    def __init__(self) -> None:
        _link_monitor_calls()
        self._lock = threading.Lock()
        # Span id -> id of the monitored call running when it started, while it runs.
        self._started_in: dict[int, str | None] = {}

    def on_start(self, span: Any, parent_context: Context | None = None) -> None:
        try:
            self._link(span)
        except Exception as error:  # never fail the traced application
            _warn("link", f"weave_nb could not link span {span.name!r}: {error!r}")

    def _link(self, span: Any) -> None:
        context = span.get_span_context()
        record = current_record()
        parent = span.parent
        record_id = str(record.id) if record.recording else None
        with self._lock:
            if len(self._started_in) >= _MAX_OPEN_SPANS:  # spans that never end: forget them
                self._started_in.clear()
            self._started_in[context.span_id] = record_id
            parent_in = None if parent is None else self._started_in.get(parent.span_id, None)
        # A span's parent is the innermost unit around it: its OTel parent when that
        # span started inside the same monitored call, else the monitored call.
        if record is not None and record_id is not None and parent_in != record_id:
            span.set_attribute(PARENT_ATTRIBUTE, record_id)
            _LINKS.put(context.trace_id, str(record.trace_id))
        adopted = _LINKS.get(context.trace_id)
        if adopted is not None:
            span.set_attribute(TRACE_ATTRIBUTE, adopted)
        session_id = SESSION.get()
        if session_id is not None and not any(k in (span.attributes or {}) for k in _SESSION):
            span.set_attribute("session.id", session_id)

    def on_end(self, span: ReadableSpan) -> None:
        if span.context is not None:
            with self._lock:
                self._started_in.pop(span.context.span_id, None)

    def shutdown(self) -> None:
        pass

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True


# ---------------------------------------------------------------------------
# Spans as rows


class _Problems:
    """What could not be mapped, reported once per span name and problem."""

    def __init__(self) -> None:
        self._seen: set[tuple[str, str]] = set()
        self._lock = threading.Lock()

    def report(self, span_name: str, problem: str) -> None:
        key = (span_name, problem)
        if key in self._seen:
            return
        with self._lock:
            if key in self._seen:
                return
            self._seen.add(key)
        _warn(key, f"span {span_name!r}: {problem}; the row is logged with null there")


def _warn(_key: object, message: str) -> None:
    warnings.warn(message, MonitorWarning, stacklevel=2)


def _first(attrs: dict[str, Any], names: Sequence[str]) -> tuple[str | None, Any]:
    for name in names:
        if name in attrs:
            return name, attrs[name]
    return None, None


def _take_text(attrs: dict[str, Any], names: Sequence[str], label: str, problem: list[str]) -> Any:
    name, value = _first(attrs, names)
    if name is None:
        return None
    if isinstance(value, str):
        del attrs[name]
        return value
    problem.append(f"{name} is a {type(value).__name__}, not text ({label} left null)")
    return None


def _take_count(attrs: dict[str, Any], names: Sequence[str], problem: list[str]) -> int | None:
    name, value = _first(attrs, names)
    if name is None:
        return None
    if type(value) is int and value >= 0:
        del attrs[name]
        return value
    if type(value) is float and value.is_integer() and value >= 0:
        del attrs[name]
        return int(value)
    problem.append(f"{name} is {value!r}, not a token count (left null, kept in attributes)")
    return None


def _exception(span: ReadableSpan) -> dict[str, str] | None:
    for event in span.events or ():
        if event.name == "exception":
            attrs = event.attributes or {}
            return _failure(
                str(attrs.get("exception.type", "")),
                str(attrs.get("exception.message", "")),
                str(attrs.get("exception.stacktrace", "")),
            )
    return _failure("", span.status.description or "", "")


def _failure(kind: str, message: str, traceback: str) -> dict[str, str]:
    return dict(zip(schema.EXCEPTION_FIELDS, (kind, message, traceback), strict=True))


def span_row(
    span: ReadableSpan,
    prices: Mapping[str, tuple[float, float]] | None = None,
    problems: _Problems | None = None,
) -> dict[str, Any]:
    """The row of one finished span (before redaction)."""
    attrs = dict(span.attributes or {})
    context = span.context
    trace_id = attrs.pop(TRACE_ATTRIBUTE, None)
    parent_id = attrs.pop(PARENT_ATTRIBUTE, None)
    if not isinstance(trace_id, str):
        trace_id = _hex_trace(context.trace_id) if context is not None else None
    if not isinstance(parent_id, str):
        parent = span.parent
        parent_id = _hex_span(parent.span_id) if parent is not None and parent.is_valid else None
    start, end = span.start_time, span.end_time
    failed = span.status.status_code is StatusCode.ERROR
    issues: list[str] = []
    model = _take_text(attrs, _MODEL, "model", issues)
    input_tokens = _take_count(attrs, _INPUT_TOKENS, issues)
    output_tokens = _take_count(attrs, _OUTPUT_TOKENS, issues)
    total_tokens = _take_count(attrs, _TOTAL_TOKENS, issues)
    if total_tokens is None and input_tokens is not None and output_tokens is not None:
        total_tokens = input_tokens + output_tokens
    session_id = _take_text(attrs, _SESSION, "session_id", issues)
    kind = _take_text(attrs, _KIND, "span_kind", issues)
    if kind is None and model is not None:
        kind = "LLM"
    inputs = None
    for name, field in _INPUTS:
        value = _take_text(attrs, (name,), "inputs", issues)
        if value is not None:
            inputs = {field: value}
            break
    output = _take_text(attrs, _OUTPUTS, "output", issues)
    row: dict[str, Any] = {
        "_id": _hex_span(context.span_id) if context is not None else None,
        schema.NAME: span.name,
        schema.INPUTS: inputs,
        schema.OUTPUT: output,
        schema.STATUS: schema.ERROR if failed else schema.SUCCESS,
        schema.EXCEPTION: _exception(span) if failed else None,
        schema.START_TIME: None if start is None else dt.datetime.fromtimestamp(start / 1e9, _UTC),
        schema.END_TIME: None if end is None else dt.datetime.fromtimestamp(end / 1e9, _UTC),
        schema.LATENCY_MS: None if start is None or end is None else (end - start) / 1e6,
        schema.TRACE_ID: trace_id,
        schema.PARENT_ID: parent_id,
        schema.SESSION_ID: session_id,
        "span_kind": kind,
    }
    if model is not None or input_tokens is not None or output_tokens is not None:
        row.update(
            model=model,
            input_tokens=input_tokens,
            output_tokens=output_tokens,
            total_tokens=total_tokens,
        )
        if prices is not None:
            row["cost_usd"], issue = cost_usd(model, input_tokens, output_tokens, prices)
            if issue:
                issues.append(issue)
    if row["_id"] is None:
        del row["_id"]  # a span without context: the store generates an id
    row["attributes"] = {k: _attribute(v) for k, v in attrs.items()} or None
    if problems is not None:
        for issue in issues:
            problems.report(span.name, issue)
    return row


def _attribute(value: Any) -> Any:
    # Sequences arrive as tuples; a list is what the store keeps as a list column.
    return list(value) if isinstance(value, tuple) else value


def _as_text(value: Any) -> Any:
    if value is None or isinstance(value, str):
        return value
    try:
        return json.dumps(value, default=repr, ensure_ascii=False)
    except (TypeError, ValueError):
        return repr(value)


class SpanExporter(_export.SpanExporter):  # type: ignore[misc]
    """An OpenTelemetry SDK span exporter writing each finished span as a row of ``table``.

    Use it with ``SimpleSpanProcessor`` or ``BatchSpanProcessor``. ``prices``
    (USD per 1M tokens per model) and ``redact`` (key names or globs) add to
    :func:`weave_nb.init`'s. Exporting never raises into the application: a
    span the store refuses is written with its nested values as JSON text.
    """

    def __init__(
        self,
        table: StreamTable,
        *,
        prices: Prices | None = None,
        redact: Iterable[str] | None = None,
    ) -> None:
        from weave_nb.store import StreamTable

        if not isinstance(table, StreamTable):
            raise TypeError(f"SpanExporter writes to a StreamTable, got {type(table).__name__}")
        self.table = table
        """The table spans are written to."""
        self._prices = check_prices(prices)
        self._redactor = None if redact is None else Redactor(redact)
        self._problems = _Problems()
        _link_monitor_calls()

    def export(self, spans: Sequence[ReadableSpan]) -> _export.SpanExportResult:
        """Write ``spans`` as rows (validated now, written by the store's flusher)."""
        try:
            prices = self._prices if self._prices is not None else SETTINGS.prices
            redactor = SETTINGS.redactor.merged(self._redactor)
            rows = [self._row(span, prices) for span in spans]
            if redactor.active:
                rows = [redactor.row(row) for row in rows]
            try:
                self.table.log(rows)
            except LOG_ERRORS:
                for row in rows:
                    self._log_one(row)
            return _export.SpanExportResult.SUCCESS
        except Exception as error:
            _warn("export", f"weave_nb could not export spans: {error!r}")
            return _export.SpanExportResult.FAILURE

    def _row(
        self, span: ReadableSpan, prices: Mapping[str, tuple[float, float]] | None
    ) -> dict[str, Any]:
        """The span's row; a span that cannot be mapped keeps its name and raw attributes."""
        try:
            return span_row(span, prices, self._problems)
        except Exception as error:
            name = str(getattr(span, "name", "?"))
            self._problems.report(name, f"could not be mapped ({error!r}); raw attributes kept")
            try:
                raw = _as_text(dict(getattr(span, "attributes", None) or {}))
            except Exception:
                raw = None
            return {schema.NAME: name, schema.STATUS: None, "attributes": raw}

    def _log_one(self, row: dict[str, Any]) -> None:
        texts = {k: _as_text(v) if k in _FREE_FORM else v for k, v in row.items()}
        for variant in (row, texts, *storable_variants(texts, lambda k: not k.startswith("_"))):
            try:
                self.table.log(variant)
                return
            except LOG_ERRORS:
                continue
        self._problems.report(str(row.get("name")), "the store refused the span's values")

    def shutdown(self) -> None:
        """Make every exported span durable."""
        self.table.flush()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        """Make every exported span durable."""
        self.table.flush()
        return True


def install(
    table: StreamTable,
    provider: TracerProvider | None = None,
    *,
    batch: bool = True,
    prices: Prices | None = None,
    redact: Iterable[str] | None = None,
) -> TracerProvider:
    """Add a :class:`LinkProcessor` and a span processor exporting into ``table``.

    ``provider`` defaults to a new ``TracerProvider`` (returned; make it global
    with ``opentelemetry.trace.set_tracer_provider``). ``batch=False`` exports
    each span as it ends (``SimpleSpanProcessor``), handy in notebooks and tests.
    """
    provider = provider if provider is not None else TracerProvider()
    exporter = SpanExporter(table, prices=prices, redact=redact)
    processor = (
        _export.BatchSpanProcessor(exporter) if batch else _export.SimpleSpanProcessor(exporter)
    )
    provider.add_span_processor(LinkProcessor())
    provider.add_span_processor(processor)
    return provider
