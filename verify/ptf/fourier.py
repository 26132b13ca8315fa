r"""Exact Boolean Fourier expansions on :math:`\{\pm1\}^d` for small d (background, ``papers/ptf.md`` B6).

:math:`f=\sum_S\hat f(S)\chi_S`, :math:`\chi_S(x)=\prod_{i\in S}x_i`,
:math:`\hat f(S)=2^{-d}\sum_xf(x)\chi_S(x)`. Points are ordered as :func:`all_points`
(row ``t`` has :math:`x_i=1-2\,\mathrm{bit}_i(t)`), so :math:`\chi_S(x_t)=(-1)^{|t\wedge S|}` with
``S`` a bit mask, and the transform is the fast Walsh--Hadamard transform (integer arithmetic for
integer values: exact).
"""
from __future__ import annotations

import numbers
from fractions import Fraction
from math import comb
from typing import Mapping

import numpy as np

from ..validate import instance, int_at_least, int_in, real_array
from .generators import MAX_MAJORITY_SIZE
from .polynomial import Polynomial, _check_coefficient, all_points

__all__ = ["evaluate_expansion", "expansion_polynomial", "fourier_coefficients", "fourier_degree",
           "fourier_expansion", "label_fourier", "label_values", "majority_fourier", "mask_to_set",
           "polynomial_on_cube", "set_to_mask", "walsh_hadamard", "weight_by_degree"]

MAX_VARIABLE_INDEX = 1 << 20
"""Variable indices of a Fourier set ``S`` stay below this (a mask is an int of that many bits)."""


def _power_of_two(name: str, n: int) -> None:
    if n == 0 or n & (n - 1):
        raise ValueError(f"{name} must hold 2**d entries (a power of two); got {n}")


def _check_set(name: str, S, d: int | None = None) -> tuple:
    """A Fourier set: a tuple of distinct variable indices (in ``[0, d)`` where ``d`` is given)."""
    if not isinstance(S, tuple):
        raise ValueError(f"{name} must be a tuple of variable indices; got {S!r}")
    hi = MAX_VARIABLE_INDEX if d is None else d
    for i in S:
        if isinstance(i, (bool, np.bool_)) or not isinstance(i, numbers.Integral) or not 0 <= i < hi:
            raise ValueError(f"{name}: variable indices must be integers in [0, {hi - 1}]; got {S!r}")
    if len(set(S)) != len(S):
        raise ValueError(f"{name} must hold distinct variable indices; got {S!r}")
    return S


def _value(name: str, v):
    try:
        return _check_coefficient(name, v)
    except ValueError:
        raise ValueError(f"{name} must hold finite real numbers (int, Fraction or float); got {v!r}") from None


def _coefficients(name: str, coefficients, d: int | None = None) -> Mapping:
    if not isinstance(coefficients, Mapping):
        raise ValueError(f"{name} must be a mapping {{S: coefficient}} (S a tuple of variable indices); got "
                         f"{type(coefficients).__name__}")
    for S, c in coefficients.items():
        _check_set(f"{name} key", S, d)
        _check_coefficient(S, c, name)
    return coefficients


def walsh_hadamard(values: np.ndarray) -> np.ndarray:
    r""":math:`\sum_t v_t(-1)^{|t\wedge s|}` for every mask ``s`` (unnormalised, along axis 0). ``values``:
    real numbers (an object array of Fractions stays exact), a power-of-two length along axis 0."""
    if isinstance(values, np.ndarray) and values.dtype == object:
        v = np.array(values, copy=True)
        for c in v.ravel().tolist():
            _value("values", c)
    else:
        v = real_array("values", values)
        if np.asarray(values).dtype.kind in "iu":
            v = np.asarray(values).astype(np.int64)
    if v.ndim < 1:
        raise ValueError(f"values must have at least one dimension (of length 2**d); got shape {v.shape}")
    n = v.shape[0]
    _power_of_two("values (walsh_hadamard needs a power-of-two length)", n)
    # the butterflies write into a second buffer (ping-pong): one pass over memory per stage instead of three, with
    # the same sums in the same order (issue 15: rfp's read-outs transform (64, 8192) arrays)
    rest = v.shape[1:]
    v = np.ascontiguousarray(v)
    w = np.empty_like(v)
    h = 1
    while h < n:
        src = v.reshape(n // (2 * h), 2, h, *rest)
        dst = w.reshape(n // (2 * h), 2, h, *rest)
        np.add(src[:, 0], src[:, 1], out=dst[:, 0])
        np.subtract(src[:, 0], src[:, 1], out=dst[:, 1])
        v, w = w, v
        h *= 2
    return v


def mask_to_set(mask: int) -> tuple:
    """The set :math:`S` of bit positions of ``mask`` (an integer >= 0 below ``2**MAX_VARIABLE_INDEX``)."""
    mask = int_at_least("mask", mask, 0)
    if mask.bit_length() > MAX_VARIABLE_INDEX:
        raise ValueError(f"mask must be below 2**{MAX_VARIABLE_INDEX}; got a {mask.bit_length()}-bit integer")
    return tuple(i for i in range(int(mask).bit_length()) if mask >> i & 1)


def set_to_mask(S) -> int:
    """The bit mask of a set ``S`` of distinct variable indices (a tuple, list or set of ints >= 0)."""
    if isinstance(S, (str, bytes)) or not hasattr(S, "__iter__"):
        raise ValueError(f"S must be a tuple of distinct variable indices; got {S!r}")
    S = _check_set("S", tuple(S))
    return sum(1 << int(i) for i in S)


def fourier_coefficients(values) -> np.ndarray:
    r"""Float64 :math:`\hat f(S)` for every mask ``S`` from the values on :func:`all_points` order."""
    v = real_array("values", values, min_ndim=1)
    return walsh_hadamard(v) / v.shape[0]


def fourier_expansion(values) -> dict:
    r"""Exact ``{S: Fraction}`` (non-zero coefficients only) from integer/Fraction values on all
    of :math:`\{\pm1\}^d` in :func:`all_points` order (floats are read exactly, as binary fractions)."""
    if isinstance(values, (str, bytes)) or not hasattr(values, "__iter__"):
        raise ValueError(f"values must be a 1-d sequence of 2**d numbers; got {values!r}")
    vals = list(values)
    for v in vals:
        _value("values", v)
    n = len(vals)
    _power_of_two("values", n)
    if all(isinstance(v, (int, np.integer)) for v in vals):
        w = walsh_hadamard(np.asarray(vals, dtype=np.int64))
        return {mask_to_set(s): Fraction(int(w[s]), n) for s in range(n) if w[s] != 0}
    w = walsh_hadamard(np.array([Fraction(v) for v in vals], dtype=object))
    return {mask_to_set(s): Fraction(w[s]) / n for s in range(n) if w[s] != 0}


def expansion_polynomial(values) -> Polynomial:
    """The multilinear polynomial equal to ``values`` on all of the cube (exact)."""
    coefficients = fourier_expansion(values)
    d = len(list(values)).bit_length() - 1
    return Polynomial.from_dict(coefficients, d)


def evaluate_expansion(coefficients: dict, x) -> np.ndarray:
    r""":math:`\sum_S\hat f(S)\chi_S(x)` in float64 on the rows of ``x`` (``(n, d)``, finite)."""
    x = real_array("x", x, ndim=2)
    _coefficients("coefficients", coefficients, x.shape[1])
    out = np.zeros(x.shape[0])
    for S, c in coefficients.items():
        out += float(c) * (np.prod(x[:, list(S)], axis=1) if S else 1.0)
    return out


def label_values(hierarchy, index: int) -> np.ndarray:
    """Label ``index`` (concatenated order) on all of {±1}^d, as int64 (d <= 20)."""
    from .hierarchy import Hierarchy
    instance("hierarchy", hierarchy, Hierarchy)
    if hierarchy.d > 20:
        raise ValueError(f"hierarchy: exact Fourier expansions enumerate the cube: need d <= 20; got d={hierarchy.d}")
    index = int_in("index (label, concatenated order)", index, 0, hierarchy.num_labels - 1)
    return hierarchy.labels(all_points(hierarchy.d))[:, index].astype(np.int64)


def label_fourier(hierarchy, index: int) -> dict:
    """Exact Fourier expansion of one label of a hierarchy, as a function of x."""
    return fourier_expansion(label_values(hierarchy, index))


def fourier_degree(coefficients: dict) -> int:
    """The largest :math:`|S|` among the coefficients (0 for none)."""
    _coefficients("coefficients", coefficients)
    return max((len(S) for S in coefficients), default=0)


def weight_by_degree(coefficients: dict, d: int) -> list:
    r"""Fourier weight :math:`W^k[f]=\sum_{|S|=k}\hat f(S)^2` for k = 0..d (exact for Fractions)."""
    d = int_at_least("d", d, 0)
    _coefficients("coefficients", coefficients, d)
    w = [Fraction(0)] * (d + 1)
    for S, c in coefficients.items():
        w[len(S)] += Fraction(c) ** 2 if isinstance(c, (int, Fraction)) else c ** 2
    return w


def majority_fourier(n: int, k: int) -> Fraction:
    r"""Closed form of :math:`\widehat{\mathrm{Maj}_n}(S)` for :math:`|S|=k` (n odd): 0 for k even,
    else :math:`(-1)^{(k-1)/2}\binom{(n-1)/2}{(k-1)/2}\binom{n-1}{k-1}^{-1}\frac{2}{2^n}\binom{n-1}{(n-1)/2}`."""
    n = int_in("n", n, 1, MAX_MAJORITY_SIZE)
    if n % 2 == 0:
        raise ValueError(f"n must be odd and >= 1; got {n}")
    k = int_in("k", k, 0, n)
    if k % 2 == 0:
        return Fraction(0)
    h = (k - 1) // 2
    return ((-1) ** h * Fraction(comb((n - 1) // 2, h), comb(n - 1, k - 1))
            * Fraction(2 * comb(n - 1, (n - 1) // 2), 2 ** n))


def polynomial_on_cube(poly: Polynomial) -> np.ndarray:
    """Values of ``poly`` on all of {±1}^k in :func:`all_points` order."""
    instance("poly", poly, Polynomial)
    return poly(all_points(poly.num_vars))
