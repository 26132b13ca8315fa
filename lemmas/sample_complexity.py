r"""Theorem 7 (Paper A; arXiv alias Theorem 4.2/4.3, unverified): the layerwise learner learns the RHM
from :math:`\mathrm{poly}(\kappa,m,V,s,L,\log\frac1{\delta_P})K_\rho^{-2}m^L` samples.

**Measured.** For a grid of :math:`(m,L)` at fixed :math:`V=n_c` and :math:`s=2` (Appendix B sampler; the
first grammar seed with :math:`K_\rho>0`), the number of training samples :math:`P^*` at which the test
accuracy of the learner (:func:`verify.learners.layerwise_ridge.practical_parameters`: samples split
:math:`N^{(l)}\propto m^l` as in the proof, fresh per stage) first reaches 90%: doubling from
:math:`P_0=n_cm`, then geometric bisection to a factor :math:`2^{1/8}`; the accuracy at each :math:`P`
is the mean over ``trials`` training seeds on a fixed test set. Then the least-squares fit
:math:`\log P^*=a+b\,L\log m`; the claim's value is the exponent :math:`b`, with its 95% confidence
interval (Student t).

**Bound.** Theorem 7's sample size, with the explicit :math:`m^2` of its proof
(:math:`N^{(l)}\propto\kappa V^2m^2sL\log^2(\cdot)K_\rho^{-2}m^l`), is :math:`\lesssim m^{L+2}` at fixed
:math:`V`, i.e. an exponent :math:`\le\max(L+2)/L` over the grid in the coordinates :math:`L\log m`
(the :math:`\mathrm{poly}(L)`, :math:`\kappa` and :math:`K_\rho` factors vary too and are not separated by a
grid this small). A shallow learner needs :math:`m^{s^L}`-type sizes, an exponent :math:`s^L/L\ge2`.

**Negative control:** the labels of every training stage shuffled (independent of the inputs): the
test accuracy must not reach 90% within the budget, so no :math:`P^*` exists (value :math:`\infty`).
"""
from __future__ import annotations

import math

import numpy as np
import torch
from scipy import stats

from verify import rhm
from verify.claims import Case, Claim, Measurement
from verify.learners.layerwise_ridge import LayerwiseRidge, practical_parameters
from verify.rhm import assumptions

STATEMENT = (r"P^*\le\mathrm{poly}(\kappa,m,V,s,L,\log\tfrac1{\delta_P})\,K_\rho^{-2}\,m^L"
             r"\quad\Rightarrow\quad\log P^*\approx a+b\,L\log m,\ b\le\max_{\text{grid}}\tfrac{L+2}{L}")


def grammar_for(V: int, m: int, L: int, s: int = 2, sampler: str = "appendix_b", max_seed: int = 50) -> rhm.Grammar:
    """The first grammar seed with :math:`K_\\rho>0` and finite :math:`\\kappa` (Assumption 6)."""
    for seed in range(max_seed):
        g = rhm.sample_grammar(V, V, m, s, L, seed=seed, sampler=sampler)
        k = float(assumptions.kappa(g, "float64")[0])
        if math.isfinite(k) and float(assumptions.instance_k_rho(assumptions.signal_gaps(g, "float64"), m)) > 0:
            return g
    raise ValueError(f"no grammar with K_rho > 0 among seeds 0..{max_seed - 1} for V={V}, m={m}, L={L}")


def shuffle_labels(x, y, generator):
    return x, y[torch.randperm(len(y), generator=generator)]


def accuracy_at(g, total: int, test, trials: int, seed: int, num_features: int, sigma_scale: float,
                shuffled: bool = False) -> float:
    accs = []
    for t in range(trials):
        model = LayerwiseRidge.for_grammar(g, practical_parameters(g, total, num_features=num_features,
                                                                   sigma_scale=sigma_scale))
        model.fit(g, seed=seed * 1000 + t, progress=False, transform=shuffle_labels if shuffled else None)
        accs.append(model.accuracy(*test))
    return float(np.mean(accs))


def find_p_star(g, target: float = 0.9, budget: int = 1 << 17, trials: int = 2, seed: int = 0, num_test: int = 2000,
                num_features: int = 256, sigma_scale: float = 0.5, refine: int = 3, shuffled: bool = False):
    r"""Smallest :math:`P` (total training samples) with mean test accuracy :math:`\ge` ``target``: doubling
    from :math:`n_cm`, then ``refine`` geometric bisection steps. Returns ``(P*, curve)``, ``P* = inf``
    if the budget is reached first; ``curve`` lists ``(P, accuracy)``."""
    test = rhm.sample(g, num_test, torch.Generator().manual_seed(10_000 + seed))
    curve = {}

    def acc(P):
        if P not in curve:
            curve[P] = accuracy_at(g, P, test, trials, seed, num_features, sigma_scale, shuffled)
        return curve[P]

    P = max(g.num_classes * g.num_synonyms, g.num_layers)
    while acc(P) < target:
        if P >= budget:
            return math.inf, sorted(curve.items())
        P = min(2 * P, budget)
    lo, hi = P // 2, P
    if lo >= max(g.num_classes * g.num_synonyms, g.num_layers):
        for _ in range(refine):
            mid = int(round(math.sqrt(lo * hi)))
            if mid in (lo, hi):
                break
            if acc(mid) >= target:
                hi = mid
            else:
                lo = mid
    return hi, sorted(curve.items())


def fit_exponent(points):
    r"""OLS of :math:`\log P^*` on :math:`L\log m`: slope, its 95% t-interval half-width, intercept."""
    x = np.array([L * math.log(m) for m, L, _ in points])
    y = np.array([math.log(p) for _, _, p in points])
    res = stats.linregress(x, y)
    dof = len(x) - 2
    half = float(stats.t.ppf(0.975, dof) * res.stderr) if dof > 0 else math.inf
    return float(res.slope), half, float(res.intercept)


def empirical(case: Case, device, generator) -> Measurement:
    p = case.params
    points, rows = [], []
    for m in p["m"]:
        for L in p["L"]:
            g = grammar_for(p["V"], m, L)
            P_star, curve = find_p_star(g, budget=p["budget"], trials=p["trials"], seed=case.seed,
                                        num_features=p["M"], sigma_scale=p["sigma_scale"],
                                        shuffled=p.get("shuffled", False))
            rows.append({"m": m, "L": L, "grammar": repr(g), "P_star": P_star, "curve": curve,
                         "m_to_L": m**L, "P_star_over_m_to_L": P_star / m**L})
            if not math.isfinite(P_star):
                return Measurement(value=math.inf, details={"points": rows, "reason": f"no P* <= {p['budget']} "
                                                                                     f"at m={m}, L={L}"})
            points.append((m, L, P_star))
    slope, half, intercept = fit_exponent(points)
    return Measurement(value=slope, uncertainty=half, confidence=0.95,
                       details={"points": rows, "exponent": slope, "ci95": [slope - half, slope + half],
                                "intercept": intercept, "V": p["V"], "target_accuracy": 0.9})


def bound(case: Case):
    return max((L + 2) / L for L in case.params["L"])


_SMALL = dict(V=4, m=[2, 3], L=[2, 3], budget=1 << 15, trials=2, M=256, sigma_scale=0.5)

CLAIM = Claim(
    name="sample_complexity",
    paper="A",
    reference="Theorem 7",
    alias="Theorem 4.2 (inferred)",
    statement=STATEMENT,
    measured=r"b\ \text{in}\ \log P^*_{90\%}=a+b\,L\log m\ \text{(least squares, 95\% CI)}",
    relation="<=",
    bound=bound,
    empirical=empirical,
    cases=(
        Case("V4_m2-3_L2-3", _SMALL, method="empirical", seed=1),
        Case("V4_shuffled_labels", dict(_SMALL, m=[2], L=[2], shuffled=True, budget=1 << 13, trials=1),
             method="empirical", seed=2, role="negative_control",
             note="labels independent of the inputs: accuracy stays near 1/n_c"),
        Case("V8_m2-4_L2-4", dict(V=8, m=[2, 3, 4], L=[2, 3, 4], budget=1 << 21, trials=3, M=1024, sigma_scale=0.5),
             scale="large", method="empirical", seed=3,
             cpu_params=dict(m=[2, 3, 4], L=[2, 3], budget=1 << 17, trials=1, M=256),
             note="on a CPU, L <= 3: at M = 256, (m, L) = (3, 4) saturates near 86% test accuracy up to P = 2^19 "
                  "(width-limited); the GPU size uses M = 1024"),
    ),
)
