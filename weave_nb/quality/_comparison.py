"""The outcome of comparing one column between a reference and a current window."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Comparison"]


@dataclass(frozen=True)
class Comparison:
    """Test statistic, p-value and PSI of one column, with the rows each window held.

    ``*_rows`` count every row of the window, ``*_nulls`` those without a value (nulls
    and NaN): they take part in PSI as a bin of their own, so a rising share of missing
    values reads as drift; the KS and chi-square tests compare the values (KS leaves the
    nulls out, chi-square counts them as a category).
    """

    method: str
    statistic: float
    p_value: float
    psi: float
    reference_rows: int
    current_rows: int
    reference_nulls: int
    current_nulls: int
