"""``monitor()``: check the decorator's arguments once, and wrap each function it decorates."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from typing import Any, ParamSpec, TypeVar, cast, overload

from weave_nb._redact import Redactor
from weave_nb.store import StreamTable
from weave_nb.tracing import Prices, check_prices

from ._function import MonitoredFunction, default_table_name
from .schema import MONITOR_COLUMNS

__all__ = ["monitor"]

P = ParamSpec("P")
R = TypeVar("R")

_Decorator = Callable[[Callable[P, R]], MonitoredFunction[P, R]]


@overload
def monitor(fn: Callable[P, R], /) -> MonitoredFunction[P, R]: ...


@overload
def monitor(
    name: str | None = None,
    /,
    *,
    table: StreamTable | None = None,
    root: str | os.PathLike[str] | None = None,
    storage_options: Mapping[str, str] | None = None,
    preprocess: Callable[[dict[str, Any]], Mapping[str, Any]] | None = None,
    postprocess: Callable[[Any], Any] | None = None,
    reduce: Callable[[list[Any]], Any] | None = None,
    attributes: Mapping[str, Any] | None = None,
    auto_log: bool = True,
    session: Callable[[dict[str, Any]], Any] | None = None,
    prices: Prices | None = None,
    redact: Iterable[str] | None = None,
) -> Callable[[Callable[P, R]], MonitoredFunction[P, R]]: ...


def monitor(
    name: str | Callable[..., Any] | None = None,
    /,
    *,
    table: StreamTable | None = None,
    root: str | os.PathLike[str] | None = None,
    storage_options: Mapping[str, str] | None = None,
    preprocess: Callable[[dict[str, Any]], Mapping[str, Any]] | None = None,
    postprocess: Callable[[Any], Any] | None = None,
    reduce: Callable[[list[Any]], Any] | None = None,
    attributes: Mapping[str, Any] | None = None,
    auto_log: bool = True,
    session: Callable[[dict[str, Any]], Any] | None = None,
    prices: Prices | None = None,
    redact: Iterable[str] | None = None,
) -> Any:
    """Decorator logging every call of the function to a StreamTable.

    Args:
        name: table name; defaults to the function's qualified name (sanitised).
            ``@monitor`` without parentheses is the same as ``@monitor()``.
        table: an existing :class:`StreamTable` to log into (instead of ``name``/``root``).
        root: folder or ``s3://bucket/prefix`` of the table; defaults to
            :func:`weave_nb.init`'s root.
        storage_options: S3 settings for ``root`` (``AWS_ENDPOINT_URL``, keys...),
            overriding the ``AWS_*`` environment variables.
        preprocess: ``inputs dict -> mapping`` applied to the bound arguments
            before they are logged (e.g. to drop a large argument).
        postprocess: ``output -> value`` applied to the result before it is
            logged; the caller still receives the original result.
        reduce: for generators, ``list of items -> value`` logged as the output
            (default: the list itself).
        attributes: static columns added to every row (e.g. ``{"model_version": "v3"}``).
        auto_log: write each row when its call ends; with ``False`` the row is
            written by :meth:`Record.finish` (e.g. once feedback arrived), or at
            interpreter exit for records never finished.
        session: ``inputs dict -> session id`` deriving the call's ``session_id``
            from its bound arguments (e.g. ``lambda inputs: inputs["user_id"]``),
            for the call and the monitored calls it makes (a generator: its own
            row); otherwise a call inside ``with wnb.session(...)`` gets that id.
        prices: USD per 1M tokens per model, for the ``cost_usd`` of calls whose
            result carries token usage (default: :func:`weave_nb.init`'s ``prices``).
        redact: argument and field names (or globs) whose values are stored as
            ``"[REDACTED]"``, at any depth, on top of :func:`weave_nb.init`'s ``redact``.

    Works on functions, methods (put ``@staticmethod``/``@classmethod`` above
    it), ``async def`` functions, generators and async generators.
    """
    if callable(name):
        return monitor()(name)
    if name is not None and (not isinstance(name, str) or not name):
        raise TypeError(f"monitor(name=...) must be a non-empty str, got {name!r}")
    if table is not None:
        if name is not None or root is not None or storage_options is not None:
            raise ValueError(
                "monitor(): pass either table= or name/root/storage_options=, not both"
            )
        if not isinstance(table, StreamTable):
            raise TypeError(f"monitor(table=...) must be a StreamTable, got {type(table).__name__}")
    for hook_name, hook in (
        ("preprocess", preprocess),
        ("postprocess", postprocess),
        ("reduce", reduce),
    ):
        if hook is not None and not callable(hook):
            raise TypeError(f"monitor({hook_name}=...) must be callable, got {type(hook).__name__}")
    static = _check_attributes(attributes)
    if session is not None and not callable(session):
        raise TypeError(f"monitor(session=...) must be callable, got {type(session).__name__}")
    price_table = check_prices(prices)
    redactor = None if redact is None else Redactor(redact)
    if not isinstance(auto_log, bool):
        raise TypeError(f"monitor(auto_log=...) must be a bool, got {type(auto_log).__name__}")

    def decorate(fn: Callable[P, R]) -> MonitoredFunction[P, R]:
        if isinstance(fn, staticmethod | classmethod):
            wrapper = type(fn)(decorate(fn.__func__))
            return cast(MonitoredFunction[P, R], wrapper)
        if not callable(fn):
            raise TypeError(f"@monitor decorates a callable, got {type(fn).__name__}")
        return MonitoredFunction(
            fn,
            table=table,
            table_name=name if isinstance(name, str) else default_table_name(fn),
            root=root,
            preprocess=preprocess,
            postprocess=postprocess,
            reduce=reduce,
            attributes=static,
            auto_log=auto_log,
            storage_options=storage_options,
            session=session,
            prices=price_table,
            redactor=redactor,
        )

    return decorate


def _check_attributes(attributes: Mapping[str, Any] | None) -> dict[str, Any]:
    if attributes is None:
        return {}
    if not isinstance(attributes, Mapping):
        raise TypeError(
            f"monitor(attributes=...) must be a mapping, got {type(attributes).__name__}"
        )
    for key in attributes:
        if type(key) is not str or not key:
            raise TypeError(f"monitor(attributes=...) keys must be non-empty str, got {key!r}")
        if key.startswith("_") or key in MONITOR_COLUMNS:
            raise ValueError(
                f"monitor(attributes=...) key {key!r} clashes with a column the monitor or the "
                "store fills; pick another name"
            )
    return dict(attributes)
