r"""β-Xavier random neurons (Paper B, Def. 4.1 as the digest reconstructs it) and their kernels.

**Which form.** Def. 4.1 was not seen (``papers/ptf.md`` §2). The digest's [RECONSTRUCTION]:
a neuron on :math:`z\in\mathbb R^N` is :math:`\sigma(\langle w,z\rangle+b)` with
:math:`w_i\sim\mathcal N(0,(1-\beta)/N)` and :math:`b\sim\mathcal N(0,\beta)`, so that for
:math:`\|z\|^2=N` the pre-activation is :math:`\mathcal N(0,1)` and two inputs with normalised
correlation :math:`\rho=\langle z,z'\rangle/N` give pre-activation correlation
:math:`(1-\beta)\rho+\beta`. The weight and bias variances are separate parameters
(``weight_var`` overrides :math:`1-\beta`). The activation is configurable (ReLU by default).

**Kernel** (background, Daniely--Frostig--Singer 2016): with the dual activation
:math:`\hat\sigma(t)=\mathbb E[\sigma(u)\sigma(v)]` (u, v standard Gaussians of correlation t),

.. math:: k_\beta(z,z')=\mathbb E_{w,b}[\sigma(\langle w,z\rangle+b)\sigma(\langle w,z'\rangle+b)]
          =\hat\sigma\big((1-\beta)\rho+\beta\big)=\sum_j c_j(\beta)\rho^j,
          \qquad c_j(\beta)=\frac{(1-\beta)^j\,\hat\sigma^{(j)}(\beta)}{j!}
          =\sum_{n\ge j}a_n^2\binom nj(1-\beta)^j\beta^{n-j},

where :math:`a_n=\mathbb E[\sigma(g)h_n(g)]` are the orthonormal-Hermite coefficients and
:math:`\hat\sigma(t)=\sum_na_n^2t^n`. ReLU: :math:`\hat\sigma(t)=(\sqrt{1-t^2}+(\pi-\arccos t)t)/(2\pi)`;
:math:`|\cdot|`: :math:`\hat\sigma(t)=\tfrac2\pi(\sqrt{1-t^2}+t\arcsin t)`.

**On the cube** :math:`\{\pm1\}^d` (B3): :math:`k(x,y)=\sum_S\lambda_{|S|}\chi_S(x)\chi_S(y)` with
:math:`\lambda_k=2^{-d}\sum_{t=0}^d\kappa(1-2t/d)P_k(t)` (Krawtchouk :math:`P_k`), and the RKHS norm
of :math:`p=\sum_S\hat p(S)\chi_S` is :math:`\|p\|_{\mathcal H}^2=\sum_S\hat p(S)^2/\lambda_{|S|}`
(infinite when some :math:`\hat p(S)\ne0` has :math:`\lambda_{|S|}=0`).
"""
from __future__ import annotations

import functools
import numbers
from fractions import Fraction
from math import comb
from typing import Mapping

import numpy as np
import sympy
import torch

from ..validate import (boolean, check_memory, device as _check_device, float_dtype,
                        generator as _check_generator, int_at_least, int_in, number, real_array, real_in,
                        tensor as _tensor)

__all__ = ["ACTIVATIONS", "activation_fn", "beta_xavier", "cube_eigenvalues", "dual_activation",
           "dual_activation_sympy", "hermite_coefficient", "hermite_coefficient_by_integration",
           "hermite_coefficients", "hermite_coefficients_float", "kernel", "kernel_coefficients", "kernel_gram",
           "krawtchouk", "mc_kernel", "random_features", "rkhs_norm_sq"]

ACTIVATIONS = ("relu", "abs", "tanh", "erf")
_CLOSED_FORM = ("relu", "abs", "erf")
MAX_HERMITE_DEGREE = 1000
"""The largest Hermite degree computed exactly (sympy factorials of the degree)."""
MAX_KERNEL_ORDER = 60
"""The largest Taylor order of :func:`kernel_coefficients` (its float path sums 61 Hermite coefficients)."""
MAX_CUBE_DIMENSION = 64
"""The largest ``d`` of :func:`cube_eigenvalues` and :func:`krawtchouk`."""


def _check_activation(activation: str) -> str:
    if not isinstance(activation, str) or activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {ACTIVATIONS}; got {activation!r}")
    return activation


def _check_beta(beta) -> float:
    if isinstance(beta, sympy.Basic) and beta.is_number and beta.is_real:
        beta = float(beta)
    return real_in("beta (bias variance)", beta, 0.0, 1.0, hi_open=True)


def _exact_beta(beta, allow_symbol: bool):
    """``beta`` as a sympy number in [0, 1) (or a sympy symbol where ``allow_symbol``). Strings are refused:
    ``sympy.nsimplify`` would evaluate them."""
    b = number("beta (bias variance)", beta, allow_symbol=allow_symbol)
    if isinstance(b, numbers.Integral):
        b = sympy.Integer(int(b))
    elif isinstance(b, Fraction):
        b = sympy.Rational(b.numerator, b.denominator)
    elif not isinstance(b, sympy.Basic):
        b = sympy.nsimplify(float(b))
    if b.is_number and not 0 <= b < 1:
        raise ValueError(f"beta (bias variance) must be in [0, 1); got {beta!r}")
    return b


def activation_fn(activation: str):
    """The torch function of an activation name."""
    _check_activation(activation)
    return {"relu": torch.relu, "abs": torch.abs, "tanh": torch.tanh, "erf": torch.erf}[activation]


# --- sampling -----------------------------------------------------------------------------------
def beta_xavier(in_dim: int, width: int, beta: float, generator: torch.Generator, device="cpu",
                dtype=torch.float64, weight_var: float | None = None):
    r"""Sample ``width`` β-Xavier neurons on :math:`\mathbb R^{in\_dim}`: ``(W, b)`` with
    :math:`W_{ij}\sim\mathcal N(0,\text{weight\_var}/N)` (default weight_var :math:`=1-\beta`) and
    :math:`b_i\sim\mathcal N(0,\beta)`; drawn on the CPU from ``generator`` then moved (reproducible
    across devices)."""
    in_dim = int_at_least("in_dim", in_dim, 1)
    width = int_at_least("width (number of neurons q)", width, 1)
    beta = _check_beta(beta)
    wv = 1.0 - beta if weight_var is None else real_in("weight_var", weight_var, 0.0, lo_open=True)
    _check_generator("generator", generator)
    device = _check_device("device", device)
    float_dtype("dtype", dtype)
    check_memory(f"beta_xavier(in_dim={in_dim}, width={width})", 3 * 8 * width * (in_dim + 1))
    W = torch.randn(width, in_dim, generator=generator, dtype=torch.float64) * np.sqrt(wv / in_dim)
    b = torch.randn(width, generator=generator, dtype=torch.float64) * np.sqrt(beta)
    return W.to(device=device, dtype=dtype), b.to(device=device, dtype=dtype)


def random_features(z: torch.Tensor, W: torch.Tensor, b: torch.Tensor, activation: str = "relu") -> torch.Tensor:
    r""":math:`\Phi(z)=\sigma(zW^\top+b)/\sqrt q`, so :math:`\Phi(z)\Phi(z')^\top` is the Monte-Carlo kernel."""
    _check_activation(activation)
    _tensor("z", z, min_ndim=1)
    _tensor("W", W, ndim=2, floating=True)
    _tensor("b", b, floating=True)
    if b.shape != (W.shape[0],) or z.shape[-1] != W.shape[1] or W.shape[0] < 1:
        raise ValueError(f"shapes must be z (..., N), W (q, N), b (q,) with q >= 1; got z {tuple(z.shape)}, "
                         f"W {tuple(W.shape)}, b {tuple(b.shape)}")
    if W.dtype != b.dtype or len({z.device, W.device, b.device}) > 1:
        raise ValueError(f"W and b must share a dtype, and z, W, b a device; got W {W.dtype} on {W.device}, "
                         f"b {b.dtype} on {b.device}, z on {z.device}")
    check_memory(f"random_features(z of shape {tuple(z.shape)}, width q={W.shape[0]})",
                 3 * (z.numel() // max(z.shape[-1], 1)) * W.shape[0] * W.element_size())
    pre = z.to(W.dtype) @ W.T
    if pre.requires_grad:  # autograd needs the activation's output untouched
        return activation_fn(activation)(pre + b) / np.sqrt(W.shape[0])
    # in place: the same values without two of the four (n x q) buffers (issue 15)
    return activation_fn(activation)(pre.add_(b)).div_(np.sqrt(W.shape[0]))


def mc_kernel(x: torch.Tensor, y: torch.Tensor, width: int, beta: float, generator: torch.Generator,
              activation: str = "relu", chunk: int = 1 << 14) -> torch.Tensor:
    """Finite-width kernel :math:`\\frac1q\\sum_{i\\le q}\\sigma(w_i\\cdot x+b_i)\\sigma(w_i\\cdot y+b_i)`."""
    width = int_at_least("width (number of neurons q)", width, 1)
    chunk = int_at_least("chunk", chunk, 1)
    _check_activation(activation)
    _check_beta(beta)
    _check_generator("generator", generator)
    for name, t in (("x", x), ("y", y)):
        if not isinstance(t, torch.Tensor) or t.ndim != 2:
            raise ValueError(f"{name} must be a 2-d torch.Tensor (n, N); got {getattr(t, 'shape', type(t).__name__)}")
        _tensor(name, t)
    if x.shape[1] != y.shape[1] or x.shape[1] < 1:
        raise ValueError(f"x and y must have the same input dimension N >= 1; got {x.shape[1]} and {y.shape[1]}")
    if x.device != y.device:
        raise ValueError(f"x and y must be on one device; got {x.device} and {y.device}")
    check_memory(f"mc_kernel(x: {x.shape[0]} rows, y: {y.shape[0]} rows, chunk={min(chunk, width)})",
                 8 * (x.shape[0] * y.shape[0] + 3 * min(chunk, width) * (x.shape[0] + y.shape[0] + x.shape[1])))
    out = torch.zeros(x.shape[0], y.shape[0], dtype=torch.float64, device=x.device)
    done = 0
    while done < width:
        m = min(chunk, width - done)
        W, b = beta_xavier(x.shape[1], m, beta, generator, x.device)
        fx = activation_fn(activation)(x.double() @ W.T + b)
        fy = activation_fn(activation)(y.double() @ W.T + b)
        out += fx @ fy.T
        done += m
    return out / width


# --- closed forms -------------------------------------------------------------------------------
def dual_activation_sympy(activation: str = "relu"):
    r"""The dual activation :math:`\hat\sigma` as a sympy Lambda (closed form: relu, abs, erf)."""
    if not isinstance(activation, str) or activation not in _CLOSED_FORM:
        raise ValueError(f"activation must be one with a closed-form dual activation {_CLOSED_FORM}; "
                         f"got {activation!r}")
    t = sympy.Symbol("t", real=True)
    if activation == "relu":
        # pi - arccos(t) = pi/2 + arcsin(t): arcsin is odd, so sympy cancels odd parts exactly
        expr = (sympy.sqrt(1 - t ** 2) + (sympy.pi / 2 + sympy.asin(t)) * t) / (2 * sympy.pi)
    elif activation == "abs":
        expr = 2 / sympy.pi * (sympy.sqrt(1 - t ** 2) + t * sympy.asin(t))
    elif activation == "erf":  # E[erf(u) erf(v)] with unit variances (Williams 1997)
        expr = 2 / sympy.pi * sympy.asin(2 * t / 3)
    else:
        raise ValueError(f"no closed-form dual activation for {activation!r}; closed forms: {_CLOSED_FORM}")
    return sympy.Lambda(t, expr)


def dual_activation(t, activation: str = "relu") -> np.ndarray:
    r""":math:`\hat\sigma(t)` in float64 (closed form; tanh by its Hermite series)."""
    _check_activation(activation)
    t = real_array("t", t)
    if t.size and np.abs(t).max() > 1.0 + 1e-9:  # a correlation: only rounding may leave [-1, 1]
        raise ValueError(f"t (a correlation) must lie in [-1, 1]; got values in [{t.min()}, {t.max()}]")
    t = np.clip(t, -1.0, 1.0)
    if activation == "relu":
        return (np.sqrt(1 - t ** 2) + (np.pi - np.arccos(t)) * t) / (2 * np.pi)
    if activation == "abs":
        return 2 / np.pi * (np.sqrt(1 - t ** 2) + t * np.arcsin(t))
    if activation == "erf":
        return 2 / np.pi * np.arcsin(2 * t / 3)
    a = hermite_coefficients_float(activation, 80)
    return np.polynomial.polynomial.polyval(t, a ** 2)


def kernel(x: torch.Tensor | np.ndarray, y, beta: float, activation: str = "relu") -> np.ndarray:
    r"""Closed-form :math:`k_\beta(x,y)=\hat\sigma((1-\beta)\langle x,y\rangle/N+\beta)` for inputs of
    squared norm N (e.g. :math:`\{\pm1\}^N`); checked, not assumed: raises otherwise."""
    beta = _check_beta(beta)
    _check_activation(activation)
    x = real_array("x", x, ndim=2)
    y = real_array("y", y, ndim=2)
    N = x.shape[1]
    if N < 1 or y.shape[1] != N:
        raise ValueError(f"x and y must have the same number N >= 1 of columns; got {x.shape[1]} and {y.shape[1]}")
    check_memory(f"kernel(x: {x.shape[0]} rows, y: {y.shape[0]} rows)", 4 * 8 * x.shape[0] * y.shape[0])
    for name, v in (("x", x), ("y", y)):
        if not np.allclose((v ** 2).sum(1), N):
            raise ValueError(f"kernel: rows of {name} must have squared norm N={N} (e.g. points of {{±1}}^N)")
    rho = x @ y.T / N
    return dual_activation((1 - beta) * rho + beta, activation)


# --- Hermite coefficients -------------------------------------------------------------------------
def hermite_coefficient(activation: str, n: int):
    r"""Exact :math:`a_n=\mathbb E_{g\sim\mathcal N(0,1)}[\sigma(g)He_n(g)]/\sqrt{n!}` (sympy; relu, abs), by
    the closed form (B1): ReLU :math:`a_0=1/\sqrt{2\pi}`, :math:`a_1=1/2`, :math:`a_n=0` for odd
    :math:`n\ge3`, :math:`a_{2m+2}=(-1)^m(2m-1)!!/(\sqrt{2\pi}\sqrt{(2m+2)!})`; :math:`|g|=2\,\mathrm{relu}(g)-g`.
    :func:`hermite_coefficient_by_integration` computes the same by symbolic integration (tests).
    ``n`` at most :data:`MAX_HERMITE_DEGREE`."""
    if not isinstance(activation, str) or activation not in ("relu", "abs"):
        raise ValueError(f"activation: exact Hermite coefficients are implemented for 'relu' and 'abs'; "
                         f"got {activation!r}")
    n = int_in("n (Hermite degree)", n, 0, MAX_HERMITE_DEGREE)
    return _hermite_coefficient(activation, n)


@functools.lru_cache(maxsize=None)
def _hermite_coefficient(activation: str, n: int):
    if activation == "abs":
        return 2 * _hermite_coefficient("relu", n) - (1 if n == 1 else 0)
    if n == 0:
        return 1 / sympy.sqrt(2 * sympy.pi)
    if n == 1:
        return sympy.Rational(1, 2)
    if n % 2:
        return sympy.Integer(0)
    m = (n - 2) // 2
    return (-1) ** m * sympy.factorial2(2 * m - 1) / (sympy.sqrt(2 * sympy.pi) * sympy.sqrt(sympy.factorial(n)))


def hermite_coefficient_by_integration(activation: str, n: int):
    """:func:`hermite_coefficient` by symbolic integration against the Gaussian (slow; a cross-check;
    ``n`` at most 40)."""
    if not isinstance(activation, str) or activation not in ("relu", "abs"):
        raise ValueError(f"activation must be 'relu' or 'abs'; got {activation!r}")
    n = int_in("n (Hermite degree)", n, 0, 40)
    g = sympy.Symbol("g", real=True)
    phi = sympy.exp(-g ** 2 / 2) / sympy.sqrt(2 * sympy.pi)
    half = sympy.integrate(sympy.expand(g * sympy.hermite_prob(n, g)) * phi, (g, 0, sympy.oo))
    val = half if activation == "relu" else half * (1 + (-1) ** n)
    return sympy.simplify(val / sympy.sqrt(sympy.factorial(n)))


def hermite_coefficients(activation: str = "relu", n_max: int = 8) -> list:
    """:func:`hermite_coefficient` for ``n = 0..n_max`` (exact, relu and abs)."""
    n_max = int_in("n_max", n_max, 0, MAX_HERMITE_DEGREE)
    return [hermite_coefficient(activation, n) for n in range(n_max + 1)]


def hermite_coefficients_float(activation: str = "relu", n_max: int = 40, nodes: int = 200) -> np.ndarray:
    r"""Float64 :math:`a_0..a_{n\_max}` by Gauss--Hermite quadrature (any activation), ``n_max <= nodes``
    (a degree-:math:`n` Hermite polynomial is not resolved by fewer nodes: the error grows past it)."""
    _check_activation(activation)
    nodes = int_in("nodes (numpy's Gauss-Hermite weights overflow beyond 250)", nodes, 2, 250)
    n_max = int_in(f"n_max (at most nodes = {nodes})", n_max, 0, nodes)
    g, w = np.polynomial.hermite_e.hermegauss(nodes)
    w = w / np.sqrt(2 * np.pi)
    s = activation_fn(activation)(torch.from_numpy(g)).numpy()
    out = np.empty(n_max + 1)
    h_prev, h = np.zeros_like(g), np.ones_like(g)  # orthonormal recursion h_{n+1} = (g h_n - sqrt(n) h_{n-1})/sqrt(n+1)
    for n in range(n_max + 1):
        out[n] = float((w * s * h).sum())
        h_prev, h = h, (g * h - np.sqrt(n) * h_prev) / np.sqrt(n + 1)
    return out


def kernel_coefficients(beta, J: int, activation: str = "relu", exact: bool = True) -> list:
    r""":math:`c_0(\beta),\dots,c_J(\beta)`, the Taylor coefficients of :math:`k_\beta(\rho)` in
    :math:`\rho`: :math:`c_j=(1-\beta)^j\hat\sigma^{(j)}(\beta)/j!` (exact sympy for closed-form
    activations; ``beta`` may be a sympy Symbol or Rational, never a string). Float64 via the Hermite series
    otherwise. ``J`` at most :data:`MAX_KERNEL_ORDER`."""
    J = int_in("J (Taylor order)", J, 0, MAX_KERNEL_ORDER)
    _check_activation(activation)
    exact = boolean("exact", exact)
    if exact and activation in _CLOSED_FORM:
        b = _exact_beta(beta, allow_symbol=True)
        sig = dual_activation_sympy(activation)
        t = sympy.Symbol("t", real=True)
        expr = sig(t)
        out = []
        for j in range(J + 1):
            out.append(sympy.simplify((1 - b) ** j * expr.subs(t, b) / sympy.factorial(j)))
            expr = sympy.diff(expr, t)
        return out
    beta = _check_beta(beta)
    if activation in ("relu", "abs"):
        a2 = np.array([float(a) ** 2 for a in hermite_coefficients(activation, 60)])
    else:
        a2 = hermite_coefficients_float(activation, 80) ** 2
    return [float(sum(a2[n] * comb(n, j) * (1 - beta) ** j * beta ** (n - j) for n in range(j, len(a2))))
            for j in range(J + 1)]


# --- the kernel on the cube ------------------------------------------------------------------------
def krawtchouk(d: int, k: int, t: int) -> int:
    r""":math:`P_k(t)=\sum_j(-1)^j\binom tj\binom{d-t}{k-j}`: the value of :math:`\sum_{|S|=k}\chi_S(x)`
    at a point x with t coordinates equal to -1 (``0 <= k, t <= d <= MAX_CUBE_DIMENSION``)."""
    d = int_in("d", d, 0, MAX_CUBE_DIMENSION)
    k = int_in("k (degree)", k, 0, d)
    t = int_in("t (coordinates equal to -1)", t, 0, d)
    return sum((-1) ** j * comb(t, j) * comb(d - t, k - j) for j in range(0, k + 1))


def cube_eigenvalues(d: int, beta, activation: str = "relu", exact: bool = False) -> list:
    r""":math:`\lambda_0..\lambda_d` of :math:`k_\beta` on :math:`\{\pm1\}^d`:
    :math:`\lambda_k=2^{-d}\sum_{t=0}^d\binom dt\,\kappa(1-2t/d)\,P_k(t)/\binom dk`, the average over
    y of :math:`k(\mathbf 1,y)\chi_S(y)` for one S of size k, with :math:`\kappa(\rho)=\hat\sigma((1-\beta)\rho+\beta)`.
    Exact sympy when ``exact`` (closed-form activations), float64 otherwise."""
    d = int_in("d", d, 1, MAX_CUBE_DIMENSION)
    _check_activation(activation)
    if boolean("exact", exact):
        b = _exact_beta(beta, allow_symbol=False)
        sig = dual_activation_sympy(activation)
        kap = [sig((1 - b) * sympy.Rational(d - 2 * t, d) + b) for t in range(d + 1)]
        out = []
        for k in range(d + 1):
            s = sum(comb(d, t) * kap[t] * krawtchouk(d, k, t) for t in range(d + 1))
            out.append(sympy.simplify(s / (2 ** d * comb(d, k))))
        return out
    beta = _check_beta(beta)
    kap = dual_activation((1 - beta) * (1 - 2 * np.arange(d + 1) / d) + beta, activation)
    return [float(sum(comb(d, t) * kap[t] * krawtchouk(d, k, t) for t in range(d + 1)) / (2 ** d * comb(d, k)))
            for k in range(d + 1)]


def rkhs_norm_sq(fourier: dict, eigenvalues, tol: float = 0.0):
    r""":math:`\sum_S\hat p(S)^2/\lambda_{|S|}`; ``oo`` (sympy) / ``inf`` when a non-zero coefficient
    sits on a degree with :math:`\lambda=0` (:math:`|\lambda|\le` ``tol`` in float64). ``fourier`` maps sets
    ``S`` (tuples of variable indices) to real coefficients; ``eigenvalues`` are :math:`\lambda_0,\lambda_1,\dots`
    (non-negative, one for every degree :math:`|S|` present)."""
    if not isinstance(fourier, Mapping):
        raise ValueError(f"fourier must be a mapping {{S: coefficient}}; got {type(fourier).__name__}")
    if not isinstance(eigenvalues, (list, tuple, np.ndarray)):
        raise ValueError(f"eigenvalues must be a list of numbers; got {type(eigenvalues).__name__}")
    eigenvalues = [number(f"eigenvalues[{k}]", l) for k, l in enumerate(eigenvalues)]
    tol = real_in("tol", tol, 0.0)
    slack = tol + 1e-12 * max([1.0] + [abs(float(l)) for l in eigenvalues])  # float rounding of a zero
    for k, l in enumerate(eigenvalues):
        if bool(l < 0) if isinstance(l, sympy.Basic) else float(l) < -slack:
            raise ValueError(f"eigenvalues[{k}] must be >= 0 (a kernel's eigenvalue); got {l!r}")
    for S, c in fourier.items():
        if not isinstance(S, tuple):
            raise ValueError(f"fourier keys must be tuples of variable indices; got {S!r}")
        if len(S) >= len(eigenvalues):
            raise ValueError(f"eigenvalues must hold one value per degree up to {len(S)} (fourier has a set of "
                             f"size {len(S)}); got {len(eigenvalues)} values")
        number(f"fourier[{S}]", c)
    exact = any(isinstance(l, sympy.Basic) for l in eigenvalues)
    total = sympy.Integer(0) if exact else 0.0
    for S, c in fourier.items():
        if c == 0:
            continue
        lam = eigenvalues[len(S)]
        if exact:
            lam = sympy.nsimplify(lam)
            if lam == 0:
                return sympy.oo
            total += sympy.nsimplify(c) ** 2 / lam
        else:
            if abs(float(lam)) <= tol:
                return float("inf")
            total += float(c) ** 2 / float(lam)
    return total


def kernel_gram(x: np.ndarray, beta: float, activation: str = "relu") -> np.ndarray:
    """Closed-form Gram matrix on the rows of ``x`` (squared norm N each)."""
    return kernel(x, x, beta, activation)
