r"""Assumption 6(a) (arXiv alias Assumption 4.1(a)): non-degeneracy of the first-patch law.

.. math:: \Pr[\text{the first patch at level } l \text{ is } \mu]\ \ge\ (\kappa|P_l|)^{-1}
          \qquad\forall l\in[L],\ \mu\in P_l .

**Measured:** :math:`1/\kappa_{\rm inst}=\min_{l,\mu}|P_l|\,p_\mu` exactly (rationals), which
must reach :math:`1/\kappa` for the :math:`\kappa` the case asks for. Under the Appendix B sampler
every first-token matrix is doubly stochastic, so :math:`p_\mu=1/(mV)` and :math:`\kappa=1`
(proof of Proposition 19). Under the authors' sampler a token may never start a patch; its
patches then have :math:`p_\mu=0` and :math:`\kappa=\infty` (measured value 0).

**Sampled:** :math:`\min_{l,\mu}|P_l|\hat p_\mu` from sampled spines, with one-sided exact
Clopper--Pearson limits (Bonferroni over all patches). **Exact against sampled**
(``kind="consistency"``): the first-patch counts of every level are tested against the exact
:math:`p_\mu` of ``verify.rhm.exact.first_patch_law`` by Pearson's goodness of fit, pooled over
levels; measured is the 99% critical value divided by the statistic (:math:`\ge1`: consistent).
"""
from __future__ import annotations

from fractions import Fraction
from math import comb

import numpy as np
import sympy
import torch

from verify import rhm
from verify.harness.claims import Case, Claim, Measurement
from verify.rhm import assumptions
from verify.harness.stats import CONFIDENCE, bonferroni, clopper_pearson, pearson_statistic, rate_limits
from scipy import stats

STATEMENT = r"p_\mu=\Pr[\text{first level-}l\text{ patch}=\mu]\ \ge\ (\kappa\,|P_l|)^{-1}\quad\forall l\in[L],\ \mu\in P_l"


def never_first_grammar() -> rhm.Grammar:
    """V = 3, n_c = 2, m = 2, s = 2: no level-1 patch starts with token 2, so the level-2 patches
    of symbol 2 are never first (p = 0, kappa = infinity)."""
    rules0 = np.array([[[0, 0], [1, 2]], [[0, 1], [1, 0]]])
    rules1 = np.array([[[0, 0], [0, 1]], [[1, 1], [1, 2]], [[2, 2], [2, 0]]])
    return rhm.Grammar.from_rules([rules0, rules1], num_features=3, num_classes=2)


def grammar_of(params: dict) -> rhm.Grammar:
    if params.get("grammar") == "never_first":
        return never_first_grammar()
    return rhm.grammar_from_params(params)


def exact(case: Case) -> Measurement:
    g = grammar_of(case.params)
    k, per_level = assumptions.kappa(g)
    rows = []
    for l, worst in enumerate(per_level, start=1):
        law = rhm.exact.first_patch_law(g, l)
        rows.append({"level": l, "num_patches": g.num_patches(l), "min_Pl_p": str(worst),
                     "max_Pl_p": str(max(law.p) * g.num_patches(l)),
                     "never_first_patches": int(len(law.unreachable_patches))})
    value = min(per_level)
    return Measurement(value=value, details={"grammar": repr(g), "kappa": sympy.sstr(k),
                                             "levels": rows})


def empirical(case: Case, device, generator) -> Measurement:
    r"""Estimate :math:`\min_{l,\mu}|P_l|\hat p_\mu` from sampled spines, with a simultaneous
    Clopper--Pearson interval (Bonferroni over all patches) at 99%."""
    p = case.params
    if p.get("kind") == "consistency":
        return consistency(case, device, generator)
    g = grammar_of(p)
    n, conf = p["samples"], CONFIDENCE
    counts = [torch.zeros(g.num_patches(l), dtype=torch.long, device=device) for l in range(1, g.num_layers + 1)]
    batch = 1 << 20
    for start in range(0, n, batch):
        _, first = rhm.sample_spine(g, min(batch, n - start), generator, device)
        for l in range(g.num_layers):
            counts[l] += torch.bincount(first[:, l], minlength=counts[l].numel())
    total = sum(c.numel() for c in counts)
    exact_min = assumptions.kappa(g, "float64")[1]  # per level, min |P_l| p_mu (computed once)
    best, lo_best, hi_best, rows = None, None, None, []
    for l, c in enumerate(counts, start=1):
        c = c.cpu().numpy()
        i = int(np.argmin(c))
        val = c[i] / n * g.num_patches(l)
        lo, hi = rate_limits(int(c[i]), n, bonferroni(total, conf))  # over all patches
        rows.append({"level": l, "min_Pl_phat": val, "exact_min_Pl_p": float(exact_min[l - 1])})
        if best is None or val < best:
            best, lo_best, hi_best = val, lo * g.num_patches(l), hi * g.num_patches(l)
    return Measurement(value=best, lower=lo_best, upper=hi_best, confidence=conf,
                       details={"grammar": repr(g), "levels": rows, "samples": n})


def first_patch_counts(g: rhm.Grammar, n: int, generator, device) -> list[np.ndarray]:
    """Counts of the first level-l patch, per level, over ``n`` sampled spines."""
    counts = [torch.zeros(g.num_patches(l), dtype=torch.long, device=device) for l in range(1, g.num_layers + 1)]
    for start in range(0, n, 1 << 20):
        _, first = rhm.sample_spine(g, min(1 << 20, n - start), generator, device)
        for l in range(g.num_layers):
            counts[l] += torch.bincount(first[:, l], minlength=counts[l].numel())
    return [c.cpu().numpy() for c in counts]


def consistency(case: Case, device, generator) -> Measurement:
    r"""Pearson's goodness of fit of the sampled first-patch counts to the exact :math:`p_\mu`,
    pooled over levels: the 99% critical value over the statistic (a count on a patch with exact
    :math:`p_\mu=0` makes the statistic infinite)."""
    p = case.params
    g = grammar_of(p)
    stat, dof, rows = 0.0, 0, []
    for l, c in enumerate(first_patch_counts(g, p["samples"], generator, device), start=1):
        pr = np.asarray(rhm.exact.first_patch_law(g, l, "float64").p, dtype=float)
        st, df = pearson_statistic(c, pr)
        rows.append({"level": l, "chi2": st, "dof": df})
        stat, dof = stat + st, dof + df
    critical = float(stats.chi2.ppf(CONFIDENCE, max(dof, 1)))
    return Measurement(value=critical / stat if stat > 0 else float("inf"),
                       details={"grammar": repr(g), "samples": p["samples"], "levels": rows, "chi2": stat,
                                "dof": dof, "critical_99": critical, "test_level": 0.01, "p_value": float(stats.chi2.sf(stat, max(dof, 1)))})


def bound(case: Case):
    if case.params.get("kind") == "consistency":
        return 1
    return Fraction(1, case.params["kappa"])


def prob_token_never_first_level1(V: int, n_c: int, m: int, s: int) -> float:
    r"""Authors' sampler: probability that a given token starts none of the :math:`n_c m` level-1
    patches drawn without replacement from :math:`V^s`, :math:`\binom{V^s-V^{s-1}}{n_cm}/\binom{V^s}{n_cm}`."""
    return comb(V**s - V ** (s - 1), n_c * m) / comb(V**s, n_c * m)


def survey(V: int, n_c: int, m: int, s: int, L: int, seeds) -> dict:
    """Authors' sampler over many grammars: the fraction with kappa = infinity and the finite kappas."""
    kappas = []
    for seed in seeds:
        g = rhm.sample_grammar(V, n_c, m, s, L, seed=seed, sampler="authors")
        k, _ = assumptions.kappa(g, "float64")
        kappas.append(float("inf") if k == sympy.oo else float(k))
    kappas = np.array(kappas)
    k_inf = int(np.isinf(kappas).sum())
    lo, hi = clopper_pearson(k_inf, len(kappas))
    return {"kappas": kappas, "frac_infinite": k_inf / len(kappas), "ci99": (lo, hi),
            # union of "token never first at level 1" events: a lower estimate of P(kappa = inf)
            "expected_missing_level1": V * prob_token_never_first_level1(V, n_c, m, s)}


CLAIM = Claim(
    name="non_degeneracy",
    paper="A",
    reference="Assumption 6(a)",
    page="p. 10",
    statements=("Assumption 6",),
    hypotheses=(
        r"L\text{-level RHM with branching factor }s,\ \text{CFG-induced (Definition 4)}",
        r"(V,m)\text{-uniform and non-ambiguous (Remark 5)}",
    ),
    alias="Assumption 4.1(a)",
    statement=STATEMENT,
    measured=r"1/\kappa_{\rm inst}=\min_{l,\mu}|P_l|\,p_\mu",
    relation=">=",
    bound=bound,
    exact=exact,
    empirical=empirical,
    cases=(
        Case("appendix_b_kappa1_V8_m4_L3", dict(V=8, n_c=8, m=4, s=2, L=3, grammar_seed=1,
                                                 sampler="appendix_b", kappa=1),
             note="Proposition 19's proof: p_mu = 1/(mV) exactly, so kappa = 1"),
        Case("appendix_b_kappa1_V6_m3_s3_L4", dict(V=6, n_c=6, m=3, s=3, L=4, grammar_seed=3,
                                                    sampler="appendix_b", kappa=1)),
        Case("authors_kappa_m_V16_m8_L3", dict(V=16, n_c=16, m=8, s=2, L=3, grammar_seed=0,
                                               sampler="authors", kappa=8),
             note="kappa <= m asked: no first patch m times rarer than uniform"),
        Case("authors_uniform_fails", dict(V=16, n_c=16, m=8, s=2, L=3, grammar_seed=0,
                                           sampler="authors", kappa=1), role="negative_control",
             note="the authors' sampler does not make the first-token law uniform: kappa = 1 fails"),
        Case("never_first_patch", {"grammar": "never_first", "kappa": 1000}, role="negative_control",
             note="a patch with p_mu = 0: kappa = infinity, no finite kappa works"),
        Case("sampled_appendix_b_V8_m4_L3", dict(V=8, n_c=8, m=4, s=2, L=3, grammar_seed=1,
                                                  sampler="appendix_b", kappa=2, samples=500_000),
             method="empirical", seed=23, note="sampled p-hat: min |P_l| p-hat near 1, its lower limit above 1/2"),
        Case("phat_vs_exact_p_authors_V16_m8_L3", dict(V=16, n_c=16, m=8, s=2, L=3, grammar_seed=0,
                                                        sampler="authors", kind="consistency", samples=2_000_000),
             method="empirical", seed=24,
             note="exact against sampled: p-hat agrees with first_patch_law at 99% (non-uniform p)"),
        Case("sampled_never_first_small", {"grammar": "never_first", "kappa": 1000, "samples": 100_000},
             method="empirical", seed=25, role="negative_control",
             note="a never-first patch is never sampled: the upper limit of min |P_l| p-hat is below 1/1000"),
        Case("sampled_appendix_b_V64_m8_L6", dict(V=64, n_c=64, m=8, s=2, L=6, grammar_seed=0,
                                                   sampler="appendix_b", kappa=2, samples=2_000_000_000),
             scale="large", method="empirical", seed=21, cpu_params={"samples": 800_000_000},
             note="sampled p-hat: min |P_l| p-hat near 1 (kappa = 1), far above 1/2; 8e8 spines on a CPU put "
                  "the simultaneous 99% limits over all patches within a few per cent of 1"),
        Case("sampled_never_first", {"grammar": "never_first", "kappa": 1000, "samples": 1_000_000},
             scale="large", method="empirical", seed=22, role="negative_control",
             note="a never-first patch is never sampled: p-hat = 0"),
    ),
)
