"""The table's feedback controls: the annotation fields they write and what each accepts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .protocol import FeedbackConfig

__all__ = ["NOTE_FIELD", "THUMBS_FIELD", "check_feedback", "feedback_config", "feedback_fields"]

THUMBS_FIELD = "thumbs"
"""Annotation field of the 👍/👎 buttons; values ``"up"``, ``"down"`` or ``None``."""
NOTE_FIELD = "note"
"""Annotation field of the free-text note."""


def feedback_config(feedback: bool | Mapping[str, Sequence[str]]) -> FeedbackConfig:
    """The ``feedback`` trait: field names of the controls and label choices."""
    if feedback is False or feedback is None:
        return {"thumbs": None, "note": None, "labels": {}}
    if feedback is True:
        return {"thumbs": THUMBS_FIELD, "note": NOTE_FIELD, "labels": {}}
    if not isinstance(feedback, Mapping):
        raise TypeError(
            "feedback must be True, False or a mapping of label field to choices, "
            f"got {type(feedback).__name__}"
        )
    labels: dict[str, list[str]] = {}
    for field, choices in feedback.items():
        if (
            not isinstance(field, str)
            or field in (THUMBS_FIELD, NOTE_FIELD)
            or field.startswith("_")
        ):
            raise ValueError(
                f"feedback label field {field!r} must be a name other than "
                f"{THUMBS_FIELD!r}, {NOTE_FIELD!r} and not start with '_'"
            )
        if isinstance(choices, str) or not choices or not all(isinstance(c, str) for c in choices):
            raise ValueError(f"choices of feedback label {field!r} must be a non-empty list of str")
        labels[field] = list(choices)
    return {"thumbs": THUMBS_FIELD, "note": NOTE_FIELD, "labels": labels}


def feedback_fields(config: Mapping[str, Any]) -> list[str]:
    """Annotation fields the feedback controls of ``config`` write."""
    return [f for f in (config["thumbs"], config["note"], *config["labels"]) if f is not None]


def check_feedback(config: Mapping[str, Any], field: str, value: str | None) -> None:
    """Raise :class:`ValueError` unless a control of ``config`` may write ``value`` to ``field``."""
    if field == config["thumbs"]:
        allowed: list[Any] = ["up", "down", None]
    elif field in config["labels"]:
        allowed = [*config["labels"][field], None]
    elif field != config["note"]:
        raise ValueError(f"{field!r} is not a feedback field of this widget")
    if field != config["note"] and value not in allowed:
        raise ValueError(f"feedback {field!r} must be one of {allowed}, got {value!r}")
