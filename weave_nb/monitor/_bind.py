"""Bind a monitored call's arguments to parameter names, cheaply.

The signature is inspected once per function. For a function whose parameters
are all positional (no ``*args``, ``**kwargs`` or keyword-only parameters) a
binder is generated that builds the dict with one literal when the call passes
only positional arguments — the common case, and the one the overhead budget
is measured on; every other call goes through :meth:`inspect.Signature.bind`.
An optional ``convert`` is applied to every value that is not a plain scalar
(the monitor turns image arrays into image cells with it). Rows built later in
batches bind column by column instead (:func:`make_column_binder`), with no
dict per call.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from operator import itemgetter
from typing import Any

from weave_nb.store import PLAIN_TYPES

__all__ = ["Bind", "ColumnBind", "is_method", "make_binder", "make_column_binder"]

Bind = Callable[[tuple[Any, ...], dict[str, Any]], dict[str, Any]]
"""``bind(args, kwargs) -> {parameter: value}``."""

ColumnBind = Callable[[list[tuple[Any, ...]]], "dict[str, list[Any]] | None"]
"""``bind_columns([args, ...]) -> {parameter: [value, ...]}`` or ``None``."""

_POSITIONAL = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)


def is_method(fn: Callable[..., Any]) -> bool:
    """Whether ``fn`` is defined in a class body and takes ``self``/``cls`` first.

    Decided from ``__qualname__`` (``Class.method``, not ``outer.<locals>.fn``)
    because a decorator sees the plain function before the class exists.
    """
    qualname = getattr(fn, "__qualname__", "")
    owner, _, _ = qualname.rpartition(".")
    if not owner or owner.endswith("<locals>"):
        return False
    try:
        first = next(iter(inspect.signature(fn).parameters.values()), None)
    except (TypeError, ValueError):
        return False
    return first is not None and first.kind in _POSITIONAL and first.name in ("self", "cls")


def make_binder(
    fn: Callable[..., Any], *, skip_first: bool, convert: Callable[[Any], Any] | None = None
) -> Bind:
    """A function turning ``(args, kwargs)`` of a call into ``{parameter: value}``.

    Defaults are applied; with ``skip_first`` the receiver (``self``/``cls``) is
    left out. Arguments that do not fit the signature (the call itself then
    raises ``TypeError``) are kept as ``{"args": [...], "kwargs": {...}}``
    (``kwargs`` only when given) so the error row still shows them.
    """
    skip = 1 if skip_first else 0
    signature = _signature(fn)
    slow = _SlowBinder(signature, skip, convert)
    positional = _positional(signature, skip)
    if positional is None:
        return slow
    names, defaults = positional
    return _compile(names, skip=skip, defaults=defaults, convert=convert, slow=slow)


def make_column_binder(fn: Callable[..., Any], *, skip_first: bool) -> ColumnBind | None:
    """A function turning many calls' positional arguments into input columns.

    ``bind_columns([args, ...]) -> {parameter: [value, ...]}``, defaults applied,
    or ``None`` when some call does not fit (the caller binds those row by row).
    ``None`` instead of a function when ``fn`` has parameters that are not plain
    positional ones, or defaults that are not plain scalars.
    """
    skip = 1 if skip_first else 0
    positional = _positional(_signature(fn), skip)
    if positional is None or not PLAIN_TYPES.issuperset(map(type, positional[1])):
        return None
    return _ColumnBinder(*positional, skip)


def _signature(fn: Callable[..., Any]) -> inspect.Signature | None:
    try:
        return inspect.signature(fn)
    except (TypeError, ValueError):  # some builtins and C callables have none
        return None


def _positional(
    signature: inspect.Signature | None, skip: int
) -> tuple[list[str], tuple[Any, ...]] | None:
    """Parameter names and defaults, if every parameter is a plain positional one."""
    if signature is None:
        return None
    params = list(signature.parameters.values())[skip:]
    if not all(p.kind in _POSITIONAL and p.name.isidentifier() for p in params):
        return None
    defaults = tuple(p.default for p in params if p.default is not inspect.Parameter.empty)
    return [p.name for p in params], defaults


class _ColumnBinder:
    __slots__ = ("_defaults", "_least", "_most", "_names", "_skip")

    def __init__(self, names: list[str], defaults: tuple[Any, ...], skip: int) -> None:
        self._names = names
        self._defaults = defaults
        self._skip = skip
        self._most = skip + len(names)
        self._least = self._most - len(defaults)

    def __call__(self, calls: list[tuple[Any, ...]]) -> dict[str, list[Any]] | None:
        lengths = set(map(len, calls))
        if not lengths or min(lengths) < self._least or max(lengths) > self._most:
            return None
        if len(lengths) > 1 or self._most not in lengths:
            most, least, defaults = self._most, self._least, self._defaults
            calls = [a if len(a) == most else a + defaults[len(a) - least :] for a in calls]
        skip = self._skip
        return {name: list(map(itemgetter(skip + i), calls)) for i, name in enumerate(self._names)}


def _compile(
    names: list[str],
    *,
    skip: int,
    defaults: tuple[Any, ...],
    convert: Callable[[Any], Any] | None,
    slow: Bind,
) -> Bind:
    # A generated dict literal is ~4x faster than dict(zip(names, args)) for a
    # few arguments (the same technique dataclasses uses for __init__). Names
    # are checked identifiers and embedded with repr, so nothing is injected.
    most = skip + len(names)
    least = most - len(defaults)
    lines = [
        "def bind(args, kwargs):",
        "    given = len(args)",
        f"    if kwargs or not {least} <= given <= {most}:",
        "        return slow(args, kwargs)",
        f"    if given < {most}:",
        f"        args = args + defaults[given - {least}:]",
    ]
    items = []
    for i, name in enumerate(names):
        lines.append(f"    v{i} = args[{skip + i}]")
        value = f"v{i}" if convert is None else f"v{i} if type(v{i}) in scalars else convert(v{i})"
        items.append(f"{name!r}: {value}")
    lines.append(f"    return {{{', '.join(items)}}}")
    namespace: dict[str, Any] = {
        "scalars": PLAIN_TYPES,
        "convert": convert,
        "defaults": defaults,
        "slow": slow,
    }
    exec("\n".join(lines) + "\n", namespace)
    bind: Bind = namespace["bind"]
    return bind


class _SlowBinder:
    """Binding through :meth:`inspect.Signature.bind`, for every call the fast path does not fit."""

    __slots__ = ("_convert", "_signature", "_skip")

    def __init__(
        self,
        signature: inspect.Signature | None,
        skip: int,
        convert: Callable[[Any], Any] | None,
    ) -> None:
        self._signature = signature
        self._skip = skip
        self._convert = convert

    def __call__(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
        inputs = self._bind(args, kwargs)
        convert = self._convert
        if convert is not None:
            for key, value in inputs.items():
                if type(value) not in PLAIN_TYPES:
                    inputs[key] = convert(value)
        return inputs

    def _bind(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
        if self._signature is None:
            return _raw(args[self._skip :], kwargs)
        try:
            bound = self._signature.bind(*args, **kwargs)
        except TypeError:
            return _raw(args[self._skip :], kwargs)
        bound.apply_defaults()
        inputs: dict[str, Any] = {}
        for index, (name, value) in enumerate(bound.arguments.items()):
            if index < self._skip:
                continue
            kind = self._signature.parameters[name].kind
            if kind is inspect.Parameter.VAR_KEYWORD:
                inputs.update(value)
            elif kind is inspect.Parameter.VAR_POSITIONAL:
                inputs[name] = list(value)
            else:
                inputs[name] = value
        return inputs


def _raw(args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
    raw: dict[str, Any] = {"args": list(args)}
    if kwargs:  # an empty dict would be an empty struct, which Parquet cannot hold
        raw["kwargs"] = dict(kwargs)
    return raw
