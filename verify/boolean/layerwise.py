r"""Layerwise least squares on deep quadratic Boolean functions (Paper A, Appendix C, p. 42): the
population solution behind conditions (i)-(iii) of Informal Principle 2, and the learner from samples.

Layer :math:`l` is :math:`x^{(l)}\mapsto\langle w^{(l)},\Phi(x^{(l)})\rangle`, trained with the loss

.. math:: \mathcal L^{(l)}(w^{(l)})=\hat{\mathbb E}\Big(f_*(x)-\sum_{l'<l}f^{(l')}(x)
          -\langle w^{(l)},\Phi(x^{(l)})\rangle\Big)^2

(no regularizer; the print's inner sum reuses :math:`l` and runs to :math:`L-1`: it means the levels
already learned, :math:`l'<l`). The paper's claim: with the correct :math:`x^{(l)}=(\chi_S(x))_{S\in
\mathcal S_{2^{l-1}}}`, whose coordinates are independent Rademacher variables by Definition 31 (b),
"the unique population minimizer is :math:`w^{(l)}=\sum_{S=S_1\cup S_2\in\mathcal S_{2^l}}\hat f_Se_{S_1S_2}`"
(:func:`population_least_squares`, exact by enumeration), and polynomially many samples recover it
when the nonzero :math:`\hat f_S` are bounded away from 0.

**The package's choices** (the paper leaves them open): the support-selection rule turning
:math:`w^{(l)}` into :math:`y^{(l)}` keeps the pair features with :math:`|w_{ab}|\ge\tau`
(:func:`select_support`; :math:`\tau=\min_S|\hat f_S|/2` by default, :func:`half_min_coefficient`);
a selected pair :math:`(a,b)` becomes the monomial :math:`S_a\triangle S_b` (its product
:math:`\chi_{S_a}\chi_{S_b}`, :math:`=S_a\cup S_b` when disjoint); the learner fits with the exact
least-squares solution (minimum norm when underdetermined); levels stop when nothing is selected,
fewer than two monomials remain, or after :math:`\lfloor\log_2d\rfloor` levels.
"""
from __future__ import annotations

import contextlib
import dataclasses
import math
from fractions import Fraction
from typing import Sequence

import numpy as np
import sympy
import torch

from verify.validate import int_at_least, real_in

from .deep_quadratic import DeepQuadratic, Rationals, all_inputs, check_inputs, common_denominator, evaluate
from .network import pair_features, represent

SUPPORT_SELECTION = "keep the pair features with |w| >= threshold; threshold = min_S |f_S| / 2 by default"


# -- population (exact, by enumeration of {±1}^d) -----------------------------------------------------
def residual(target, level_outputs: Sequence, level: int):
    r""":math:`f_*-\sum_{l'<l}f^{(l')}` on the batch of ``level_outputs`` (from
    :meth:`QuadraticNetwork.forward`), for ``level`` :math:`l\ge1`."""
    level = int_at_least("level", level, 1)
    if level > len(level_outputs) + 1:
        raise ValueError(f"level must be an integer in [1, {len(level_outputs) + 1}]; got {level}")
    r = target
    for out in level_outputs[:level - 1]:
        r = r - out.f
    return r


def _numerators(values: Rationals, den: int) -> np.ndarray:
    """Exact values as integer numerators over ``den``."""
    if not isinstance(values, Rationals):
        raise ValueError("exact values (Rationals) expected")
    return values.at(den)


def _exact_matmul_T(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    r""":math:`A^\top B` of integer arrays, exactly: BLAS in float32 (float64) when every partial sum
    stays below :math:`2^{24}` (:math:`2^{53}`), where those floats hold integers exactly; else Python
    integers."""
    A64, B64 = np.asarray(A).astype(np.int64), np.asarray(B).astype(np.int64)
    worst = A.shape[0] * float(np.abs(A64).max(initial=0)) * float(np.abs(B64).max(initial=0))
    for dtype, limit in ((np.float32, 2.0 ** 24), (np.float64, 2.0 ** 53)):
        if worst < limit:
            At = np.ascontiguousarray(A64.T, dtype=dtype)
            return np.rint(At @ B64.astype(dtype)).astype(np.int64)
    return A64.astype(object).T @ B64.astype(object)


@dataclasses.dataclass(frozen=True)
class PopulationSolution:
    r"""Level :math:`l` in population (exact): the Gram matrix :math:`G=\mathbb E[\Phi\Phi^\top]` and
    :math:`b=\mathbb E[\Phi\,r_l]` of the pair features :math:`\Phi=\Phi(x^{(l)})` of the correct
    :math:`x^{(l)}` and the residual :math:`r_l=f_*-\sum_{l'<l}f^{(l')}`; the paper's
    :math:`w^\star=\sum_S\hat f_Se_{S_1S_2}`; a population minimizer (:math:`G^+b`, the unique one
    when :math:`G` is invertible); and the joint law of the coordinates of :math:`x^{(l)}` against the
    product of Rademacher laws. Matrices are object arrays of ``Fraction``."""
    level: int
    inputs: tuple
    gram: np.ndarray
    cross: np.ndarray
    w_star: np.ndarray
    minimizer: np.ndarray
    unique: bool
    gram_deviation: Fraction          # max |G - I|
    minimizer_deviation: Fraction     # max |w_min - w*|
    joint_law_deviation: Fraction     # max over patterns |P[x^(l) = s] - 2^-D|


def _fraction_matrix(nums: np.ndarray, den: int) -> np.ndarray:
    return np.array([[Fraction(int(v), den) for v in row] for row in np.atleast_2d(nums)], dtype=object)


def joint_law_deviation(columns: np.ndarray) -> Fraction:
    r""":math:`\max_s|\Pr[x=s]-2^{-D}|` for the rows of the ±1 array ``columns`` ``(N, D)`` taken as
    equally likely (the enumeration of :math:`\{\pm1\}^d`): 0 exactly when the :math:`D` coordinates
    are independent Rademacher variables."""
    a = np.asarray(columns, dtype=np.int64)
    N, D = a.shape
    if D > 24:
        raise ValueError(f"columns must have at most 24 coordinates to tabulate their joint law; got {D}")
    if D == 0:
        return Fraction(0)
    code = ((1 - a) // 2) @ (1 << np.arange(D, dtype=np.int64))
    counts = np.bincount(code, minlength=2 ** D)
    return Fraction(int(np.abs(counts * 2 ** D - N).max()), N * 2 ** D)


def population_least_squares(f: DeepQuadratic, level: int, strict: bool = True) -> PopulationSolution:
    r"""The population least-squares problem of level ``level`` for the target ``f`` (exact rationals),
    with the correct :math:`x^{(l)}` and :math:`f^{(l')}` of eq. (14) below it (``strict=False``: the
    construction for an ``f`` outside Definition 31, for negative controls). Enumerates
    :math:`\{\pm1\}^d` (:math:`d\le20`)."""
    if not isinstance(f, DeepQuadratic):
        raise ValueError(f"f must be a DeepQuadratic; got {type(f).__name__}")
    if not f.is_exact:
        raise ValueError("f must have rational coefficients (Fraction or int) for the exact population solution")
    net = represent(f, strict=strict)
    level = int_at_least("level", level, 1)
    if level > len(net.levels):
        raise ValueError(f"level must be an integer in [1, {len(net.levels)}] for this f; got {level}")
    X = all_inputs(f.d)
    N = X.shape[0]
    outs = net.forward(X)
    lev = net.levels[level - 1]
    den = common_denominator(f.coefficients.values())
    r = _numerators(residual(evaluate(f, X), outs, level), den)
    phi = pair_features(outs[level - 1].x)
    p = phi.shape[1]
    G_num = _exact_matmul_T(phi, phi)                         # N * G
    b_num = _exact_matmul_T(phi, r[:, None])[:, 0]            # N * den * b
    gram = _fraction_matrix(G_num, N)
    cross = np.array([Fraction(int(v), N * den) for v in b_num], dtype=object)
    w_star = np.array([Fraction(0)] * p, dtype=object)
    for pos, c in zip(lev.feature_positions(), lev.coefficients):
        w_star[pos] = Fraction(c)
    eye = np.eye(p, dtype=np.int64) * N
    gram_dev = Fraction(int(np.abs(G_num - eye).max(initial=0)), N)
    if not gram_dev:
        minimizer, unique = cross, True
    else:
        Gs = sympy.Matrix(p, p, lambda i, j: sympy.Rational(int(G_num[i, j]), N))
        bs = sympy.Matrix(p, 1, lambda i, j: sympy.Rational(int(b_num[i]), N * den))
        unique = Gs.rank() == p
        sol = Gs.pinv() * bs
        minimizer = np.array([Fraction(int(sympy.fraction(v)[0]), int(sympy.fraction(v)[1])) for v in sol],
                             dtype=object)
    dev = max((abs(a - b) for a, b in zip(minimizer, w_star)), default=Fraction(0))
    return PopulationSolution(level, lev.inputs, gram, cross, w_star, minimizer, unique, gram_dev, Fraction(dev),
                              joint_law_deviation(outs[level - 1].x))


def principle_conditions(f: DeepQuadratic, strict: bool = True) -> dict:
    r"""Conditions (i) and (iii) of Informal Principle 2 as Appendix C argues them, exactly over
    :math:`\{\pm1\}^d`, for the features :math:`y^{(l)}_S` of eq. (14) at every level:

    (i) the target is correlated with each lower-level part: :math:`\mathbb E[f_*\,y^{(l)}_S]=\hat f_S`
    (nonzero on the support) -- ``correlation_deviation`` :math:`=\max_S|\mathbb E[f_*y_S]-\hat f_S|`;
    (iii) the features are orthonormal, hence identifiable: :math:`\mathbb E[y_Sy_T]=\delta_{ST}` --
    ``orthonormality_deviation`` :math:`=\max_{S,T}|\mathbb E[y_Sy_T]-\delta_{ST}|`.
    Also ``min_correlation`` :math:`=\min_S|\mathbb E[f_*y_S]|`."""
    if not isinstance(f, DeepQuadratic):
        raise ValueError(f"f must be a DeepQuadratic; got {type(f).__name__}")
    if not f.is_exact:
        raise ValueError("f must have rational coefficients (Fraction or int)")
    net = represent(f, strict=strict)
    X = all_inputs(f.d)
    N = X.shape[0]
    outs = net.forward(X)
    den = common_denominator(f.coefficients.values())
    target = _numerators(evaluate(f, X), den)
    if not outs or not any(o.y.shape[1] for o in outs):
        return {"correlation_deviation": Fraction(0), "orthonormality_deviation": Fraction(0),
                "min_correlation": None, "features": 0}
    Y = np.concatenate([o.y for o in outs], axis=1)
    coefs = [Fraction(c) for lev in net.levels for c in lev.coefficients]
    corr = _exact_matmul_T(Y, target[:, None])[:, 0]          # N * den * E[f y_S]
    corr_dev = max(abs(Fraction(int(v), N * den) - c) for v, c in zip(corr, coefs))
    gram = _exact_matmul_T(Y, Y)
    orth_dev = Fraction(int(np.abs(gram - N * np.eye(Y.shape[1], dtype=np.int64)).max()), N)
    return {"correlation_deviation": corr_dev, "orthonormality_deviation": orth_dev,
            "min_correlation": min(abs(Fraction(int(v), N * den)) for v in corr), "features": Y.shape[1]}


# -- the learner from samples -------------------------------------------------------------------------
def half_min_coefficient(f: DeepQuadratic) -> float:
    r"""The package's default threshold :math:`\tau=\min_S|\hat f_S|/2`."""
    if not isinstance(f, DeepQuadratic) or not f.coefficients:
        raise ValueError("f must be a DeepQuadratic with a nonempty support")
    return float(f.min_coefficient) / 2


def select_support(w: np.ndarray, threshold: float) -> np.ndarray:
    r"""The support-selection rule (the package's; the paper leaves it open): the indices of the pair
    features with :math:`|w_{ab}|\ge\tau`."""
    threshold = real_in("threshold", threshold, 0, lo_open=True)
    return np.flatnonzero(np.abs(np.asarray(w, dtype=np.float64)) >= threshold)


def least_squares(phi: torch.Tensor, r: torch.Tensor) -> torch.Tensor:
    r"""A minimizer of :math:`\|r-\Phi w\|^2` (no regularizer), float64 on ``phi``'s device: for
    :math:`n>p` the normal equations by Cholesky (well conditioned for ±1 features once :math:`n` is
    a few times :math:`p`); otherwise, or if Cholesky fails, the minimum-norm solution (SVD, on the
    CPU)."""
    n, p = phi.shape
    if p == 0:
        return torch.zeros(0, dtype=torch.float64, device=phi.device)
    if n > p:
        L, info = torch.linalg.cholesky_ex(phi.T @ phi)
        if int(info) == 0:
            return torch.cholesky_solve((phi.T @ r)[:, None], L)[:, 0]
    w = torch.linalg.lstsq(phi.cpu(), r.cpu()[:, None], driver="gelsd").solution[:, 0]
    return w.to(phi.device)


@dataclasses.dataclass(frozen=True)
class LevelFit:
    r"""One learned level: the monomials of :math:`x^{(l)}` (``inputs``), the least-squares
    :math:`w^{(l)}` over :math:`\Phi(x^{(l)})`, the selected pairs and the monomials they carry."""
    level: int
    inputs: tuple
    weights: np.ndarray
    pairs: tuple
    outputs: tuple


@dataclasses.dataclass(frozen=True)
class LayerwiseFit:
    """The learned levels and the recovered support (the union of the selected monomials)."""
    levels: tuple
    threshold: float

    @property
    def support(self) -> frozenset:
        return frozenset(S for lev in self.levels for S in lev.outputs)

    def support_by_level(self) -> list:
        return [sorted(sorted(S) for S in lev.outputs) for lev in self.levels]


@contextlib.contextmanager
def single_thread(device):
    r"""One torch intra-op thread for the duration (restored after) when ``device`` is the CPU: the
    learner's matrices are small (:math:`p\lesssim10^3`), where threads gain nothing and, on a shared
    machine, oversubscription slows them by an order of magnitude (measured: 93 s against 3.7 s for
    the small case of ``appendix_c_layerwise_learning`` under a load of 10 on 2 cores)."""
    if torch.device(device if device is not None else "cpu").type != "cpu":
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def learn_layerwise(x, y, threshold: float, max_levels: int | None = None, device=None) -> LayerwiseFit:
    r"""Layerwise least squares from samples ``(x, y)`` (``x`` ±1 ``(n, d)``, ``y`` ``(n,)``; numpy or
    torch): at level :math:`l`, minimize :math:`\mathcal L^{(l)}` over :math:`\Phi(x^{(l)})` on the
    residual :math:`y-\sum_{l'<l}f^{(l')}`, keep the pairs with :math:`|w|\ge` ``threshold``
    (:func:`select_support`), set :math:`f^{(l)}=\sum_{\rm kept}w_{ab}\,x^{(l)}_ax^{(l)}_b` and
    :math:`x^{(l+1)}=` the kept features. ``max_levels`` defaults to :math:`\lfloor\log_2d\rfloor`;
    the algebra runs in float64 on ``device`` (default: the CPU, or ``x``'s device)."""
    if device is None:
        device = x.device if isinstance(x, torch.Tensor) else torch.device("cpu")
    a = np.asarray(x.cpu().numpy() if isinstance(x, torch.Tensor) else x)
    if a.ndim != 2:
        raise ValueError(f"x must have shape (n, d); got {a.shape}")
    n, d = a.shape
    a = check_inputs(a, d)
    yy = np.asarray(y.cpu().numpy() if isinstance(y, torch.Tensor) else y, dtype=np.float64).reshape(-1)
    if yy.shape[0] != n or not np.isfinite(yy).all():
        raise ValueError(f"y must hold n = {n} finite numbers; got shape {np.shape(y)}")
    threshold = real_in("threshold", threshold, 0, lo_open=True)
    if max_levels is None:
        max_levels = max(1, int(math.log2(d)))
    max_levels = int_at_least("max_levels", max_levels, 1)
    with single_thread(device):
        return _learn(a, yy, threshold, max_levels, device)


def _learn(a: np.ndarray, yy: np.ndarray, threshold: float, max_levels: int, device) -> LayerwiseFit:
    d = a.shape[1]
    xl = torch.as_tensor(a, dtype=torch.float64, device=device)
    r = torch.as_tensor(yy, dtype=torch.float64, device=device)
    inputs = tuple(frozenset({i}) for i in range(1, d + 1))
    levels = []
    for level in range(1, max_levels + 1):
        D = xl.shape[1]
        if D < 2:
            break
        iu, ju = torch.triu_indices(D, D, offset=1, device=device)
        phi = xl[:, iu] * xl[:, ju]          # Phi_D(x^(l)), the order of pair_features
        w = least_squares(phi, r)
        w_np = w.cpu().numpy()
        keep = select_support(w_np, threshold)
        pairs = tuple((int(iu[k]), int(ju[k])) for k in keep)
        outputs = tuple(inputs[i] ^ inputs[j] for i, j in pairs)
        levels.append(LevelFit(level, inputs, w_np, pairs, outputs))
        if not len(keep):
            break
        kt = torch.as_tensor(keep, device=device)
        r = r - phi[:, kt] @ w[kt]
        xl, inputs = phi[:, kt], outputs
    return LayerwiseFit(tuple(levels), threshold)


def sample_inputs(n: int, d: int, rng: np.random.Generator) -> np.ndarray:
    r""":math:`n` i.i.d. points of :math:`\mathrm{Unif}(\{\pm1\}^d)` (``int8``)."""
    n = int_at_least("n", n, 1)
    d = int_at_least("d", d, 1)
    if not isinstance(rng, np.random.Generator):
        raise ValueError(f"rng must be a numpy.random.Generator (seeded explicitly); got {type(rng).__name__}")
    return (1 - 2 * rng.integers(0, 2, size=(n, d), dtype=np.int8)).astype(np.int8)


def _check_targets(targets) -> list:
    targets = list(targets) if not isinstance(targets, DeepQuadratic) else [targets]
    if not targets or not all(isinstance(f, DeepQuadratic) and f.coefficients for f in targets):
        raise ValueError("targets must be a nonempty sequence of DeepQuadratic with nonempty support")
    return targets


def recovers_support(f: DeepQuadratic, n: int, rng: np.random.Generator, threshold: float | None = None,
                     device=None) -> bool:
    r"""Draw :math:`n` samples :math:`(x,f(x))`, learn layerwise, and say whether the recovered support
    is exactly :math:`\mathrm{supp}\hat f` (threshold: :func:`half_min_coefficient` by default)."""
    x = sample_inputs(n, f.d, rng)
    tau = half_min_coefficient(f) if threshold is None else threshold
    fit = learn_layerwise(x, evaluate(f, x, exact=False), tau, device=device)
    return fit.support == frozenset(f.support)


def recovery_failures(targets, n: int, seed: int, threshold: float | None = None,
                      stop_after: int | None = None, device=None) -> tuple[int, int]:
    r"""Failures to recover the support over the repetitions ``r = 0..R-1`` (target ``targets[r]``,
    samples from ``numpy.random.default_rng([seed, r, n])``): ``(failures, repetitions run)``; stops
    early once failures exceed ``stop_after``."""
    targets = _check_targets(targets)
    n = int_at_least("n", n, 1)
    seed = int_at_least("seed", seed, 0)
    failures = 0
    with single_thread(device):
        for r, f in enumerate(targets):
            if not recovers_support(f, n, np.random.default_rng([seed, r, n]), threshold, device):
                failures += 1
                if stop_after is not None and failures > stop_after:
                    return failures, r + 1
    return failures, len(targets)


@dataclasses.dataclass(frozen=True)
class SampleComplexity:
    r""":math:`n^*`: the smallest :math:`n` found (doubling, then bisection to relative resolution
    ``rel_tol``) at which the support is recovered in at least :math:`(1-\delta)R` of the :math:`R`
    repetitions; ``n_below`` the largest :math:`n` seen to fall short (0 if none); ``None`` when
    ``n_max`` is reached first. ``trace``: every :math:`(n,\text{failures},\text{repetitions run},
    \text{passed})` evaluated."""
    n_star: int | None
    n_below: int
    delta: float
    repetitions: int
    trace: tuple


def sample_complexity(targets, delta: float, seed: int, threshold: float | None = None, n_start: int | None = None,
                      n_max: int = 1 << 20, rel_tol: float = 1 / 32, device=None) -> SampleComplexity:
    r"""Measure :math:`n^*` for the repetitions ``targets`` (one target per repetition; repeat one
    ``f`` for a fixed target): double :math:`n` from ``n_start`` (default :math:`d`) until at most
    :math:`\lfloor\delta R\rfloor` repetitions fail, then bisect between the last failing and the first
    passing :math:`n` until they are within ``rel_tol`` (relative) or adjacent. Assumes recovery is
    monotone in :math:`n` (it is only in law; each :math:`n` uses fresh seeded samples)."""
    targets = _check_targets(targets)
    delta = real_in("delta", delta, 0, 1, lo_open=True, hi_open=True)
    seed = int_at_least("seed", seed, 0)
    n_max = int_at_least("n_max", n_max, 1)
    rel_tol = real_in("rel_tol", rel_tol, 0, 1, hi_open=True)
    n = targets[0].d if n_start is None else int_at_least("n_start", n_start, 1)
    allowed = int(math.floor(delta * len(targets) + 1e-12))
    trace = []

    def passes(m: int) -> bool:
        k, ran = recovery_failures(targets, m, seed, threshold, stop_after=allowed, device=device)
        ok = k <= allowed
        trace.append((m, k, ran, ok))
        return ok

    lo = 0
    while not passes(n):
        lo = n
        if n >= n_max:
            return SampleComplexity(None, lo, delta, len(targets), tuple(trace))
        n = min(2 * n, n_max)
    hi = n
    while hi - lo > max(1, rel_tol * hi):
        mid = (lo + hi) // 2
        if passes(mid):
            hi = mid
        else:
            lo = mid
    return SampleComplexity(hi, lo, delta, len(targets), tuple(trace))
