"""Tracing: trace trees, sessions, tokens and cost of monitored calls and OpenTelemetry spans.

* :func:`session` tags every monitored call and span inside it with ``session_id``.
* :func:`trace_frame` / ``table.trace(trace_id)``: a trace's calls in tree order with ``depth``.
* :func:`session_frame` / ``table.session(session_id)``: a session's calls in order.
* :func:`usage_columns`: ``model``, token counts and ``cost_usd`` of an LLM client's result.
* :data:`SESSION` / :data:`STATE`: the session context variable and the process-wide hooks
  that ``@monitor`` and the OpenTelemetry exporter read on each call.
"""

from ._session import SESSION, STATE, current_session, session
from ._tree import depth_first, session_frame, trace_frame, trace_rows
from ._usage import TOKEN_COLUMNS, Prices, check_prices, cost_usd, usage_columns

__all__ = [
    "SESSION",
    "STATE",
    "TOKEN_COLUMNS",
    "Prices",
    "check_prices",
    "cost_usd",
    "current_session",
    "depth_first",
    "session",
    "session_frame",
    "trace_frame",
    "trace_rows",
    "usage_columns",
]
