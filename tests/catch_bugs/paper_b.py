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
