"""Time buckets: widths written as text (``"5min"``) and a "nice" width for a span."""

from __future__ import annotations

import datetime as dt
import re

__all__ = ["choose_bucket", "parse_every"]

_UNIT_SECONDS = {
    "ms": 0.001,
    "s": 1,
    "sec": 1,
    "m": 60,
    "min": 60,
    "h": 3600,
    "d": 86400,
    "w": 604800,
}

_NICE_BUCKETS = [
    dt.timedelta(seconds=s)
    for s in (
        1,
        2,
        5,
        10,
        15,
        30,
        60,
        120,
        300,
        600,
        900,
        1800,
        3600,
        7200,
        10800,
        21600,
        43200,
        86400,
        2 * 86400,
        7 * 86400,
        14 * 86400,
        30 * 86400,
        91 * 86400,
        365 * 86400,
    )
]


def parse_every(text: str) -> dt.timedelta:
    """``"30s"``, ``"5min"``, ``"1h"``, ``"1d"``, ``"2w"`` → timedelta."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(ms|s|sec|m|min|h|d|w)\s*", text)
    if match is None:
        raise ValueError(f"cannot read bucket width {text!r}; use e.g. '30s', '5min', '1h', '1d'")
    amount, unit = float(match.group(1)), match.group(2)
    return dt.timedelta(seconds=amount * _UNIT_SECONDS[unit])


def choose_bucket(span: dt.timedelta, target: int = 60) -> dt.timedelta:
    """The smallest "nice" bucket width giving at most ``target`` buckets over ``span``."""
    for width in _NICE_BUCKETS:
        if span / width <= target:
            return width
    return _NICE_BUCKETS[-1]
