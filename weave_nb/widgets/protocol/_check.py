"""Checking a JSON value against a TypedDict, with errors that name the field at fault."""

from __future__ import annotations

import functools
import types
import typing
from collections.abc import Mapping
from typing import Any, Literal, Union

__all__ = ["ProtocolError", "check_fields", "field_hints"]


class ProtocolError(ValueError):
    """A message does not have the fields its type declares."""


def check_fields(content: Mapping[str, Any], fields: type) -> None:
    """Raise :class:`ProtocolError` unless ``content`` has the fields of the TypedDict ``fields``.

    Each declared key must be present (unless optional) and hold a value of its
    declared type; keys it does not declare are ignored.
    """
    found = _fields_mismatch(content, fields)
    if found is not None:
        key, problem = found
        kind = content.get("type", fields.__name__)
        raise ProtocolError(f"{kind!r} message: field {_within(repr(key), problem)}")


def _fields_mismatch(content: Mapping[str, Any], fields: type) -> tuple[str, str] | None:
    """The first field of ``content`` not as the TypedDict ``fields`` declares, and why."""
    hints = field_hints(fields)
    required: frozenset[str] = getattr(fields, "__required_keys__", frozenset(hints))
    for key, hint in hints.items():
        if key not in content:
            if key in required:
                return key, "is missing"
            continue
        problem = _mismatch(content[key], hint)
        if problem is not None:
            return key, problem
    return None


@functools.cache
def field_hints(fields: type) -> dict[str, Any]:
    """The fields of the TypedDict ``fields`` and their types (read once per TypedDict)."""
    return typing.get_type_hints(fields)


def _mismatch(value: object, hint: Any) -> str | None:
    """Why ``value`` is not of type ``hint`` (``None`` when it is)."""
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin is Union or origin is types.UnionType:
        problems = [_mismatch(value, arg) for arg in args]
        return None if None in problems else f"must be {_describe(hint)}, got {value!r}"
    if origin is Literal:
        return None if value in args else f"must be {_describe(hint)}, got {value!r}"
    if origin is list or origin is tuple:
        if not isinstance(value, (list, tuple)):
            return f"must be {_describe(hint)}, got {value!r}"
        items = [args[0]] * len(value) if origin is list else list(args)
        if len(items) != len(value):
            return f"must be {_describe(hint)}, got {value!r}"
        for index, (item, item_hint) in enumerate(zip(value, items, strict=True)):
            problem = _mismatch(item, item_hint)
            if problem is not None:
                return _within(f"[{index}]", problem)
        return None
    if origin is dict:
        if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
            return f"must be {_describe(hint)}, got {value!r}"
        for key, item in value.items():
            problem = _mismatch(item, args[1])
            if problem is not None:
                return _within(f"[{key!r}]", problem)
        return None
    if typing.is_typeddict(hint):
        if not isinstance(value, dict):
            return f"must be an object, got {value!r}"
        found = _fields_mismatch(value, hint)
        return None if found is None else _within(f"[{found[0]!r}]", found[1])
    if hint is object:
        return None
    if hint is type(None):
        return None if value is None else f"must be null, got {value!r}"
    # JSON has one number type: an integral float is fine where a float is expected.
    accepted: tuple[type, ...] = (int, float) if hint is float else (hint,)
    if isinstance(value, bool) and hint is not bool:
        return f"must be {_describe(hint)}, got {value!r}"
    return None if isinstance(value, accepted) else f"must be {_describe(hint)}, got {value!r}"


def _within(place: str, problem: str) -> str:
    """``problem`` of an item, said of the item at ``place`` of its container."""
    return place + ("" if problem.startswith("[") else " ") + problem


def _describe(hint: Any) -> str:
    """A type as a person reads it in an error."""
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin is Union or origin is types.UnionType:
        return " or ".join(_describe(arg) for arg in args)
    if origin is Literal:
        return " or ".join(repr(arg) for arg in args)
    if origin is list:
        return f"a list of {_describe(args[0])}"
    if origin is tuple:
        return "[" + ", ".join(_describe(arg) for arg in args) + "]"
    if origin is dict:
        return "an object"
    if hint is type(None):
        return "null"
    names = {int: "an integer", float: "a number", str: "text", bool: "true or false"}
    return names.get(hint, getattr(hint, "__name__", str(hint)))
