"""The SQL vocabulary every layer shares: identifiers, literals and conditions DuckDB reads back."""

from __future__ import annotations

import datetime as dt
import math

import duckdb
import pytest

from weave_nb.query import (
    and_all,
    choose_bucket,
    column_expr,
    equals,
    literal,
    parse_every,
    quote_ident,
    time_range,
)


def _value(sql: str) -> object:
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    return con.execute(f"SELECT {sql}").fetchall()[0][0]


@pytest.mark.parametrize(
    "value",
    [None, True, False, 0, -7, 2**62, 1.5, -0.0, "", "it's", 'say "hi"', "naïve ☃", "a\\b"],
)
def test_literals_read_back_as_the_value(value: object) -> None:
    assert _value(literal(value)) == value


def test_non_finite_floats_are_doubles() -> None:
    assert math.isnan(_value(literal(math.nan)))  # type: ignore[arg-type]
    assert _value(literal(math.inf)) == math.inf
    assert _value(literal(-math.inf)) == -math.inf


def test_datetimes_are_instants_in_utc() -> None:
    aware = dt.datetime(2024, 5, 1, 14, 30, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    naive = dt.datetime(2024, 5, 1, 12, 30)  # read as UTC
    assert _value(literal(aware)) == _value(literal(naive)) == aware


def test_identifiers_quote_any_name() -> None:
    con = duckdb.connect()
    for name in ["plain", "model version", 'say "hi"', "select", "ünï"]:
        assert con.sql(f"SELECT 1 AS {quote_ident(name)}").columns == [name]


def test_column_expr_quotes_names_and_keeps_expressions() -> None:
    assert column_expr("model version", ["model version"]) == '"model version"'
    assert column_expr("tokens.output", ["tokens"]) == "tokens.output"


def test_conditions() -> None:
    assert equals("x", None) == "x IS NULL"
    assert equals("x", "a'b") == "x = 'a''b'"
    assert and_all([None, " ", "a = 1"]) == "a = 1"
    assert and_all(["a = 1", "b OR c"]) == "(a = 1) AND (b OR c)"
    assert and_all([]) is None
    start = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)
    assert time_range(None, None) is None
    assert time_range(start, None) == "\"_timestamp\" >= TIMESTAMPTZ '2024-01-01T00:00:00+00:00'"


def test_bucket_widths() -> None:
    assert parse_every("5min") == dt.timedelta(minutes=5)
    with pytest.raises(ValueError, match="cannot read bucket width"):
        parse_every("soon")
    assert choose_bucket(dt.timedelta(hours=1)) == dt.timedelta(minutes=1)
    assert choose_bucket(dt.timedelta(days=100_000)) == dt.timedelta(days=365)
