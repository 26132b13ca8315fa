"""Injected bugs for the claims of lemmas/appendix_b/ (see tests/catch_bugs/__init__.py).

Each bug is a plausible mistake in the library function (``verify.rhm.balls_into_bins``,
``verify.rhm.exact``) or in the measuring function of the lemma module that the named check case
evaluates; the case must then fail or go inconclusive.
"""
import dataclasses
import math
from fractions import Fraction

import numpy as np
import torch

from verify.rhm import balls_into_bins as bb
from verify.rhm import exact as rhm_exact

from . import Bug, lemma_module  # noqa: F401

_table_probability = bb.table_probability
_sample_transition_matrices = bb.sample_transition_matrices
_draw_moments = bb.draw_moments
_conditional_q = rhm_exact.conditional_q


def _table_probability_rows_only(table):
    """Forgets the column-sum factorials of the closed form."""
    t = np.asarray(table, dtype=np.int64)
    num = math.prod(math.factorial(int(a)) for a in t.sum(1))
    den = math.factorial(int(t.sum())) * math.prod(math.factorial(int(x)) for x in t.ravel())
    return Fraction(num, den)


def _placements_with_replacement(V, m, n, generator, device="cpu"):
    """Colours each slot independently instead of permuting the m balls of every colour."""
    return torch.randint(0, V, (n, m * V), generator=generator).to(device)


def _sequential_without_denominator(table, column_sums=None):
    """Drops the binomial(R, a) normaliser of each bin's multivariate hypergeometric law."""
    t = np.asarray(table, dtype=np.int64)
    remaining = np.array(t.sum(0) if column_sums is None else column_sums, dtype=np.int64)
    p = Fraction(1)
    for row in t:
        if (row > remaining).any():
            return Fraction(0)
        p *= math.prod(math.comb(int(r), int(k)) for r, k in zip(remaining, row))
        remaining = remaining - row
    return p


def _transition_matrices_over_V(V, m, n, generator, device="cpu"):
    """Normalises the counts by the number of colours V instead of the bin size m."""
    return _sample_transition_matrices(V, m, n, generator, device) * m / V


def _draw_moments_wrong_pair_normaliser(T1, T2, T3, T4, M, m):
    """E[Z_1 Z_2] normalised by M^2 instead of M(M-1) (as if drawing with replacement)."""
    out = _draw_moments(T1, T2, T3, T4, M, m)
    e11_right = (T1**2 - T2) / (M * (M - 1))
    e11_wrong = (T1**2 - T2) / (M * M)
    out["tau2"] = out["tau2"] + (m - 1) * (e11_wrong - e11_right) / m
    return out


def _conditional_q_one_percent_off(grammar, level, arithmetic="auto"):
    """q at levels >= 2 mixed 1 % towards the first label (a slip in the Bayes step)."""
    law = _conditional_q(grammar, level, arithmetic)
    if level < 2:
        return law
    q = law.q.copy()
    eps = Fraction(1, 100) if law.arithmetic == "fraction" else 0.01
    shift = np.zeros_like(q)
    shift[:, 0] = 1
    q = (1 - eps) * q + eps * shift
    return dataclasses.replace(law, q=q)


def _multistep_norm_exponent(stem):
    mod = lemma_module(stem)
    right = mod.chain_constants

    def wrong(P, m, pairs="fixed"):
        """Applies the exponent -2/l to the squared norm, as if it were the norm."""
        return right(P, m, pairs) ** 2 * m
    return wrong


def _ratio_at_double_lambda(stem):
    right = lemma_module(stem).ratio

    def wrong(points, probs, lam):
        """lambda taken on the scale b/2 (exponent 2 lambda W), the bound's lambda^2 kept."""
        return right(points, probs, 2 * lam) * 4
    return wrong


def _law_wor_without_multiplicities(z, m, n):
    """Counts each colour composition once, forgetting binomial(m, j) orderings of the balls."""
    states = {(0, 0): 1}
    for v in z:
        new: dict = {}
        for (k, s), w in states.items():
            for j in range(0, min(m, n - k) + 1):
                key = (k + j, s + j * v)
                new[key] = new.get(key, 0) + w
        states = new
    total = sum(w for (k, _), w in states.items() if k == n)
    return {s: Fraction(w, total) for (k, s), w in states.items() if k == n}


BB = "verify.rhm.balls_into_bins"

BUGS: list[Bug] = [
    Bug("appendix_b_balls_into_bins", "enumerated_V3_m2", "table law without the column factorials",
        lambda mp: mp.setattr(f"{BB}.table_probability", _table_probability_rows_only)),
    Bug("appendix_b_balls_into_bins", "sampled_balls_V8_m4", "placements coloured with replacement",
        lambda mp: mp.setattr(f"{BB}.sample_placements", _placements_with_replacement)),
    Bug("appendix_b_draws_without_replacement", "sampled_V8_m4", "placements coloured with replacement",
        lambda mp: mp.setattr(f"{BB}.sample_placements", _placements_with_replacement)),
    Bug("appendix_b_draws_without_replacement", "enumerated_V3_m2",
        "bin-by-bin hypergeometric law without its normaliser",
        lambda mp: mp.setattr(f"{BB}.sequential_hypergeometric_probability", _sequential_without_denominator)),
    Bug("appendix_b_hoeffding_comparison", "convex_ramp_V4_m4",
        "without-replacement law forgets the binomial(m, j) multiplicities",
        lambda mp: mp.setattr(lemma_module("appendix_b_hoeffding_comparison"), "law_without_replacement",
                              _law_wor_without_multiplicities)),
    Bug("appendix_b_hoeffding_comparison", "sampled_vs_exact_ramp_V6_m6",
        "without-replacement law forgets the binomial(m, j) multiplicities",
        lambda mp: mp.setattr(lemma_module("appendix_b_hoeffding_comparison"), "law_without_replacement",
                              _law_wor_without_multiplicities)),
    Bug("appendix_b_bin_count_concentration", "sampled_vs_exact_quantile_V30_m64",
        "placements coloured with replacement", lambda mp: mp.setattr(f"{BB}.sample_placements",
                                                                      _placements_with_replacement)),
    Bug("appendix_b_conditional_moment_bounds", "identity_pair_V3_m3",
        "E[Z1 Z2] normalised by M^2 instead of M(M-1)",
        lambda mp: mp.setattr(f"{BB}.draw_moments", _draw_moments_wrong_pair_normaliser)),
    Bug("appendix_b_exponential_moment", "two_point_grid", "lambda on the scale b/2 (e^{2 lambda W})",
        lambda mp: mp.setattr(lemma_module("appendix_b_exponential_moment"), "ratio",
                              _ratio_at_double_lambda("appendix_b_exponential_moment"))),
    Bug("appendix_b_one_step_contraction", "sampled_pair_V32_m8", "P = N/V instead of N/m",
        lambda mp: mp.setattr(f"{BB}.sample_transition_matrices", _transition_matrices_over_V)),
    Bug("appendix_b_multistep_contraction", "sampled_vs_exact_rate_V3_m3_l2", "placements coloured with replacement",
        lambda mp: mp.setattr(f"{BB}.sample_placements", _placements_with_replacement)),
    Bug("appendix_b_one_step_contraction", "sampled_vs_exact_ramp_V4_m3",
        "bin-by-bin hypergeometric law without its normaliser (exact law)",
        lambda mp: mp.setattr(f"{BB}.sequential_hypergeometric_probability", _sequential_without_denominator)),
    Bug("appendix_b_multistep_contraction", "quantile_V16_m16_l3",
        "exponent -2/l applied to the squared norm",
        lambda mp: mp.setattr(lemma_module("appendix_b_multistep_contraction"), "chain_constants",
                              _multistep_norm_exponent("appendix_b_multistep_contraction"))),
    Bug("appendix_b_signal_lower_bound", "identity_cross_check_V16_m8_L3", "q off by 1 % at levels >= 2",
        lambda mp: mp.setattr("verify.rhm.exact.conditional_q", _conditional_q_one_percent_off)),
]
