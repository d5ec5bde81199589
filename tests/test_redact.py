"""Redaction and size limits as the hook of the store's log() applies them (redact_row)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from weave_nb._config import configure, redact_row
from weave_nb._redact import REDACTED, Redactor, truncated_marker


@pytest.fixture(autouse=True)
def _settings() -> Iterator[None]:
    yield
    configure(prices=None, redact=(), max_value_bytes=1_000_000)


def test_log_rows_lose_secrets_at_any_depth_and_keep_the_rest() -> None:
    configure(redact=["api_key", "*secret*"])
    row = {
        "_id": 1,
        "API_KEY": "sk-1",
        "request": {"headers": [{"my_secret_header": "s-2", "ok": 1}], "n": 2},
        "llm.api_key": "sk-3",
    }
    assert redact_row(row) == {
        "_id": 1,
        "API_KEY": REDACTED,
        "request": {"headers": [{"my_secret_header": REDACTED, "ok": 1}], "n": 2},
        "llm.api_key": REDACTED,
    }
    assert row["API_KEY"] == "sk-1"  # the caller's row is not changed


def test_big_values_are_cut_with_their_size_and_small_rows_pass_untouched() -> None:
    configure(max_value_bytes=8)
    row = {"text": "ü" * 10, "blob": b"\x00" * 9, "n": 3}
    assert redact_row(row) == {
        "text": "üüüü" + truncated_marker(20),
        "blob": b"\x00" * 8 + truncated_marker(9).encode(),
        "n": 3,
    }
    small = {"text": "ok", "n": 3}
    assert redact_row(small) is small


def test_cutting_twice_keeps_the_first_cut_and_its_size() -> None:
    configure(max_value_bytes=8)
    once = redact_row({"text": "x" * 100, "blob": b"y" * 100})
    assert redact_row(once) == once  # the monitor cuts, then the store's log() sees it again
    assert once["text"] == "x" * 8 + truncated_marker(100)


def test_a_value_inside_itself_becomes_a_marker_never_the_secret_holding_original() -> None:
    loop: dict[str, object] = {"password": "p"}
    loop["self"] = loop
    redacted = Redactor(["password"])(loop)
    assert redacted["password"] == REDACTED
    assert redacted["self"] == {
        "__repr__": "{...}",
        "__type__": "builtins.dict",
        "__truncated__": True,
    }
    assert "'p'" not in repr(redacted)


def test_bad_settings_are_refused_and_leave_the_old_ones() -> None:
    configure(redact=["token"])
    with pytest.raises(TypeError):
        configure(redact=[""])
    assert redact_row({"token": "t"}) == {"token": REDACTED}
