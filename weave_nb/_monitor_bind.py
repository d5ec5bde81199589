"""Bind a monitored call's arguments to parameter names, cheaply.

The signature is inspected once per function. Calls that pass only positional
arguments to a function without ``*args``/``**kwargs``/keyword-only parameters
(the common case, and the one the overhead budget is measured on) take a
generated fast path that builds the dict with one literal; everything else goes
through :meth:`inspect.Signature.bind`.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

__all__ = ["Binder", "is_method"]

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


class Binder:
    """Turns ``(args, kwargs)`` of a call into ``{parameter: value}`` with defaults applied.

    With ``skip_first`` the receiver (``self``/``cls``) is left out. Arguments
    that do not fit the signature (the call itself then raises ``TypeError``) are
    kept as ``{"args": [...], "kwargs": {...}}`` so the error row still shows them.
    """

    __slots__ = ("_defaults", "_fast", "_max", "_min", "_signature", "_skip")

    def __init__(self, fn: Callable[..., Any], *, skip_first: bool) -> None:
        self._skip = 1 if skip_first else 0
        self._fast: Callable[[tuple[Any, ...]], dict[str, Any]] | None = None
        self._defaults: tuple[Any, ...] = ()
        self._min = self._max = 0
        try:
            self._signature: inspect.Signature | None = inspect.signature(fn)
        except (TypeError, ValueError):  # some builtins and C callables have none
            self._signature = None
            return
        params = list(self._signature.parameters.values())[self._skip :]
        if all(p.kind in _POSITIONAL for p in params) and all(p.name.isidentifier() for p in params):
            defaults = [p.default for p in params if p.default is not inspect.Parameter.empty]
            self._defaults = tuple(defaults)
            self._max = len(params)
            self._min = len(params) - len(defaults)
            self._fast = _compile_literal([p.name for p in params], self._skip)

    def __call__(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
        fast = self._fast
        if fast is not None and not kwargs:
            given = len(args) - self._skip
            if given == self._max:
                return fast(args)
            if self._min <= given < self._max:
                return fast(args + self._defaults[given - self._min :])
        return self._bind(args, kwargs)

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
    return {"args": list(args), "kwargs": dict(kwargs)}


def _compile_literal(names: list[str], offset: int) -> Callable[[tuple[Any, ...]], dict[str, Any]]:
    # A generated dict literal is ~4x faster than dict(zip(names, args)) for a
    # few arguments (the same technique dataclasses uses for __init__). Names
    # are checked identifiers and embedded with repr, so nothing is injected.
    items = ", ".join(f"{name!r}: args[{offset + i}]" for i, name in enumerate(names))
    namespace: dict[str, Any] = {}
    exec(f"def bind(args):\n    return {{{items}}}\n", namespace)
    fast: Callable[[tuple[Any, ...]], dict[str, Any]] = namespace["bind"]
    return fast
