"""Messages from the browser, checked against the shapes their type takes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from ._check import ProtocolError
from ._messages import BoardMessage, ChartMessage, TableRequest
from ._shapes import MESSAGE_SHAPES

__all__ = ["parse_board_message", "parse_chart_message", "parse_table_request"]


def _parse(content: object, widget: str) -> Mapping[str, Any] | None:
    """``content`` checked against the shapes of its type, or ``None`` when not ``widget``'s.

    Messages of other types are not this widget's protocol (anywidget's own
    commands travel on the same comm) and are ignored.
    """
    if not isinstance(content, dict):
        return None
    shapes = [
        shape
        for shape in MESSAGE_SHAPES
        if shape.direction == "browser_to_kernel"
        and shape.widget == widget
        and shape.type == content.get("type")
    ]
    if not shapes:
        return None
    errors: list[ProtocolError] = []
    for shape in shapes:
        try:
            shape.check(content, 0)
        except ProtocolError as error:
            errors.append(error)
        else:
            return content
    # Of several shapes (a trace by row or by id), report the one the message came nearest to.
    raise max(errors, key=lambda error: "missing" not in str(error))


def parse_table_request(content: object) -> TableRequest | None:
    """A table widget's request from the browser, checked; ``None`` when not one."""
    return cast("TableRequest | None", _parse(content, "table"))


def parse_chart_message(content: object) -> ChartMessage | None:
    """A chart's message from the browser, checked; ``None`` when not one."""
    return cast("ChartMessage | None", _parse(content, "chart"))


def parse_board_message(content: object) -> BoardMessage | None:
    """A board's message from the browser, checked; ``None`` when not one."""
    return cast("BoardMessage | None", _parse(content, "board"))
