"""Statistical tests on small aggregated counts: KS and chi-square p-values, PSI.

The statistics themselves are computed in DuckDB; these functions only turn a handful of
numbers into p-values and scores. p-values come from scipy's distributions (imported
here, on first use), so they equal ``scipy.stats`` exactly:

* **KS**: the asymptotic two-sided distribution, as ``scipy.stats.ks_2samp(...,
  method="asymp")`` computes it: ``kstwo.sf(D, round(n1 * n2 / (n1 + n2)))``. scipy's
  default (``method="auto"``) is the same whenever the larger sample has more than 10,000
  values; below that scipy computes the exact distribution, which can differ slightly.
* **chi-square**: ``scipy.stats.chi2_contingency`` on the 2 x k table of counts (with its
  default Yates correction when there is one degree of freedom).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

__all__ = ["PSI_EPSILON", "chi_square", "ks_p_value", "psi"]

#: Share given to a bin that one side does not have, so PSI stays finite for unseen values.
PSI_EPSILON = 1e-4


def ks_p_value(statistic: float, n1: int, n2: int) -> float:
    """Two-sided asymptotic p-value of the two-sample KS ``statistic`` (see module doc)."""
    if n1 == 0 or n2 == 0 or math.isnan(statistic):
        return math.nan
    from scipy.stats import kstwo

    m, n = sorted((float(n1), float(n2)), reverse=True)
    effective = np.round(m * n / (m + n))
    return float(np.clip(kstwo.sf(statistic, effective), 0.0, 1.0))


def chi_square(reference: Sequence[int], current: Sequence[int]) -> tuple[float, float]:
    """Chi-square statistic and p-value of the 2 x k table ``[reference, current]``.

    Categories absent from both sides are left out; with one category left the
    distributions are equal (statistic 0, p-value 1).
    """
    observed = np.array([reference, current], dtype=np.float64)
    observed = observed[:, observed.sum(axis=0) > 0]
    dof = observed.shape[1] - 1
    if dof <= 0 or (observed.sum(axis=1) == 0).any():
        return 0.0, 1.0
    expected = np.outer(observed.sum(axis=1), observed.sum(axis=0)) / observed.sum()
    if dof == 1:  # Yates' correction, as scipy applies it by default
        diff = observed - expected
        observed = observed - np.sign(diff) * np.minimum(0.5, np.abs(diff))
    statistic = float(((observed - expected) ** 2 / expected).sum())
    from scipy.special import chdtrc

    return statistic, float(chdtrc(dof, statistic))


def psi(reference: Sequence[float], current: Sequence[float]) -> float:
    """Population stability index between two histograms over the same bins.

    ``sum((c - r) * ln(c / r))`` over the bins' shares; a share of 0 counts as
    :data:`PSI_EPSILON`. Rules of thumb: < 0.1 stable, 0.1-0.25 moderate, > 0.25 large.
    """
    r = np.asarray(reference, dtype=np.float64)
    c = np.asarray(current, dtype=np.float64)
    if r.sum() <= 0 or c.sum() <= 0:
        return math.nan
    r = np.maximum(r / r.sum(), PSI_EPSILON)
    c = np.maximum(c / c.sum(), PSI_EPSILON)
    return float(((c - r) * np.log(c / r)).sum())
