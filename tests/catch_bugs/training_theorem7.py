"""Injected bugs for Theorem 7's claims (lemmas/training/theorem7_*.py; see tests/catch_bugs/__init__.py)."""
import dataclasses
from fractions import Fraction

from verify.experiments import theorem7
from verify.learners import layerwise_ridge
from verify.rhm import exact

from . import Bug

_conditional_q = exact.conditional_q
_chain_parameters = theorem7.chain_parameters
_practical_parameters = layerwise_ridge.practical_parameters


def _q_off_by_one_percent(grammar, level, arithmetic="auto"):
    """conditional_q with a 1 % error on its first entry at levels >= 2."""
    law = _conditional_q(grammar, level, arithmetic)
    if level >= 2:
        q = law.q.copy()
        q[0, 0] = q[0, 0] * (Fraction(101, 100) if isinstance(q[0, 0], Fraction) else 1.01)
        law = dataclasses.replace(law, q=q)
    return law


def _per_patch_without_P(grammar, delta_p=0.1, C=1.0, N_rule="lemma11", fixed=None):
    """the per-patch N computed without its |P_l| factor (the same slip as Lemma 11's N)."""
    out = _chain_parameters(grammar, delta_p, C, N_rule, fixed)
    if N_rule == "per_patch":
        out = [dict(p, N=max(1, p["N"] // p["num_patches"])) for p in out]
    return out


def _bandwidth_times_20(grammar, total_samples, num_features=512, sigma_scale=0.5, **kw):
    """sigma^(l) twenty times too wide: the RBF kernel is nearly constant, the features carry no signal."""
    return _practical_parameters(grammar, total_samples, num_features, 20 * sigma_scale, **kw)


BUGS = [
    Bug("theorem7_chain", "counts_per_patch_V16_m4_L4", "conditional_q off by 1 % at levels >= 2",
        lambda mp: mp.setattr(exact, "conditional_q", _q_off_by_one_percent)),
    Bug("theorem7_chain", "counts_per_patch_V16_m4_L4", "the per-patch N^(l) without its |P_l| factor",
        lambda mp: mp.setattr(theorem7, "chain_parameters", _per_patch_without_P)),
    Bug("theorem7_scaling", "V4_m2_L2_M256", "practical_parameters' bandwidth 20 times too wide",
        lambda mp: mp.setattr(theorem7, "practical_parameters", _bandwidth_times_20)),
]
