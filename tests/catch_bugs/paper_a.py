"""Injected bugs for the claims of lemmas/paper_a/ (see tests/catch_bugs/__init__.py).

Each bug is patched where the claim module looks the function up (``verify.rhm.exact`` and
``verify.features.rff`` attributes are read at call time; nothing on these paths is cached)."""
from __future__ import annotations

import dataclasses

import numpy as np
import torch

from verify.features import rff
from verify.rhm import assumptions, exact, sampling

from . import Bug, lemma_module  # noqa: F401

_conditional_q = exact.conditional_q
_first_patch_law = exact.first_patch_law


def _q_scaled_at_levels_ge2(grammar, level, arithmetic="auto"):
    """q of levels >= 2 multiplied by 1.01 (a 1 % normalisation error)."""
    law = _conditional_q(grammar, level, arithmetic)
    return law if level < 2 else dataclasses.replace(law, q=law.q * 1.01)


def _q_mixed_with_uniform(grammar, level, arithmetic="auto"):
    """q of levels >= 2 mixed with 1 % of the uniform law (still a probability vector)."""
    law = _conditional_q(grammar, level, arithmetic)
    if level < 2:
        return law
    u = np.full(law.q.shape, 1.0 / law.q.shape[1])
    return dataclasses.replace(law, q=0.99 * law.q.astype(float) + 0.01 * u)


BUGS: list[Bug] = [
    Bug("signal_gap", "qhat_vs_exact_q_V8_m4_L3", "conditional_q 1% too large at levels >= 2",
        lambda mp: mp.setattr(exact, "conditional_q", _q_scaled_at_levels_ge2)),
    Bug("signal_gap", "qhat_vs_exact_q_authors_V8_m4_L3", "conditional_q mixed with 1% uniform at levels >= 2",
        lambda mp: mp.setattr(exact, "conditional_q", _q_mixed_with_uniform)),
]


# -- non_degeneracy ------------------------------------------------------------------------------
def _kappa_vocabulary_not_patches(grammar, arithmetic="auto"):
    """kappa normalised by |V_l| instead of |P_l| = m |V_l| (a missing factor m)."""
    per_level = [min(exact.p_first_patch(grammar, l, arithmetic)) * grammar.vocabulary_size(l)
                 for l in range(1, grammar.num_layers + 1)]
    worst = min(per_level)
    return (1 / worst if worst else float("inf")), per_level


def _transition_matrix_drops_repeats(grammar, level, arithmetic="auto"):
    """Fancy-index ``+=`` instead of ``np.add.at``: a first token repeated among a symbol's m rules
    is counted once."""
    first = grammar.rules[level - 1][:, :, 0]
    counts = np.zeros((first.shape[0], grammar.num_features), dtype=np.int64)
    counts[np.arange(first.shape[0])[:, None], first] += 1
    return exact._counts_to(counts, grammar.num_synonyms, exact._arith(grammar, arithmetic))


def _spine_second_token(grammar, n, generator, device=None):
    """sample_spine following the second token of each patch instead of the first."""
    device = sampling._device(device, generator)
    m = grammar.num_synonyms
    y = torch.randint(grammar.num_classes, (n,), generator=generator, device=generator.device).to(device)
    sym, idx = y, []
    for rules in sampling._rules_on(grammar, device):
        r = torch.randint(m, (n,), generator=generator, device=generator.device).to(device)
        idx.append(sym * m + r)
        sym = rules[sym, r, 1]
    return y, torch.stack(idx, dim=1)


# -- clean_signal --------------------------------------------------------------------------------
_expand = sampling.expand


def _expand_siblings_share_rule(grammar, labels, choices):
    """A broadcast slip: all s children of a node use the rule chosen for the first of them."""
    s = grammar.tuple_size
    shared = [c if l == 0 else c[:, ::s].repeat_interleave(s, dim=1) for l, c in enumerate(choices)]
    return _expand(grammar, labels, shared)


def _sample_derivations_label_seeded(grammar, n, generator, device=None):
    """The deepest level's rule choice at the first position reuses the label's draw (a reused
    random stream), so the leftmost input tokens depend on the label beyond the patch above them."""
    y, choices = sampling.sample_derivations(grammar, n, generator, device)
    choices = [c.clone() for c in choices]
    choices[-1][:, 0] = y % grammar.num_synonyms
    return y, choices


BUGS += [
    Bug("non_degeneracy", "appendix_b_kappa1_V8_m4_L3", "kappa normalised by |V_l| instead of |P_l|",
        lambda mp: mp.setattr(assumptions, "kappa", _kappa_vocabulary_not_patches)),
    Bug("non_degeneracy", "phat_vs_exact_p_authors_V16_m8_L3", "transition matrix drops repeated first tokens",
        lambda mp: mp.setattr(exact, "transition_matrix", _transition_matrix_drops_repeats)),
    Bug("non_degeneracy", "phat_vs_exact_p_authors_V16_m8_L3", "sample_spine follows the second token",
        lambda mp: mp.setattr(lemma_module("non_degeneracy").rhm, "sample_spine", _spine_second_token)),
    Bug("signal_gap", "qhat_vs_exact_q_V8_m4_L3", "sample_spine follows the second token",
        lambda mp: mp.setattr(lemma_module("signal_gap").rhm, "sample_spine", _spine_second_token)),
    Bug("clean_signal", "appendix_b_V4_m2_L3", "expand: siblings share one rule choice",
        lambda mp: mp.setattr(lemma_module("clean_signal").rhm, "expand", _expand_siblings_share_rule)),
    Bug("clean_signal", "sampled_appendix_b_V4_m2_L3", "sample_derivations: first node's rule from the label",
        lambda mp: mp.setattr(lemma_module("clean_signal").rhm, "sample_derivations",
                              _sample_derivations_label_seeded)),
]


# -- rff_kernel_error, rff_near_orthogonality ------------------------------------------------------
_sample_frequencies = rff.sample_frequencies
_random_fourier_features = rff.random_fourier_features


def _frequencies_over_sigma_sq(input_dim, num_features, sigma, generator, device=None, dtype=torch.float64,
                               batch_shape=()):
    """Frequencies drawn with standard deviation 1/sigma^2 instead of 1/sigma (a wrong bandwidth)."""
    return _sample_frequencies(input_dim, num_features, sigma**2, generator, device, dtype, batch_shape)


def _frequencies_times_sigma(input_dim, num_features, sigma, generator, device=None, dtype=torch.float64,
                             batch_shape=()):
    """Frequencies N(0, sigma^2 I) instead of N(0, sigma^-2 I) (bandwidth inverted)."""
    return _sample_frequencies(input_dim, num_features, 1.0 / sigma, generator, device, dtype, batch_shape)


def _features_over_sqrt_2m(h, frequencies):
    """Eq. (6) normalised by sqrt(2M) (the feature dimension) instead of sqrt(M)."""
    return _random_fourier_features(h, frequencies) / np.sqrt(2)


def _rbf_missing_half(h, h_prime=None, sigma=1.0):
    """psi_sigma = exp(-||h - h'||^2 / sigma^2): the factor 2 of the RBF kernel forgotten."""
    hp = h if h_prime is None else h_prime
    d2 = ((h.unsqueeze(-2) - hp.unsqueeze(-3)) ** 2).sum(-1)
    return torch.exp(-d2 / sigma**2)


BUGS += [
    Bug("rff_kernel_error", "pointwise_error_scale_dh4", "frequencies with std 1/sigma^2 (wrong bandwidth)",
        lambda mp: mp.setattr(rff, "sample_frequencies", _frequencies_over_sigma_sq)),
    Bug("rff_kernel_error", "pointwise_error_scale_dh4", "features normalised by sqrt(2M)",
        lambda mp: mp.setattr(rff, "random_fourier_features", _features_over_sqrt_2m)),
    Bug("rff_kernel_error", "quantile_unit_ball_dh4", "RBF kernel without the factor 2",
        lambda mp: mp.setattr(rff, "rbf_kernel", _rbf_missing_half)),
    Bug("rff_near_orthogonality", "V4_m2_L3_corrected_sigma", "frequencies N(0, sigma^2) instead of N(0, sigma^-2)",
        lambda mp: mp.setattr(rff, "sample_frequencies", _frequencies_times_sigma)),
    Bug("rff_near_orthogonality", "V4_m2_L3_quantile", "features normalised by sqrt(2M)",
        lambda mp: mp.setattr(rff, "random_fourier_features", _features_over_sqrt_2m)),
]


# -- q_concentration -------------------------------------------------------------------------------
def _p_without_rule_choice(grammar, level, arithmetic="auto"):
    """p_mu = Pr[parent] (the 1/m of the uniform rule choice forgotten)."""
    return _POff(_first_patch_law(grammar, level, arithmetic))


class _POff:
    """A FirstPatchLaw whose ``p`` is the parent's probability (times m)."""
    def __init__(self, law):
        self._law = law

    def __getattr__(self, name):
        return getattr(self._law, name)

    @property
    def p(self):
        return self._law.p * self._law.num_synonyms


def _q_one_level_short(grammar, level, arithmetic="auto"):
    """q of level l computed from the chain of level l-1 (an off-by-one in the product of P_k)."""
    law = _first_patch_law(grammar, level, arithmetic)
    if level < 3:
        return law
    return dataclasses.replace(law, q=_first_patch_law(grammar, level - 1, arithmetic).q)


BUGS += [
    Bug("q_concentration", "quantile_per_patch_count_V8_m4_level2", "p_mu without the 1/m of the rule choice",
        lambda mp: mp.setattr(exact, "first_patch_law", _p_without_rule_choice)),
    Bug("q_concentration", "per_patch_count_V8_m4_level3", "q of level l from the chain of level l-1",
        lambda mp: mp.setattr(exact, "first_patch_law", _q_one_level_short)),
    Bug("q_concentration", "sampled_vs_exact_union_terms", "sample_spine follows the second token",
        lambda mp: mp.setattr(lemma_module("q_concentration").rhm, "sample_spine", _spine_second_token)),
]
