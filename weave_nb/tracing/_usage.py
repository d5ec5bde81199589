"""Tokens and cost of a model call, read from what the common LLM clients return.

A result carries usage the way OpenAI's (``usage.prompt_tokens``,
``completion_tokens``, ``total_tokens``) or Anthropic's (``usage.input_tokens``,
``output_tokens``) clients return it, as objects or dicts, with the model in
``model``. The columns are ``model``, ``input_tokens``, ``output_tokens``,
``total_tokens`` and, when a price table knows the model, ``cost_usd``.

Prices are USD per one million tokens, per model: ``{"gpt-4o": {"input": 2.5,
"output": 10.0}}`` (or a pair ``(input, output)``). A model missing from the table
is looked up by its longest listed prefix (``gpt-4o-2024-08-06`` → ``gpt-4o``).
Anything unexpected becomes null and is reported in ``problems``, never raised.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["TOKEN_COLUMNS", "Prices", "check_prices", "cost_usd", "usage_columns"]

TOKEN_COLUMNS = ("model", "input_tokens", "output_tokens", "total_tokens", "cost_usd")
"""Columns a call with usage gets (``cost_usd`` only with a price for its model)."""

Prices = Mapping[str, "Mapping[str, float] | Sequence[float]"]
"""USD per 1M tokens per model: ``{model: {"input": x, "output": y}}`` or ``{model: (x, y)}``."""

_INPUT = ("input_tokens", "prompt_tokens")
_OUTPUT = ("output_tokens", "completion_tokens")
_MISSING = object()


def check_prices(prices: Prices | None) -> dict[str, tuple[float, float]] | None:
    """``prices`` as ``{model: (input, output)}``; ``TypeError``/``ValueError`` when malformed."""
    if prices is None:
        return None
    if not isinstance(prices, Mapping):
        raise TypeError(f"prices must be a mapping of model to prices, got {type(prices).__name__}")
    table: dict[str, tuple[float, float]] = {}
    for model, price in prices.items():
        if not isinstance(model, str) or not model:
            raise TypeError(f"price table keys are model names, got {model!r}")
        if isinstance(price, Mapping):
            pair: Sequence[Any] = (price.get("input"), price.get("output"))
        elif isinstance(price, Sequence) and not isinstance(price, str) and len(price) == 2:
            pair = price
        else:
            raise TypeError(
                f"price of {model!r} must be {{'input': x, 'output': y}} or (x, y), got {price!r}"
            )
        if not all(isinstance(p, numbers.Real) and not isinstance(p, bool) for p in pair):
            raise TypeError(f"prices of {model!r} must be numbers (USD per 1M tokens), got {pair}")
        if any(float(p) < 0 for p in pair):
            raise ValueError(f"prices of {model!r} must not be negative")
        table[model] = (float(pair[0]), float(pair[1]))
    return table


def _get(source: Any, name: str) -> Any:
    try:
        if isinstance(source, Mapping):
            return source.get(name, _MISSING)
        return getattr(source, name, _MISSING)
    except Exception:  # a property or mapping that raises is as good as missing
        return _MISSING


def _count(value: Any) -> int | None:
    """A token count, or ``None`` for anything that is not a whole non-negative number."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return None
    number = float(value)
    if not number.is_integer() or number < 0:
        return None
    return int(number)


def _usage_of(output: Any) -> tuple[Any, Any]:
    """The usage object and the model name of a result (the last item of a stream)."""
    if isinstance(output, list) and output:
        output = output[-1]
    if output is None or isinstance(output, str | bytes | int | float):
        return _MISSING, _MISSING
    return _get(output, "usage"), _get(output, "model")


def usage_columns(
    output: Any,
    data: Mapping[str, Any] | None,
    prices: Mapping[str, tuple[float, float]] | None,
) -> tuple[dict[str, Any], list[str]]:
    """Token and cost columns of one call, and what could not be read.

    ``data`` is what the code added with ``add_data`` (its ``model`` and token
    counts win over the result's). Returns ``({}, [])`` when the call has no usage.
    """
    usage, model = _usage_of(output)
    problems: list[str] = []
    found: dict[str, Any] = {}
    if usage is not _MISSING and usage is not None:
        for column, names in (("input_tokens", _INPUT), ("output_tokens", _OUTPUT)):
            raw = next((v for v in (_get(usage, n) for n in names) if v is not _MISSING), _MISSING)
            found[column] = None if raw is _MISSING else _count(raw)
            if found[column] is None:
                problems.append(f"usage has no whole-number {' or '.join(names)}")
        total = _get(usage, "total_tokens")
        found["total_tokens"] = None if total is _MISSING else _count(total)
        if model is not _MISSING:
            found["model"] = model if isinstance(model, str) and model else None
    if data:
        for column in ("model", "input_tokens", "output_tokens", "total_tokens"):
            if column in data:
                found[column] = data[column]
    if not found:
        return {}, []
    counts = [found.get("input_tokens"), found.get("output_tokens")]
    if found.get("total_tokens") is None and all(type(c) is int for c in counts):
        found["total_tokens"] = counts[0] + counts[1]  # type: ignore[operator]
    for column in ("model", "input_tokens", "output_tokens", "total_tokens"):
        found.setdefault(column, None)
    if prices is not None:
        found["cost_usd"], problem = cost_usd(found["model"], counts[0], counts[1], prices)
        if problem:
            problems.append(problem)
    return found, problems


def cost_usd(
    model: Any,
    input_tokens: Any,
    output_tokens: Any,
    prices: Mapping[str, tuple[float, float]],
) -> tuple[float | None, str | None]:
    """USD of a call from its token counts, and why it is unknown when it is."""
    if not isinstance(model, str) or not model:
        return None, "no model name, so no price"
    price = prices.get(model)
    if price is None:  # dated or suffixed model names: the longest listed prefix
        prefixes = [m for m in prices if model.startswith(m)]
        price = prices[max(prefixes, key=len)] if prefixes else None
    if price is None:
        return None, f"the price table has no model {model!r}"
    tokens = (_count(input_tokens), _count(output_tokens))
    if tokens[0] is None or tokens[1] is None:
        return None, "token counts are missing, so no cost"
    return (tokens[0] * price[0] + tokens[1] * price[1]) / 1e6, None
