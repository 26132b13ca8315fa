r"""Exact Boolean Fourier expansions on :math:`\{\pm1\}^d` for small d (background, ``papers/ptf.md`` B6).

:math:`f=\sum_S\hat f(S)\chi_S`, :math:`\chi_S(x)=\prod_{i\in S}x_i`,
:math:`\hat f(S)=2^{-d}\sum_xf(x)\chi_S(x)`. Points are ordered as :func:`all_points`
(row ``t`` has :math:`x_i=1-2\,\mathrm{bit}_i(t)`), so :math:`\chi_S(x_t)=(-1)^{|t\wedge S|}` with
``S`` a bit mask, and the transform is the fast Walsh--Hadamard transform (integer arithmetic for
integer values: exact).
"""
from __future__ import annotations

from fractions import Fraction
from math import comb

import numpy as np

from .polynomial import Polynomial, all_points


def walsh_hadamard(values: np.ndarray) -> np.ndarray:
    r""":math:`\sum_t v_t(-1)^{|t\wedge s|}` for every mask ``s`` (unnormalised, along axis 0)."""
    v = np.array(values, copy=True)
    n = v.shape[0]
    if n & (n - 1) or n == 0:
        raise ValueError(f"walsh_hadamard needs a power-of-two length; got {n}")
    h = 1
    while h < n:
        v = v.reshape(n // (2 * h), 2, h, *v.shape[1:])
        a, b = v[:, 0].copy(), v[:, 1].copy()
        v[:, 0], v[:, 1] = a + b, a - b
        v = v.reshape(n, *v.shape[3:])
        h *= 2
    return v


def mask_to_set(mask: int) -> tuple:
    return tuple(i for i in range(int(mask).bit_length()) if mask >> i & 1)


def set_to_mask(S) -> int:
    return sum(1 << int(i) for i in S)


def fourier_coefficients(values) -> np.ndarray:
    r"""Float64 :math:`\hat f(S)` for every mask ``S`` from the values on :func:`all_points` order."""
    v = np.asarray(values, dtype=np.float64)
    return walsh_hadamard(v) / v.shape[0]


def fourier_expansion(values) -> dict:
    r"""Exact ``{S: Fraction}`` (non-zero coefficients only) from integer/Fraction values on all
    of :math:`\{\pm1\}^d` in :func:`all_points` order."""
    vals = list(values)
    n = len(vals)
    if n & (n - 1) or n == 0:
        raise ValueError(f"values must hold 2**d entries; got {n}")
    if all(isinstance(v, (int, np.integer)) for v in vals):
        w = walsh_hadamard(np.asarray(vals, dtype=np.int64))
        return {mask_to_set(s): Fraction(int(w[s]), n) for s in range(n) if w[s] != 0}
    w = walsh_hadamard(np.array([Fraction(v) for v in vals], dtype=object))
    return {mask_to_set(s): Fraction(w[s]) / n for s in range(n) if w[s] != 0}


def expansion_polynomial(values) -> Polynomial:
    """The multilinear polynomial equal to ``values`` on all of the cube (exact)."""
    n = len(values)
    d = n.bit_length() - 1
    return Polynomial.from_dict(fourier_expansion(values), d)


def evaluate_expansion(coefficients: dict, x) -> np.ndarray:
    r""":math:`\sum_S\hat f(S)\chi_S(x)` in float64 on the rows of ``x``."""
    x = np.asarray(x, dtype=np.float64)
    out = np.zeros(x.shape[0])
    for S, c in coefficients.items():
        out += float(c) * (np.prod(x[:, list(S)], axis=1) if S else 1.0)
    return out


def label_values(hierarchy, index: int) -> np.ndarray:
    """Label ``index`` (concatenated order) on all of {±1}^d, as int64 (d <= 20)."""
    if hierarchy.d > 20:
        raise ValueError(f"exact Fourier expansions enumerate the cube: need d <= 20; got d={hierarchy.d}")
    if not 0 <= index < hierarchy.num_labels:
        raise ValueError(f"index must be in [0, {hierarchy.num_labels - 1}]; got {index}")
    return hierarchy.labels(all_points(hierarchy.d))[:, index].astype(np.int64)


def label_fourier(hierarchy, index: int) -> dict:
    """Exact Fourier expansion of one label of a hierarchy, as a function of x."""
    return fourier_expansion(label_values(hierarchy, index))


def fourier_degree(coefficients: dict) -> int:
    return max((len(S) for S in coefficients), default=0)


def weight_by_degree(coefficients: dict, d: int) -> list:
    r"""Fourier weight :math:`W^k[f]=\sum_{|S|=k}\hat f(S)^2` for k = 0..d (exact for Fractions)."""
    w = [Fraction(0)] * (d + 1)
    for S, c in coefficients.items():
        w[len(S)] += Fraction(c) ** 2 if isinstance(c, (int, Fraction)) else c ** 2
    return w


def majority_fourier(n: int, k: int) -> Fraction:
    r"""Closed form of :math:`\widehat{\mathrm{Maj}_n}(S)` for :math:`|S|=k` (n odd): 0 for k even,
    else :math:`(-1)^{(k-1)/2}\binom{(n-1)/2}{(k-1)/2}\binom{n-1}{k-1}^{-1}\frac{2}{2^n}\binom{n-1}{(n-1)/2}`."""
    if n < 1 or n % 2 == 0:
        raise ValueError(f"n must be odd and >= 1; got {n}")
    if not 0 <= k <= n:
        raise ValueError(f"k must be in [0, {n}]; got {k}")
    if k % 2 == 0:
        return Fraction(0)
    h = (k - 1) // 2
    return ((-1) ** h * Fraction(comb((n - 1) // 2, h), comb(n - 1, k - 1))
            * Fraction(2 * comb(n - 1, (n - 1) // 2), 2 ** n))


def polynomial_on_cube(poly: Polynomial) -> np.ndarray:
    """Values of ``poly`` on all of {±1}^k in :func:`all_points` order."""
    return poly(all_points(poly.num_vars))
