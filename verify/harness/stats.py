"""Small statistical helpers with stated confidence levels."""
from __future__ import annotations

from scipy import stats


def clopper_pearson(k: int, n: int, confidence: float = 0.99) -> tuple[float, float]:
    """Exact two-sided Clopper-Pearson interval for a binomial proportion ``k/n``."""
    if n <= 0 or not 0 <= k <= n:
        raise ValueError(f"need 0 <= k <= n and n > 0; got k={k}, n={n}")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1); got {confidence}")
    alpha = 1 - confidence
    lo = 0.0 if k == 0 else stats.beta.ppf(alpha / 2, k, n - k + 1)
    hi = 1.0 if k == n else stats.beta.ppf(1 - alpha / 2, k + 1, n - k)
    return float(lo), float(hi)


def chi2_pvalue(statistic: float, dof: int) -> float:
    """Upper tail of the chi-square law."""
    return float(stats.chi2.sf(statistic, dof))
