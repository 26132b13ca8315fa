r"""Lemma 28 (Paper A, App. B): an exponential-moment inequality.

If :math:`E W\le0`, :math:`W\le b` almost surely and :math:`\lambda\in[0,1/b]`, then

.. math:: E\,e^{\lambda W}\ \le\ \exp\big(\lambda^2E W^2\big).

(Proof idea: :math:`e^x\le1+x+x^2` for :math:`x\le1`.) By scaling take :math:`b=1`.

**Measured** (bound 1): :math:`\max\ \log E e^{\lambda W}/(\lambda^2EW^2)` over the laws and
:math:`\lambda\in(0,1/b]` of the case (the inequality holds iff it is :math:`\le1`).
**Exact** (two-point laws :math:`W\in\{-a,u\}`, :math:`u\le b`, :math:`\Pr[W=u]` up to the
value making :math:`EW=0`): a grid of :math:`(a,u,p,\lambda)` evaluated at 50 significant
digits (mpmath). For mean-zero laws bounded above, the two-point laws are the extremal ones
(Bennett); the symbolic case computes the supremum along the extremal family
:math:`W\in\{-a,b\}`, :math:`EW=0`, :math:`\lambda=1/b`, :math:`a\to0`: :math:`e-2\approx0.718`.
**Empirical**: random :math:`K`-point laws on :math:`[-10b,b]` shifted to mean :math:`\le0`.
**Negative controls**: :math:`\lambda=2.5/b` (beyond :math:`1/b`) and a law with :math:`EW>0`.
"""
from __future__ import annotations

import mpmath
import numpy as np
import sympy
import torch

from verify.harness.claims import Case, Claim, Measurement

STATEMENT = r"EW\le0,\ W\le b\ \text{a.s.},\ \lambda\in[0,1/b]\ \Longrightarrow\ Ee^{\lambda W}\le\exp(\lambda^2EW^2)"


def ratio(points, probs, lam) -> mpmath.mpf:
    r""":math:`\log Ee^{\lambda W}/(\lambda^2EW^2)` at 50 digits."""
    with mpmath.workdps(50):
        pts = [mpmath.mpf(x) for x in points]
        ps = [mpmath.mpf(x) for x in probs]
        lam = mpmath.mpf(lam)
        mgf = mpmath.fsum(p * mpmath.e ** (lam * x) for p, x in zip(ps, pts))
        m2 = mpmath.fsum(p * x * x for p, x in zip(ps, pts))
        return mpmath.log(mgf) / (lam**2 * m2)


def two_point_grid(p: dict):
    """Rows (a, u, prob_u, lambda) of the exact grid (b = 1)."""
    lam_scale = p.get("lambda_scale", 1.0)
    for a in p["a_values"]:
        for u in p["u_values"]:
            pmax = a / (a + u)  # E W = 0 at pmax
            for frac in (0.25, 0.5, 0.9, 1.0) if not p.get("positive_mean") else (1.0,):
                pu = pmax * frac if not p.get("positive_mean") else 1.0
                for lam in (0.1, 0.5, 1.0):
                    yield a, u, pu, lam * lam_scale


def exact(case: Case) -> Measurement:
    p = case.params
    if p.get("kind") == "symbolic":
        a, x = sympy.symbols("a x", positive=True)
        # W in {-a, 1} with P[W=1] = a/(1+a) (mean 0), lambda = 1
        mgf = (a / (1 + a)) * sympy.E + (1 / (1 + a)) * sympy.exp(-a)
        m2 = a / (1 + a) + a**2 / (1 + a)
        lim = sympy.limit(sympy.log(mgf) / m2, a, 0)
        return Measurement(value=sympy.nsimplify(lim), details={"limit": sympy.sstr(lim), "float": float(lim)})
    best, arg, n = mpmath.mpf("-inf"), None, 0
    for a, u, pu, lam in two_point_grid(p):
        pts, probs = ([-a, u], [1 - pu, pu]) if pu < 1 else ([u], [1])
        r = ratio(pts, probs, lam)
        n += 1
        if r > best:
            best, arg = r, dict(a=a, u=u, p_u=pu, lam=lam)
    return Measurement(value=float(best), details={"laws_times_lambdas": n, "argmax": arg})


def empirical(case: Case, device, generator) -> Measurement:
    p = case.params
    K, n_laws = p["points"], p["laws"]
    rng = np.random.default_rng(int(torch.randint(0, 2**62, (1,), generator=generator)))
    best, arg = -np.inf, None
    for _ in range(n_laws):
        pts = rng.uniform(-10, 1, K)
        probs = rng.dirichlet(np.ones(K) * 0.3)
        mean = probs @ pts
        if mean > 0:
            pts = pts - mean  # shift down: still <= 1, mean 0
        lam = rng.uniform(0, 1) * p.get("lambda_scale", 1.0)
        if lam == 0:
            continue
        with np.errstate(over="ignore"):
            r = np.log(probs @ np.exp(lam * pts)) / (lam**2 * (probs @ pts**2))
        if r > best:
            best, arg = float(r), dict(points=pts.tolist(), probs=probs.tolist(), lam=lam)
    return Measurement(value=best, details={"laws": n_laws, "argmax": arg})


def bound(case: Case):
    return 1


_GRID = dict(a_values=(1e-3, 0.01, 0.1, 0.5, 1, 2, 5, 10), u_values=(0.1, 0.5, 0.9, 1.0))

CLAIM = Claim(
    name="appendix_b_exponential_moment",
    paper="A",
    reference="Lemma 28 (App. B)",
    page="p. 37",
    statements=("Lemma 28",),
    hypotheses=(
        r"EW\le0",
        r"W\le b\text{ a.s.}",
        r"\lambda\in[0,1/b]",
    ),
    alias="Lemma B.10 (inferred)",
    statement=STATEMENT,
    measured=r"\max\ \log Ee^{\lambda W}/(\lambda^2 EW^2)\ \text{over the case's laws and }\lambda\in(0,1/b]",
    relation="<=",
    bound=bound,
    exact=exact,
    empirical=empirical,
    cases=(
        Case("two_point_grid", dict(_GRID)),
        Case("extremal_limit_symbolic", dict(kind="symbolic"),
             note="W in {-a, b}, E W = 0, lambda = 1/b, a -> 0: the supremum e - 2"),
        Case("random_5_point_laws", dict(points=5, laws=20_000), method="empirical", seed=281),
        Case("lambda_beyond_1_over_b", dict(_GRID, lambda_scale=2.5), role="negative_control",
             note="lambda up to 2.5/b: e^x <= 1 + x + x^2 fails for x > 1.79"),
        Case("positive_mean", dict(_GRID, positive_mean=True), role="negative_control",
             note="W = u constant (E W > 0): log E e^{lambda W} = lambda u > lambda^2 u^2"),
        Case("random_laws_many", dict(points=8, laws=10_000_000), scale="large", method="empirical", seed=282,
             cpu_params={"laws": 10_000_000},
             note="1e7 random laws (8 atoms <= 1, mean <= 0) and lambda in [0, 1]: the largest ratio "
                  "log E e^(lambda W) / (lambda^2 E W^2) seen"),
    ),
)
