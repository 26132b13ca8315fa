r"""Lemma 20 (Paper A, App. B; arXiv alias Lemma B.2, inferred): the law of the first-token matrix.

Under Appendix B's rule sampler the first-token transition matrix :math:`P` of a level is
:math:`P_{\nu\mu}=N_{\nu\mu}/m`, where :math:`N` counts the colour-:math:`\mu` balls in bin
:math:`\nu` when :math:`V` colours :math:`\times\,m` balls are placed uniformly into :math:`V` bins
:math:`\times\,m` slots. Hence :math:`P` is doubly stochastic and

.. math:: \Pr[N=n]=\frac{(m!)^{2V}}{(mV)!\,\prod_{\nu\mu}n_{\nu\mu}!}
          =\prod_\nu\frac{\prod_\mu\binom{r^{(\nu)}_\mu}{n_{\nu\mu}}}{\binom{m(V-\nu+1)}{m}}
          \quad\text{(multivariate hypergeometric, bin by bin).}

**Exact** (tiny :math:`V,m`): every one of the :math:`(mV)!/(m!)^V` placements is enumerated and
its table tallied; measured = :math:`\max_n|\Pr_{\rm enum}[N=n]-\Pr_{\rm law}[N=n]|` (a ``Fraction``;
1 if some placement gives a table that is not doubly stochastic), bound 0.
**Empirical**: :math:`R` sampled matrices (the library's balls-into-bins sampler, or the grammar
sampler's :math:`P_2`); measured = the :math:`\chi^2` goodness-of-fit statistic of one uniformly
chosen entry per matrix (i.i.d. by exchangeability) against its exact marginal law
:math:`\mathrm{Hypergeometric}(mV, m, m)`, divided by the :math:`1-\alpha` critical value,
:math:`\alpha=10^{-3}`; :math:`+\infty` if any matrix is not doubly stochastic (a table outside
the law's support). Bound 1: a correct sampler fails with probability :math:`10^{-3}`.
**Negative controls**: balls coloured i.i.d. (with replacement) and the authors' sampler, whose
matrices are not doubly stochastic.
"""
from __future__ import annotations

from collections import Counter
from fractions import Fraction
import itertools

import numpy as np
import torch
from scipy import stats

from verify import rhm
from verify.harness.claims import Case, Claim, Measurement
from verify.rhm import balls_into_bins as bb
from verify.rhm.exact import transition_matrix

STATEMENT = (r"P_{\nu\mu}=\tfrac{N_{\nu\mu}}m,\quad \Pr[N=n]=\frac{(m!)^{2V}}{(mV)!\prod_{\nu\mu}n_{\nu\mu}!},"
             r"\quad P\mathbf 1=P^\top\mathbf 1=\mathbf 1")


def enumerated_law(V: int, m: int, placement: str = "uniform") -> dict:
    """Exact law of the table from every placement: ``uniform`` (multiset permutations, equally
    likely) or ``iid`` (each of the mV balls coloured uniformly and independently)."""
    counts: Counter = Counter()
    if placement == "uniform":
        seqs = bb.enumerate_placements(V, m)
    elif placement == "iid":
        seqs = itertools.product(range(V), repeat=m * V)
    else:
        raise ValueError(f"placement must be 'uniform' or 'iid'; got {placement!r}")
    total = 0
    for seq in seqs:
        counts[bb.placement_table(seq, V, m).tobytes()] += 1
        total += 1
    return {k: Fraction(c, total) for k, c in counts.items()}, total


def exact(case: Case) -> Measurement:
    p = case.params
    V, m = p["V"], p["m"]
    law, total = enumerated_law(V, m, p.get("placement", "uniform"))
    worst, not_ds = Fraction(0), 0
    for key, prob in law.items():
        t = np.frombuffer(key, dtype=np.int64).reshape(V, V)
        if (t.sum(0) != m).any() or (t.sum(1) != m).any():
            not_ds += 1
            continue
        worst = max(worst, abs(prob - bb.table_probability(t)))
    support = list(bb.enumerate_tables(V, m))
    missing = sum(1 for t, _ in support if t.tobytes() not in law)
    value = Fraction(1) if not_ds else worst
    return Measurement(value=value, details={
        "placements": total, "tables_seen": len(law), "tables_in_support": len(support),
        "support_tables_never_seen": missing, "tables_not_doubly_stochastic": not_ds,
        "max_abs_difference": str(worst)})


def sampled_matrices(p: dict, generator: torch.Generator, device, base: int | None = None,
                     start: int = 0, count: int | None = None) -> np.ndarray:
    """``count`` (default all ``matrices``) sampled first-token matrices; for a grammar sampler, grammars of
    seeds ``base + start + i`` (``base`` drawn from ``generator`` when not given)."""
    V, m = p["V"], p["m"]
    R = p["matrices"] if count is None else count
    if p["sampler"] == "balls_into_bins":
        return bb.sample_transition_matrices(V, m, R, generator, device).cpu().numpy()
    if base is None:
        base = int(torch.randint(0, 2**31, (1,), generator=generator))
    mats = [transition_matrix(rhm.sample_grammar(V, V, m, 2, 2, seed=base + start + i, sampler=p["sampler"]), 2,
                              "float64") for i in range(R)]
    return np.stack(mats)


#: Matrices held in memory at once (a large case samples chunk after chunk; up to one chunk the draws are
#: those of a single batch).
CHUNK = 5000


ALPHA = 1e-3


def hypergeometric_gof(entries: np.ndarray, V: int, m: int, alpha: float = ALPHA):
    """Chi-square p-value of integer ``entries`` against Hypergeometric(mV, m, m); tail cells with
    expected count < 5 are merged."""
    n = len(entries)
    ks = np.arange(m + 1)
    pmf = stats.hypergeom(m * V, m, m).pmf(ks)
    obs = np.bincount(entries, minlength=m + 1)[: m + 1].astype(float)
    exp = n * pmf
    cells_o, cells_e, acc_o, acc_e = [], [], 0.0, 0.0
    for o, e in zip(obs, exp):
        acc_o += o
        acc_e += e
        if acc_e >= 5:
            cells_o.append(acc_o)
            cells_e.append(acc_e)
            acc_o = acc_e = 0.0
    if acc_e > 0:
        cells_o[-1] += acc_o
        cells_e[-1] += acc_e
    stat = float(((np.array(cells_o) - np.array(cells_e)) ** 2 / np.array(cells_e)).sum())
    dof = max(len(cells_o) - 1, 1)
    table = [[int(k), int(obs[k]), float(exp[k])] for k in ks]
    return float(stats.chi2.sf(stat, dof)), table, stat, float(stats.chi2.isf(alpha, dof))


def empirical(case: Case, device, generator) -> Measurement:
    p = case.params
    V, m, R = p["V"], p["m"], p["matrices"]
    base = None if p["sampler"] == "balls_into_bins" else int(torch.randint(0, 2**31, (1,), generator=generator))
    ds, col_dev, parts = True, 0.0, []
    for start in range(0, R, CHUNK):
        P = sampled_matrices(p, generator, device, base, start, min(CHUNK, R - start))
        N = np.rint(P * m).astype(np.int64)
        ds = ds and bool((N.sum(1) == m).all() and (N.sum(2) == m).all())
        idx = torch.randint(0, V * V, (len(N),), generator=generator).numpy()
        parts.append(N.reshape(len(N), -1)[np.arange(len(N)), idx])
        col_dev = max(col_dev, float(np.abs(N.sum(1) - m).max()))
    entries = np.concatenate(parts)
    pval, table, stat, crit = hypergeometric_gof(entries, V, m, ALPHA)
    return Measurement(value=stat / crit if ds else float("inf"), details={"test_level": ALPHA,
        "sampler": p["sampler"], "matrices": R, "all_doubly_stochastic": ds,
        "max_column_sum_deviation": col_dev, "chi2_pvalue": pval, "entry_law": table,
        "mean_entry": float(entries.mean()), "exact_mean_entry": 1.0})


def bound(case: Case):
    return 0 if case.method == "exact" else 1


_LARGE = dict(V=64, m=32, sampler="balls_into_bins", matrices=20_000)

CLAIM = Claim(
    name="appendix_b_balls_into_bins",
    paper="A",
    reference="Lemma 20 (App. B)",
    page="p. 32",
    statements=("Lemma 20",),
    hypotheses=(
        r"\text{rules sampled as in App. B (uniform first-token marginal)}",
        r"V\text{ colours}\times m\text{ balls placed at random into }V\text{ bins}\times m\text{ slots};\ P_{\nu,\mu}=N_{\nu,\mu}/m",
    ),
    alias="Lemma B.2 (inferred)",
    statement=STATEMENT,
    measured=(r"\text{exact: }\max_n|\Pr_{\rm enum}[N=n]-\Pr_{\rm law}[N=n]|\ (\text{bound }0);\ "
              r"\text{empirical: }\chi^2/\chi^2_{1-\alpha}\text{ of an entry vs Hypergeom}(mV,m,m),\ "
              r"\alpha=10^{-3}\ (\text{bound }1;\ \infty\text{ if a matrix is not doubly stochastic})"),
    relation="<=",
    bound=bound,
    exact=exact,
    empirical=empirical,
    cases=(
        Case("enumerated_V2_m3", dict(V=2, m=3)),
        Case("enumerated_V3_m2", dict(V=3, m=2)),
        Case("enumerated_V3_m3", dict(V=3, m=3)),
        Case("enumerated_V4_m2", dict(V=4, m=2)),
        Case("iid_colours_V3_m2", dict(V=3, m=2, placement="iid"), role="negative_control",
             note="balls coloured independently (with replacement): column sums vary, P is not doubly stochastic"),
        Case("sampled_balls_V8_m4", dict(V=8, m=4, sampler="balls_into_bins", matrices=4000),
             method="empirical", seed=201),
        Case("sampled_grammar_V8_m4", dict(V=8, m=4, sampler="appendix_b", matrices=1000),
             method="empirical", seed=202,
             note="P_2 of grammars drawn by verify.rhm.sample_grammar(sampler='appendix_b')"),
        Case("sampled_authors_V8_m4", dict(V=8, m=4, sampler="authors", matrices=300),
             method="empirical", seed=203, role="negative_control",
             note="the authors' sampler: P_2 is row- but not column-stochastic"),
        Case("sampled_balls_V64_m32", dict(_LARGE, matrices=500_000), scale="large", method="empirical", seed=204,
             cpu_params={"matrices": 500_000},
             note="5e5 matrices (one entry each) on a CPU: the chi-square test of the Hypergeometric(mV, m, m) "
                  "marginal with power against a 0.5% error of its law; every matrix checked doubly stochastic"),
        Case("sampled_grammar_V64_m32", dict(_LARGE, sampler="appendix_b", matrices=60_000), scale="large",
             method="empirical", seed=205, cpu_params={"matrices": 60_000},
             note="P_2 of 60,000 grammars drawn by verify.rhm.sample_grammar(sampler='appendix_b'): the "
                  "grammar sampler itself, not only the balls-into-bins one, follows Lemma 20's law"),
    ),
)
