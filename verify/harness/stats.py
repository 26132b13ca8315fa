r"""Confidence statements, one package-wide convention.

Every empirical check is decided at :data:`CONFIDENCE` (99 %), **one-sided, per case**: a measured
quantity compared with an upper bound (relation ``<=``) holds when its one-sided *upper* confidence
limit is within the bound, fails when its one-sided *lower* limit is beyond it, and is otherwise
inconclusive (:mod:`verify.harness.claims`). A claim with :math:`k` cases decided at a confidence is
right on all of them with probability at least :math:`1-k(1-\text{CONFIDENCE})` (union bound); its
page states that family-wise level.

Rates use the exact Clopper--Pearson limits (``scipy.stats.binomtest``); quantiles use the
distribution-free order-statistic limits (``scipy.stats.quantile_test``); means use Student's t.
"""
from __future__ import annotations

import math

import numpy as np
from scipy import stats

from ..validate import int_at_least, int_in, real_array, real_in

__all__ = ["CONFIDENCE", "bonferroni", "chi2_pvalue", "clopper_pearson", "inside_ratio", "mean_limits",
           "pearson_statistic", "quantile_limits", "rate_limits", "repetitions_to_decide"]

CONFIDENCE = 0.99
"""The package-wide confidence of a verdict: one-sided, per case."""


def _check_confidence(confidence: float) -> float:
    return real_in("confidence", confidence, 0.0, 1.0, lo_open=True, hi_open=True)


def _check_counts(k: int, n: int) -> tuple[int, int]:
    n = int_at_least("n (trials)", n, 1)
    k = int_in(f"k (successes, 0 <= k <= n = {n})", k, 0, n)
    return k, n


def bonferroni(k: int, confidence: float = CONFIDENCE) -> float:
    """The confidence each of ``k`` statements needs so that all hold together at ``confidence``
    (union bound)."""
    confidence = _check_confidence(confidence)
    k = int_at_least("k (number of statements)", k, 0)
    return 1 - (1 - confidence) / max(k, 1)


def rate_limits(k: int, n: int, confidence: float = CONFIDENCE) -> tuple[float, float]:
    """One-sided exact Clopper--Pearson limits of a binomial rate ``k/n``: ``(lower, upper)``, each
    at ``confidence`` on its own side (``P[p >= lower] >= confidence``, ``P[p <= upper] >= confidence``)."""
    k, n = _check_counts(k, n)
    confidence = _check_confidence(confidence)
    upper = stats.binomtest(k, n, alternative="less").proportion_ci(confidence_level=confidence).high
    lower = stats.binomtest(k, n, alternative="greater").proportion_ci(confidence_level=confidence).low
    return float(lower), float(upper)


def clopper_pearson(k: int, n: int, confidence: float = CONFIDENCE) -> tuple[float, float]:
    """Two-sided exact Clopper--Pearson interval of ``k/n`` at ``confidence`` (for tables; verdicts
    use the one-sided :func:`rate_limits`)."""
    k, n = _check_counts(k, n)
    confidence = _check_confidence(confidence)
    ci = stats.binomtest(k, n).proportion_ci(confidence_level=confidence, method="exact")
    return float(ci.low), float(ci.high)


def repetitions_to_decide(k: int, n: int, bound: float, confidence: float = CONFIDENCE,
                          max_n: int = 10**9) -> int | None:
    """How many repetitions would decide a rate against ``bound`` if the observed rate ``k/n`` held:
    the smallest ``n'`` at which the one-sided limit on the side of the observed rate clears the bound
    (``None`` when the observed rate equals the bound, or beyond ``max_n``)."""
    k, n = _check_counts(k, n)
    bound = real_in("bound", bound)
    confidence = _check_confidence(confidence)
    max_n = int_in(f"max_n (at least n = {n}, at most 10**12)", max_n, n, 10**12)
    rate = k / n
    if rate == bound:
        return None

    def decided(n2: int) -> bool:
        k2 = min(n2, max(0, round(rate * n2)))
        lo, hi = rate_limits(k2, n2, confidence)
        return hi <= bound if rate < bound else lo > bound

    hi = n
    while not decided(hi):
        if hi >= max_n:
            return None
        hi = min(max_n, 2 * hi)
    lo = max(1, hi // 2)
    while lo < hi:  # smallest decided n' in (hi/2, hi]
        mid = (lo + hi) // 2
        if decided(mid):
            hi = mid
        else:
            lo = mid + 1
    return hi


def quantile_limits(samples, q: float, confidence: float = CONFIDENCE) -> tuple[float, float]:
    r"""One-sided distribution-free limits of the ``q``-quantile :math:`\xi_q` of the law the i.i.d.
    ``samples`` were drawn from: ``(lower, upper)``, each at ``confidence``.

    Order statistics: :math:`P[\xi_q\le X_{(r)}]\ge P[\mathrm{Bin}(n,q)\le r-1]`, so the upper limit
    is :math:`X_{(r)}` for the smallest such :math:`r` with that probability :math:`\ge` ``confidence``
    (``inf`` if none), and symmetrically for the lower limit (``-inf`` if none). The same limits as
    ``scipy.stats.quantile_test(...).confidence_interval`` (tested), but ``samples`` may hold ``±inf``
    (a constant that is infinite for some draws)."""
    q = real_in("q (quantile level)", q, 0.0, 1.0, lo_open=True, hi_open=True)
    confidence = _check_confidence(confidence)
    x = np.sort(real_array("samples", samples, allow_inf=True).ravel())
    if x.size == 0:
        raise ValueError("samples must be a non-empty array without NaN")
    n = x.size
    r = np.arange(1, n + 1)
    up_ok = stats.binom.cdf(r - 1, n, q) >= confidence        # P[xi_q <= X_(r)] >= confidence
    lo_ok = stats.binom.sf(r - 1, n, q) >= confidence         # P[X_(r) <= xi_q] >= confidence
    upper = float(x[np.argmax(up_ok)]) if up_ok.any() else math.inf
    lower = float(x[np.nonzero(lo_ok)[0][-1]]) if lo_ok.any() else -math.inf
    return lower, upper


def inside_ratio(value: float, lower: float, upper: float) -> float:
    r"""How far a positive exact ``value`` sits from the sampled limits ``[lower, upper]``:
    :math:`\max(\text{value}/\text{upper},\ \text{lower}/\text{value})`, at most 1 exactly when it lies
    inside them (the exact-against-sampled statistic; a zero denominator counts as outside). ``value`` is a
    positive finite number, ``lower <= upper`` (either may be infinite), no NaN."""
    value = real_in("value (positive exact value)", value, 0.0, lo_open=True)
    if isinstance(lower, bool) or isinstance(upper, bool) or \
            not all(isinstance(v, (int, float, np.integer, np.floating)) and not math.isnan(v) for v in (lower, upper)):
        raise ValueError(f"lower and upper must be real numbers (possibly infinite), not NaN; got {lower!r}, {upper!r}")
    if lower > upper:
        raise ValueError(f"lower must be <= upper; got lower={lower}, upper={upper}")
    above = value / upper if upper > 0 else math.inf
    below = lower / value if value > 0 else (0.0 if lower == 0 else math.inf)
    return max(above, below)


def mean_limits(samples, confidence: float = CONFIDENCE) -> tuple[float, float]:
    """One-sided Student-t limits of a mean: ``(lower, upper)``, each at ``confidence``."""
    confidence = _check_confidence(confidence)
    x = real_array("samples", samples).ravel()
    if x.size < 2:
        raise ValueError("samples must hold at least 2 finite numbers")
    m, se = float(x.mean()), float(x.std(ddof=1) / math.sqrt(x.size))
    t = float(stats.t.ppf(confidence, x.size - 1))
    return m - t * se, m + t * se


def pearson_statistic(observed, expected_prob) -> tuple[float, int]:
    r"""Pearson's :math:`\chi^2=\sum(O-E)^2/E` of counts ``observed`` against the law ``expected_prob``
    (:math:`E=n\,p`), with its degrees of freedom (outcomes of positive probability, minus 1); an
    observed outcome of probability 0 makes it infinite. ``observed``: non-negative counts; ``expected_prob``: a
    probability law (non-negative, summing to 1), with at least one outcome."""
    o = real_array("observed (counts)", observed, lo=0).ravel()
    pr = real_array("expected_prob (a law)", expected_prob, lo=0).ravel()
    if o.shape != pr.shape or o.size == 0:
        raise ValueError(f"observed and expected_prob must have the same non-zero size; got {o.size} and {pr.size}")
    if o.sum() == 0:
        raise ValueError("observed must hold at least one count (a positive total)")
    if abs(pr.sum() - 1) > 1e-8:
        raise ValueError(f"expected_prob must sum to 1 (a probability law); got sum {pr.sum()!r}")
    e = o.sum() * pr
    pos = e > 0
    dof = int(pos.sum()) - 1
    if (o[~pos] > 0).any():
        return math.inf, dof
    return float(((o[pos] - e[pos]) ** 2 / e[pos]).sum()), dof


def chi2_pvalue(statistic: float, dof: int) -> float:
    r"""Upper tail of the chi-square law: :math:`P[\chi^2_{dof}\ge` ``statistic``:math:`]` (``statistic`` >= 0,
    possibly infinite; ``dof`` >= 0, where 0 is the point mass at 0)."""
    if isinstance(statistic, bool) or not isinstance(statistic, (int, float, np.integer, np.floating)) \
            or math.isnan(statistic) or statistic < 0:
        raise ValueError(f"statistic must be a real number >= 0 (possibly infinite); got {statistic!r}")
    dof = int_at_least("dof (degrees of freedom)", dof, 0)
    if dof == 0:
        return 1.0 if statistic <= 0 else 0.0
    return float(stats.chi2.sf(statistic, dof))
