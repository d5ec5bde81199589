"""Redaction and size limits of logged values: secrets never reach disk, big values are cut visibly.

A :class:`Redactor` replaces the value of every mapping key matching one of its
names — at any depth, in dicts, lists and dataclass-like mappings — with
:data:`REDACTED`, and cuts a ``str``/``bytes`` value longer than
``max_value_bytes`` (UTF-8 bytes for text) to that size followed by a marker
naming the original size: ``…[truncated, 2,000,000 bytes]``. Names match
case-insensitively, as the whole key or, with ``*``/``?``, as a glob
(``"*token*"``); a dotted key (``llm.api_key``) also matches by its last part.

Values are copied only where something changes, so a row with nothing to
redact costs one walk over it and no allocation.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["DEFAULT_MAX_VALUE_BYTES", "REDACTED", "Redactor", "cycle_stand_in", "truncated_marker"]

REDACTED = "[REDACTED]"
"""What a redacted value is stored as."""

DEFAULT_MAX_VALUE_BYTES = 1_000_000
"""Longest ``str``/``bytes`` value stored whole, in bytes, unless configured otherwise."""

_MAX_DEPTH = 64  # deeper nesting (and a value inside itself) becomes a cycle_stand_in


def truncated_marker(size: int) -> str:
    """The text appended to a value cut short: it names the original size in bytes."""
    return f"…[truncated, {size:,} bytes]"


class Redactor:
    """Redacts matching keys and cuts oversized values; call it on a value or a row."""

    __slots__ = ("_exact", "_globs", "_named", "max_value_bytes")

    def __init__(self, names: Iterable[str] = (), max_value_bytes: int | None = None) -> None:
        names = [names] if isinstance(names, str) else list(names)
        for name in names:
            if not isinstance(name, str) or not name:
                raise TypeError(f"redact names must be non-empty str, got {name!r}")
        if max_value_bytes is not None and (
            isinstance(max_value_bytes, bool)
            or not isinstance(max_value_bytes, int)
            or max_value_bytes < 1
        ):
            raise ValueError(
                f"max_value_bytes must be a positive int or None, got {max_value_bytes!r}"
            )
        self._exact = frozenset(n.lower() for n in names if not _is_glob(n))
        self._globs = tuple(n.lower() for n in names if _is_glob(n))
        self._named = bool(self._exact or self._globs)
        self.max_value_bytes = max_value_bytes
        """Longest value stored whole (``None``: no limit)."""

    @property
    def active(self) -> bool:
        """Whether this redactor can change anything."""
        return self._named or bool(self.max_value_bytes)

    def merged(self, other: Redactor | None) -> Redactor:
        """A redactor applying both this one's names and ``other``'s (the smaller size limit)."""
        if other is None:
            return self
        merged = Redactor()
        merged._exact = self._exact | other._exact
        merged._globs = self._globs + other._globs
        merged._named = self._named or other._named
        limits = [m for m in (self.max_value_bytes, other.max_value_bytes) if m]
        merged.max_value_bytes = min(limits) if limits else None
        return merged

    def secret(self, key: str) -> bool:
        """Whether the value under ``key`` is redacted."""
        if not self._named:
            return False
        lowered = key.lower()
        if lowered in self._exact:
            return True
        last = lowered.rpartition(".")[2]
        if last != lowered and last in self._exact:
            return True
        return any(fnmatch.fnmatchcase(lowered, g) for g in self._globs)

    def row(self, row: Mapping[str, Any]) -> dict[str, Any]:
        """A row with its secrets redacted and oversized values cut (columns are keys too).

        A ``dict`` with nothing to change is returned as is, not copied.
        """
        if self._named:
            fixed = {k: REDACTED if self.secret(k) else self(v) for k, v in row.items()}
        else:
            fixed = {k: self(v) for k, v in row.items()}
        if type(row) is dict and all(fixed[k] is v for k, v in row.items()):
            return row
        return fixed

    def __call__(self, value: Any) -> Any:
        """``value`` with secrets redacted and oversized values cut; unchanged parts are shared."""
        kind = type(value)
        if kind is str or kind is bytes:
            return self._cut(value)
        if kind is dict or kind is list or kind is tuple or isinstance(value, Mapping):
            return self._walk(value, set())
        return value

    def _walk(self, value: Any, active: set[int]) -> Any:
        kind = type(value)
        if kind is str or kind is bytes:
            return self._cut(value)
        if not (kind is dict or kind is list or kind is tuple or isinstance(value, Mapping)):
            return value
        if id(value) in active or len(active) >= _MAX_DEPTH:
            # Never hand on the original here: it would still hold the secrets below it.
            return cycle_stand_in(value, circular=id(value) in active)
        active.add(id(value))
        try:
            if isinstance(value, Mapping):
                changed = False
                out: dict[Any, Any] = {}
                for key, item in value.items():
                    secret = type(key) is str and self.secret(key)
                    new = REDACTED if secret else self._walk(item, active)
                    changed = changed or new is not item
                    out[key] = new
                return out if changed else value
            items = [self._walk(item, active) for item in value]
            if any(new is not old for new, old in zip(items, value, strict=True)):
                return items if kind is list else tuple(items)
            return value
        finally:
            active.discard(id(value))

    def _cut(self, value: str | bytes) -> str | bytes:
        limit = self.max_value_bytes
        if not limit or len(value) <= limit // 4:  # UTF-8 takes at most 4 bytes a character
            return value
        if isinstance(value, bytes):
            if len(value) <= limit or _already_cut(value, limit):
                return value
            return value[:limit] + truncated_marker(len(value)).encode()
        encoded = value.encode("utf-8", "surrogatepass")
        if len(encoded) <= limit or _already_cut(encoded, limit):
            return value
        kept = encoded[:limit].decode("utf-8", "ignore")  # never split a character
        return kept + truncated_marker(len(encoded))


def cycle_stand_in(value: Any, *, circular: bool = True) -> dict[str, Any]:
    """The marker stored where a value contains itself (or nests deeper than 64 levels).

    The same shape as the monitor's stand-in for unstorable values, with Python's
    own notation for the repeated part (``{...}``, ``[...]``) as the ``__repr__``.
    """
    kind = type(value)
    text = ("{...}" if isinstance(value, Mapping) else "[...]") if circular else "…"
    return {
        "__repr__": text,
        "__type__": f"{kind.__module__}.{kind.__qualname__}",
        "__truncated__": True,
    }


_MARKER = re.compile(rb"\xe2\x80\xa6\[truncated, [0-9,]+ bytes\]\Z")
_MARKER_MAX = len(truncated_marker(10**18).encode())


def _already_cut(encoded: bytes, limit: int) -> bool:
    """Whether a value was cut to ``limit`` before (a second pass, e.g. the monitor then log())."""
    if len(encoded) > limit + _MARKER_MAX:
        return False
    found = _MARKER.search(encoded[-_MARKER_MAX:])
    return (
        found is not None and len(encoded) - (len(encoded[-_MARKER_MAX:]) - found.start()) <= limit
    )


def _is_glob(name: str) -> bool:
    return any(c in name for c in "*?[")
