"""Injected bugs for the claims of lemmas/paper_b/ (see tests/catch_bugs/__init__.py)."""
import torch

import verify.learners.layerwise_resnet as lr
from . import Bug, lemma_module  # noqa: F401

_objective, _hessian, _gradient = lr.objective, lr.hessian, lr.gradient


def _objective_half_reg(V, Phi, Yhat, Y, loss, reg):
    """The ridge term written lambda/4 ||v||^2 instead of lambda/2."""
    return _objective(V, Phi, Yhat, Y, loss, reg / 2)


def _hessian_wrong_curvature(v, Phi, yhat, y, loss, reg):
    """The analytic Hessian with l'' of the logistic loss taken as s instead of s(1 - s)."""
    m = y * (yhat + Phi @ v)
    d2 = torch.sigmoid(-m) if loss == "logistic" else torch.ones_like(m)
    return Phi.T @ (d2[:, None] * Phi) / Phi.shape[0] + reg * torch.eye(Phi.shape[1], dtype=Phi.dtype)


def _gradient_no_reg(V, Phi, Yhat, Y, loss, reg):
    """The gradient without the ridge term's lambda v."""
    return _gradient(V, Phi, Yhat, Y, loss, reg) - reg * V


BUGS: list[Bug] = [
    Bug("convex_readout", "hessian_logistic_block1", "ridge term lambda/4 instead of lambda/2 in objective",
        lambda mp: mp.setattr(lemma_module("convex_readout"), "objective", _objective_half_reg)),
    Bug("convex_readout", "hessian_analytic_vs_autograd_block3", "analytic Hessian uses sigma instead of sigma(1-sigma)",
        lambda mp: mp.setattr(lemma_module("convex_readout"), "hessian", _hessian_wrong_curvature)),
    Bug("convex_readout", "stopping_logistic_block1", "gradient of the read-out problem drops the ridge term",
        lambda mp: mp.setattr(lr, "gradient", _gradient_no_reg)),
]

import numpy as np  # noqa: E402

import verify.features.random_neurons as rn  # noqa: E402

_random_features, _train_readout = rn.random_features, lr.train_readout


def _features_over_q(z, W, b, activation="relu"):
    """Random features normalised by 1/q instead of 1/sqrt(q)."""
    return _random_features(z, W, b, activation) / np.sqrt(W.shape[0])


def _train_readout_quarter(Phi, Yhat, Y, loss="square", reg=1e-3, eps_opt=1e-4, max_iter=5000, V0=None):
    """The read-out fitted on every 4th example only (a batching slip drops 3 of every 4 samples)."""
    return _train_readout(Phi[::4], Yhat[::4], Y[::4], loss, reg, eps_opt, max_iter, V0)


def _apply_block_overwrites(self, G, block, features=None):
    """The residual block writes its read-out over the label coordinates instead of adding to them."""
    W, b, V = block
    out = G.clone()
    out[:, self.d:] = (self.features(G, W, b) if features is None else features) @ V
    return out


def _fresh_run(mp):
    mp.setattr(lr, "_EXPERIMENTS", {})  # the shared training run is cached: the bug must retrain


def _inject(*patches):
    def inject(mp):
        _fresh_run(mp)
        for target, name, value in patches:
            mp.setattr(target, name, value)
    return inject


BUGS += [
    Bug("loss_decay", "majority_hierarchy_margin_labels", "random features normalised by 1/q instead of 1/sqrt(q)",
        _inject((rn, "random_features", _features_over_q))),
    Bug("loss_decay", "majority_hierarchy_margin_labels", "residual block overwrites the label coordinates",
        _inject((lr.LayerwiseResNet, "apply_block", _apply_block_overwrites))),
    Bug("depth_requirement", "majority_hierarchy_r2", "read-out fitted on 1 of every 4 samples",
        _inject((lr, "train_readout", _train_readout_quarter))),
    Bug("depth_requirement", "majority_hierarchy_r2", "random features normalised by 1/q instead of 1/sqrt(q)",
        _inject((rn, "random_features", _features_over_q))),
]

import sympy  # noqa: E402

_dual_sympy, _beta_xavier, _cube_eigenvalues = rn.dual_activation_sympy, rn.beta_xavier, rn.cube_eigenvalues


def _dual_sympy_no_2pi(activation="relu"):
    """The closed-form dual activation of ReLU without its 1/(2 pi) factor."""
    lam = _dual_sympy(activation)
    return sympy.Lambda(lam.variables, lam.expr * 2 * sympy.pi) if activation == "relu" else lam


def _beta_xavier_unit_weights(in_dim, width, beta, generator, device="cpu", dtype=torch.float64, weight_var=None):
    """beta-Xavier neurons sampled with weight variance 1/N instead of (1 - beta)/N."""
    return _beta_xavier(in_dim, width, beta, generator, device, dtype, weight_var=1.0)


def _cube_eigenvalues_no_binom(d, beta, activation="relu", exact=False):
    """Cube eigenvalues left as the sum over all |S| = k (not divided by binom(d, k))."""
    from math import comb
    return [l * comb(d, k) for k, l in enumerate(_cube_eigenvalues(d, beta, activation, exact))]


BUGS += [
    Bug("random_feature_polynomials", "rkhs_mc_chi123_beta1_4_d6", "ReLU dual activation missing its 1/(2 pi)",
        lambda mp: mp.setattr(rn, "dual_activation_sympy", _dual_sympy_no_2pi)),
    Bug("random_feature_polynomials", "kernel_mc_vs_exact_beta1_4_d6", "ReLU dual activation missing its 1/(2 pi)",
        lambda mp: mp.setattr(rn, "dual_activation_sympy", _dual_sympy_no_2pi)),
    Bug("random_feature_polynomials", "kernel_mc_vs_exact_beta1_4_d6", "neuron weights of variance 1/N, not (1-beta)/N",
        lambda mp: mp.setattr(rn, "beta_xavier", _beta_xavier_unit_weights)),
    Bug("random_feature_polynomials", "rf_mean_vs_eps_ptf_label_d6_q4096",
        "cube eigenvalues not divided by binom(d, k)",
        lambda mp: mp.setattr(rn, "cube_eigenvalues", _cube_eigenvalues_no_binom)),
    Bug("random_feature_polynomials", "rf_chi123_beta0.25_d6_q16384", "cube eigenvalues not divided by binom(d, k)",
        lambda mp: mp.setattr(rn, "cube_eigenvalues", _cube_eigenvalues_no_binom)),
]


def _orthogonal_rows_not_orthonormalised(n, N, generator, device="cpu", dtype=torch.float64):
    """W^D drawn as a Gaussian matrix scaled by 1/sqrt(N), its rows never orthonormalised (QR forgotten)."""
    return (torch.randn(N, N, generator=generator, dtype=torch.float64)[:n] / N ** 0.5).to(device=device, dtype=dtype)


BUGS += [
    Bug("depth_requirement", "summary_formula_r2", "random features normalised by 1/q instead of 1/sqrt(q)",
        _inject((rn, "random_features", _features_over_q))),
    Bug("depth_requirement", "faithful_network_package_form", "W^D's rows not orthonormalised (QR forgotten)",
        _inject((lr, "orthogonal_rows", _orthogonal_rows_not_orthonormalised))),
    # the cases issue 16 added: the summary's network, Def. 3.1's nested form, Thm 3.4's votes (the W^D bug on
    # these takes 10-36 s of retraining; faithful_network_package_form above already catches it)
    Bug("loss_decay", "summary_network_margin_labels", "random features normalised by 1/q instead of 1/sqrt(q)",
        _inject((rn, "random_features", _features_over_q))),
    Bug("depth_requirement", "nested_hierarchy_r3_package_form", "read-out fitted on 1 of every 4 samples",
        _inject((lr, "train_readout", _train_readout_quarter))),
    Bug("depth_requirement", "brain_dump_votes_summary_network", "read-out fitted on 1 of every 4 samples",
        _inject((lr, "train_readout", _train_readout_quarter))),
]
