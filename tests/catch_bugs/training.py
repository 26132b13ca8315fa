"""Injected bugs for the claims of lemmas/training/ (see tests/catch_bugs/__init__.py)."""
import dataclasses
from fractions import Fraction

from verify.learners import layerwise_ridge
from verify.learners.layerwise_ridge import LayerwiseRidge
from verify.rhm import exact

from . import Bug, lemma_module
from .paper_a import _spine_second_token

_conditional_q = exact.conditional_q
_tensor_features = layerwise_ridge.tensor_features
_closed_form = LayerwiseRidge.closed_form
_gradient_descent = LayerwiseRidge.gradient_descent
_fit = LayerwiseRidge.fit
_stage_samples = layerwise_ridge.stage_samples


def _q_off_by_one_percent(grammar, level, arithmetic="auto"):
    """conditional_q with a 1 % error on its first entry at levels >= 2 (rows no longer sum to 1)."""
    law = _conditional_q(grammar, level, arithmetic)
    if level >= 2:
        q = law.q.copy()  # never mutate the library's (possibly shared) array
        q[0, 0] = q[0, 0] * (Fraction(101, 100) if isinstance(q[0, 0], Fraction) else 1.01)
        law = dataclasses.replace(law, q=q)
    return law


def _tensor_drops_last_token(h):
    """an off-by-one in the product loop: h_1 ⊗ ... ⊗ h_{s-1}, the last token ignored."""
    out = h[..., 0, :]
    for i in range(1, h.shape[-2] - 1):
        out = (out.unsqueeze(-1) * h[..., i, :].unsqueeze(-2)).flatten(-2)
    return out


def _closed_form_lambda_times_n(C, B, lambda_w):
    """the ridge penalty of the dual form (lambda N) used in the primal: lambda doubled for these sizes."""
    return _closed_form(C, B, 2 * lambda_w)


def _gd_skips_steps(C, B, lambda_w, step_size, num_steps, *a, **kw):
    """GD that does one step in two (an off-by-one in a step counter)."""
    return _gradient_descent(C, B, lambda_w, step_size, num_steps // 2, *a, **kw)


def _gd_off_by_one(C, B, lambda_w, step_size, num_steps, *a, **kw):
    """an off-by-one: the last step is skipped."""
    return _gradient_descent(C, B, lambda_w, step_size, num_steps - 1, *a, **kw)


def _stage_samples_quarter(grammar, level, num_samples, seed, device="cpu"):
    """each stage silently keeps one sample in four."""
    x, y = _stage_samples(grammar, level, num_samples, seed, device)
    return x[::4], y[::4]


def _inject_q(mp):
    mp.setattr(exact, "conditional_q", _q_off_by_one_percent)


BUGS: list[Bug] = [
    Bug("warmup_constructions", "construction2_V4_m2_L3", "conditional_q off by 1 % at levels >= 2", _inject_q),
    Bug("warmup_constructions", "construction1_V4_m2_L3", "tensor_features drops the last token of a patch",
        lambda mp: mp.setattr(layerwise_ridge, "tensor_features", _tensor_drops_last_token)),
]

BUGS += [
    Bug("ridge_factorization", "lemma14_constructed_epsO_1e-5", "closed_form uses 2 lambda_W (wrong ridge constant)",
        lambda mp: mp.setattr(LayerwiseRidge, "closed_form", staticmethod(_closed_form_lambda_times_n))),
    Bug("ridge_factorization", "lemma15_one_step_rff", "gradient_descent skips every other step",
        lambda mp: mp.setattr(LayerwiseRidge, "gradient_descent", staticmethod(_gd_skips_steps))),
    Bug("ridge_factorization", "lemma15_one_step_rff", "gradient_descent's loop runs num_steps - 1 times",
        lambda mp: mp.setattr(LayerwiseRidge, "gradient_descent", staticmethod(_gd_off_by_one))),
]

BUGS += [
    Bug("single_layer_training", "learner_tensor_level3_N_statement", "LayerwiseRidge.fit keeps 1 of every 4 samples",
        lambda mp: mp.setattr(layerwise_ridge, "stage_samples", _stage_samples_quarter)),
    Bug("lemma11_one_layer", "learner_tensor_level3_N_lemma11", "LayerwiseRidge.fit keeps 1 of every 4 samples",
        lambda mp: mp.setattr(layerwise_ridge, "stage_samples", _stage_samples_quarter)),
    # the quantile case reads the run its rate case memoised (RUNS_MEMO), which the test empties: the bug reaches it
    Bug("single_layer_training", "orthonormal_N_per_patch_quantile", "sample_spine follows the second token",
        lambda mp: mp.setattr(lemma_module("single_layer_training").rhm, "sample_spine", _spine_second_token)),
]
