r"""Sample complexity (Paper A, Theorem 7): :math:`P^*`, the smallest number of training samples at which a
learner's test accuracy reaches a target, for the layerwise learner and its baselines **on the same data**,
and the exponent of :math:`m^L` fitted over a grid of :math:`(m,L)`.

What the three families are expected to need:

* the layerwise learner (Theorem 7): :math:`P\le\mathrm{poly}(\kappa,m,V,s,L,\log\frac1{\delta_P})K_\rho^{-2}m^L`,
  informally :math:`m^{(1+o(1))L}` (Theorem 1);
* a deep CNN trained end to end by SGD: :math:`P^*\approx n_cm^L` (Cagnetta et al. 2024, measured);
* shallow learners on the whole input: sizes comparable to the number of distinct inputs,
  :math:`n_cm^{(s^L-1)/(s-1)}`, exponential in :math:`d=s^L` (the RHM literature; Remark 8's
  :math:`\Omega(m^{s^L})` heuristic).

Every learner of a grid point sees the same training samples (:func:`verify.learners.layerwise_ridge.training_samples`,
the layerwise learner's fresh per-stage samples, concatenated) and is scored on the same test set.
"""
from __future__ import annotations

import math
import os
from typing import Callable, Iterable, Mapping

import numpy as np
import torch
from scipy import stats
from tqdm.auto import tqdm

from ..learners import baselines
from ..learners.layerwise_ridge import LayerwiseRidge, practical_parameters, training_samples
from ..rhm import Grammar, assumptions, num_derivations, sample, sample_grammar
from ..validate import int_at_least as _int_at_least

__all__ = ["DEFAULT_HYPERPARAMETERS", "FAMILIES", "LEARNERS", "MAX_SAMPLES", "distinct_inputs", "find_p_star",
           "fit_exponent", "fit_learner", "grammar_with_signal", "learner_p_star", "shuffle_labels",
           "sample_complexity_grid"]

LEARNERS = ("layerwise_ridge",) + baselines.BASELINES
FAMILIES = {"layerwise_ridge": "deep, layerwise ridge (Paper A)", "cnn": "deep CNN, end-to-end SGD",
            "mlp2": "shallow: 2-layer net, SGD", "kernel_gaussian": "shallow: Gaussian kernel ridge",
            "kernel_laplace": "shallow: Laplace kernel ridge"}
#: The protocol of every learner in a P* search (each a keyword of :func:`fit_learner`). The SGD nets take at
#: least ``min_steps`` mini-batch steps whatever the training-set size, so a small set is not under-trained.
DEFAULT_HYPERPARAMETERS: dict[str, dict] = {
    "layerwise_ridge": {"num_features": 256, "sigma_scale": 0.5},
    "cnn": {"width": 64, "epochs": 20, "min_steps": 3000, "lr": 0.1, "batch_size": 128},
    "mlp2": {"width": 256, "epochs": 20, "min_steps": 3000, "lr": 0.1, "batch_size": 128},
    "kernel_gaussian": {},
    "kernel_laplace": {},
}
#: Kernel ridge stores the :math:`n\times n` Gram matrix (float64): its P* search stops here.
MAX_SAMPLES = {"kernel_gaussian": 1 << 14, "kernel_laplace": 1 << 14}


def _check_learner(name):
    if name not in LEARNERS:
        raise ValueError(f"learner must be one of {LEARNERS}; got {name!r}")


def grammar_with_signal(V: int, m: int, L: int, s: int = 2, sampler: str = "appendix_b", max_seed: int = 50,
                        num_classes: int | None = None) -> Grammar:
    r"""The first grammar seed whose instance satisfies Assumption 6: finite :math:`\kappa` and :math:`K_\rho>0`."""
    n_c = V if num_classes is None else num_classes
    for seed in range(_int_at_least("max_seed", max_seed, 1)):
        g = sample_grammar(V, n_c, m, s, L, seed=seed, sampler=sampler)
        k = float(assumptions.kappa(g, "float64")[0])
        if math.isfinite(k) and float(assumptions.instance_k_rho(assumptions.signal_gaps(g, "float64"), m)) > 0:
            return g
    raise ValueError(f"no grammar with K_rho > 0 and finite kappa among seeds 0..{max_seed - 1} for V={V}, m={m}, "
                     f"L={L}, s={s}")


def distinct_inputs(grammar: Grammar) -> int:
    r"""Number of inputs of positive probability, :math:`n_cm^{(s^L-1)/(s-1)}` (every derivation gives a
    distinct input: the grammar is non-ambiguous). The shallow learners' reference size."""
    return num_derivations(grammar)


def shuffle_labels(x: torch.Tensor, y: torch.Tensor, generator: torch.Generator):
    """The negative control's data: the labels permuted, so they are independent of the inputs."""
    return x, y[torch.randperm(len(y), generator=generator).to(y.device)]


def fit_learner(name: str, grammar: Grammar, total: int, seed: int, device="cpu", shuffled: bool = False,
                progress: bool = False, checkpoint=None, **hyper):
    r"""Train learner ``name`` (one of :data:`LEARNERS`) on ``total`` samples of ``grammar`` and return it.

    ``layerwise_ridge`` draws its stages' fresh samples itself (:func:`practical_parameters`,
    :math:`N^{(l)}\propto m^l`); a baseline is trained on exactly those samples, concatenated. ``hyper``
    overrides :data:`DEFAULT_HYPERPARAMETERS`; ``shuffled`` permutes the labels (negative control).
    ``checkpoint`` (a file, ``layerwise_ridge`` only): resume from and save to it; a checkpoint written for
    another configuration (grammar, seed, levels, ``shuffled``) is refused before any training."""
    _check_learner(name)
    if checkpoint is not None:
        if not isinstance(checkpoint, (str, os.PathLike)) or str(checkpoint).strip() == "":
            raise ValueError(f"checkpoint must be a file path or None; got {checkpoint!r}")
        if name != "layerwise_ridge":
            raise ValueError(f"checkpoint is only supported by layerwise_ridge, not {name!r}")
    total = _int_at_least("total (number of training samples)", total, grammar.num_layers)
    hp = {**DEFAULT_HYPERPARAMETERS[name], **hyper}
    if name == "layerwise_ridge":
        unknown = set(hp) - {"num_features", "sigma_scale"}
        if unknown:
            raise ValueError(f"layerwise_ridge takes num_features and sigma_scale; got also {sorted(unknown)}")
        levels = practical_parameters(grammar, total, num_features=hp["num_features"], sigma_scale=hp["sigma_scale"])
        model = LayerwiseRidge.for_grammar(grammar, levels, device=device)
        return model.fit(grammar, seed=seed, progress=progress, checkpoint=checkpoint,
                         transform=shuffle_labels if shuffled else None)
    if total > MAX_SAMPLES.get(name, math.inf):
        raise ValueError(f"total must be <= {MAX_SAMPLES[name]} for {name} (n x n Gram matrix); got {total}")
    x, y = training_samples(grammar, total, seed, device)
    if shuffled:
        x, y = shuffle_labels(x, y, torch.Generator().manual_seed(seed))
    model = baselines.make_baseline(name, grammar, device=device, **hp)
    return model.fit(x, y, torch.Generator().manual_seed(seed), progress=progress)


def find_p_star(accuracy: Callable[[int], float], start: int, budget: int, target: float = 0.9, refine: int = 3):
    r"""Smallest :math:`P` with ``accuracy(P) >= target``: doubling from ``start`` up to ``budget``, then
    ``refine`` geometric bisection steps in the last doubling interval (a resolution of :math:`2^{2^{-refine}}`).
    Returns ``(P*, curve)`` with ``P* = inf`` (censored: :math:`P^*>` ``budget``) if the budget is reached
    first; ``curve`` lists every ``(P, accuracy)`` evaluated, sorted by :math:`P`."""
    start = _int_at_least("start", start, 1)
    budget = _int_at_least("budget", budget, start)
    _int_at_least("refine", refine, 0)
    if not 0 < target <= 1:
        raise ValueError(f"target must lie in (0, 1]; got {target!r}")
    curve: dict[int, float] = {}

    def acc(P):
        if P not in curve:
            curve[P] = float(accuracy(P))
        return curve[P]

    P, lo = start, None
    while acc(P) < target:
        if P >= budget:
            return math.inf, sorted(curve.items())
        lo, P = P, min(2 * P, budget)
    hi = P
    for _ in range(refine if lo is not None else 0):
        mid = int(round(math.sqrt(lo * hi)))
        if mid in (lo, hi):
            break
        if acc(mid) >= target:
            hi = mid
        else:
            lo = mid
    return hi, sorted(curve.items())


def learner_p_star(name: str, grammar: Grammar, test, budget: int, target: float = 0.9, trials: int = 1,
                   seed: int = 0, device="cpu", refine: int = 3, shuffled: bool = False, **hyper):
    r""":func:`find_p_star` for learner ``name``: the accuracy at :math:`P` is the mean over ``trials`` training
    seeds (``1000 seed + t``) on the fixed ``test`` set; the search starts at :math:`n_cm` and stops at
    ``budget`` (or the learner's :data:`MAX_SAMPLES`). Returns ``(P*, curve, budget used)``."""
    _check_learner(name)
    trials = _int_at_least("trials", trials, 1)
    budget = min(budget, MAX_SAMPLES.get(name, budget))
    start = max(grammar.num_classes * grammar.num_synonyms, grammar.num_layers)

    def accuracy(P):
        return np.mean([fit_learner(name, grammar, P, 1000 * seed + t, device, shuffled, **hyper).accuracy(*test)
                        for t in range(trials)])

    P_star, curve = find_p_star(accuracy, start, max(budget, start), target, refine)
    return P_star, curve, budget


def fit_exponent(points: Iterable[tuple[int, int, float]], confidence: float = 0.95,
                 budgets: Iterable[int] | None = None) -> dict:
    r"""Least squares :math:`\log P^*=a+b\,L\log m` over the finite points ``(m, L, P*)``; ``b`` with its
    Student-t interval at ``confidence``. Censored points (:math:`P^*=\infty`, over the budget) are left out
    and counted: they are lower bounds on :math:`P^*`, and a reader must see them beside the slope.

    With ``budgets`` (one per point), also the slope with every censored :math:`P^*` set to its budget,
    ``slope_censored_at_budget``. The least-squares slope is :math:`\sum_i(x_i-\bar x)y_i/S_{xx}`, increasing
    in :math:`y_i` exactly when :math:`x_i>\bar x`; so when every censored point lies right of the mean of all
    points (``censored_right_of_mean``), the slope with the true :math:`P^*` is at least this one."""
    points = list(points)
    finite = [(m, L, p) for m, L, p in points if math.isfinite(p)]
    out = {"num_points": len(finite), "num_censored": len(points) - len(finite), "confidence": confidence}
    if budgets is not None and out["num_censored"]:
        budgets = list(budgets)
        xa = np.array([L * math.log(m) for m, L, _ in points])
        ya = np.array([math.log(p if math.isfinite(p) else b) for (_, _, p), b in zip(points, budgets)])
        if np.ptp(xa) > 0:
            out["slope_censored_at_budget"] = float(stats.linregress(xa, ya).slope)
            out["censored_right_of_mean"] = bool(all(x > xa.mean() for x, (_, _, p) in zip(xa, points)
                                                     if not math.isfinite(p)))
    x = np.array([L * math.log(m) for m, L, _ in finite])
    if len(finite) < 2 or np.ptp(x) == 0:
        return {**out, "slope": math.nan, "half_width": math.inf, "intercept": math.nan, "ci": [-math.inf, math.inf]}
    y = np.array([math.log(p) for _, _, p in finite])
    res = stats.linregress(x, y)
    dof = len(x) - 2
    half = float(stats.t.ppf(0.5 + confidence / 2, dof) * res.stderr) if dof > 0 else math.inf
    b = float(res.slope)
    return {**out, "slope": b, "half_width": half, "intercept": float(res.intercept), "ci": [b - half, b + half]}


def sample_complexity_grid(V: int, grid: Iterable[tuple[int, int]], learners: Iterable[str] = ("layerwise_ridge",),
                           budget: int | Mapping[str, int] = 1 << 17, trials: int = 1, seed: int = 0, device="cpu", target: float = 0.9,
                           refine: int = 3, num_test: int = 2000, s: int = 2, shuffled: bool = False,
                           hyper: Mapping[str, Mapping] | None = None, progress: bool = True) -> dict:
    r""":math:`P^*` of every learner at every :math:`(m,L)` of ``grid`` (:math:`V=n_c`, tuple size ``s``, the
    first grammar seed satisfying Assumption 6), each grid point's learners on the same training samples and
    test set; then :func:`fit_exponent` per learner. ``hyper[name]`` overrides that learner's defaults;
    ``budget`` is one largest :math:`P` for all learners or one per learner.

    Returns ``{"points": [...], "exponents": {learner: fit}}``; each point holds ``m``, ``L``, the grammar,
    :math:`m^L`, :math:`n_cm^L`, the number of distinct inputs, and per learner ``P_star`` (``inf`` if
    censored), ``budget`` and ``curve``."""
    learners = list(learners)
    for name in learners:
        _check_learner(name)
    grid = [(int(m), int(L)) for m, L in grid]
    hyper = {name: dict((hyper or {}).get(name, {})) for name in learners}
    if isinstance(budget, Mapping):
        missing = [n for n in learners if n not in budget]
        if missing:
            raise ValueError(f"budget must name every learner when it is a mapping; missing {missing}")
        budgets = {n: int(budget[n]) for n in learners}
    else:
        budgets = {n: budget for n in learners}
    points = []
    bar = tqdm(total=len(grid) * len(learners), desc="P* search", unit="learner", disable=not progress)
    for m, L in grid:
        g = grammar_with_signal(V, m, L, s)
        test = sample(g, num_test, torch.Generator().manual_seed(10_000 + seed), device)
        row = {"m": m, "L": L, "grammar": repr(g), "m_to_L": m**L, "n_c_m_to_L": g.num_classes * m**L,
               "distinct_inputs": distinct_inputs(g), "learners": {}}
        for name in learners:
            bar.set_postfix_str(f"m={m} L={L} {name}")
            P_star, curve, used = learner_p_star(name, g, test, budgets[name], target, trials, seed, device, refine,
                                                 shuffled, **hyper[name])
            row["learners"][name] = {"P_star": P_star, "budget": used, "curve": curve,
                                     "hyperparameters": {**DEFAULT_HYPERPARAMETERS[name], **hyper[name]}}
            bar.update()
        points.append(row)
    bar.close()
    exponents = {name: fit_exponent([(p["m"], p["L"], p["learners"][name]["P_star"]) for p in points],
                                    budgets=[p["learners"][name]["budget"] for p in points])
                 for name in learners}
    return {"points": points, "exponents": exponents, "V": V, "s": s, "target_accuracy": target,
            "trials": trials, "num_test": num_test}
