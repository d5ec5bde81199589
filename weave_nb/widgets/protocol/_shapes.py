"""The catalogue of the protocol: its version and every shape of every message."""

from __future__ import annotations

import typing
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from ._check import ProtocolError, check_fields, field_hints
from ._messages import (
    AnnotateRequest,
    CellMissing,
    CellReply,
    CellRequest,
    ClearSelectionMessage,
    ErrorReply,
    ImageMissing,
    ImageReply,
    ImageRequest,
    RowsReply,
    SelectMessage,
    SpanMissing,
    SpanReply,
    SpanRequest,
    TailTick,
    Tick,
    TraceMissing,
    TraceOfRowRequest,
    TraceReply,
    TraceWindowRequest,
    WindowRequest,
)

__all__ = ["MESSAGE_SHAPES", "PROTOCOL_VERSION", "MessageShape"]

PROTOCOL_VERSION = 1
"""Version of the protocol, sent by every widget in its ``protocol`` trait."""


@dataclass(frozen=True)
class MessageShape:
    """One shape a message takes: its fields, its widget, its direction and its buffers."""

    fields: type
    """The TypedDict declaring the fields; its name names the shape on both sides."""
    widget: Literal["table", "chart", "board"]
    direction: Literal["browser_to_kernel", "kernel_to_browser"]
    buffers: int = 0
    """How many binary buffers travel with it."""

    def check(self, content: Mapping[str, Any], buffers: int) -> None:
        """Raise :class:`ProtocolError` unless ``content`` and ``buffers`` buffers fit the shape."""
        check_fields(content, self.fields)
        if buffers != self.buffers:
            raise ProtocolError(
                f"{self.type!r} message: {buffers} buffers where {self.name} carries {self.buffers}"
            )

    @property
    def name(self) -> str:
        """The shape's name, the same in ``js/shared/protocol.js`` and the fixture."""
        return self.fields.__name__

    @property
    def type(self) -> str:
        """The value of the message's ``type`` field."""
        value: str = typing.get_args(field_hints(self.fields)["type"])[0]
        return value


_IN: Literal["browser_to_kernel"] = "browser_to_kernel"
_OUT: Literal["kernel_to_browser"] = "kernel_to_browser"
MESSAGE_SHAPES: tuple[MessageShape, ...] = (
    MessageShape(WindowRequest, "table", _IN),
    MessageShape(AnnotateRequest, "table", _IN),
    MessageShape(ImageRequest, "table", _IN),
    MessageShape(CellRequest, "table", _IN),
    MessageShape(TraceOfRowRequest, "table", _IN),
    MessageShape(TraceWindowRequest, "table", _IN),
    MessageShape(SpanRequest, "table", _IN),
    MessageShape(SelectMessage, "chart", _IN),
    MessageShape(ClearSelectionMessage, "board", _IN),
    MessageShape(RowsReply, "table", _OUT, 1),
    MessageShape(Tick, "table", _OUT),
    MessageShape(TailTick, "table", _OUT, 1),
    MessageShape(ImageReply, "table", _OUT, 1),
    MessageShape(ImageMissing, "table", _OUT),
    MessageShape(CellReply, "table", _OUT, 1),
    MessageShape(CellMissing, "table", _OUT),
    MessageShape(TraceReply, "table", _OUT, 1),
    MessageShape(TraceMissing, "table", _OUT),
    MessageShape(SpanReply, "table", _OUT, 1),
    MessageShape(SpanMissing, "table", _OUT),
    MessageShape(ErrorReply, "table", _OUT),
)
"""Every shape of every message, in both directions."""
