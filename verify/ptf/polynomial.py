r"""Multilinear polynomials over :math:`\{\pm1\}^k` and polynomial threshold functions (PTFs).

A polynomial is a map from monomials (sorted tuples of distinct variable indices, ``()`` is the
constant) to coefficients; on :math:`\{\pm1\}^k` every polynomial reduces to a multilinear one
(:math:`z_i^2=1`), so this representation loses nothing. Coefficients may be ``int``,
``Fraction`` or ``float``; evaluation is exact for integer/``Fraction`` coefficients when asked.

The PTF of :math:`p` is :math:`\mathrm{sign}(p(z))` with the convention ``sign(0) = +1``; its
*margin* on a set of points is :math:`\min|p(z)|` (0 when the sign convention was needed).
"""
from __future__ import annotations

import dataclasses
import itertools
from fractions import Fraction
from typing import Mapping

import numpy as np


def _check_monomial(mono, num_vars: int) -> tuple[int, ...]:
    mono = tuple(int(i) for i in mono)
    if len(set(mono)) != len(mono):
        raise ValueError(f"monomial {mono} repeats a variable; on {{±1}}^k use multilinear monomials")
    for i in mono:
        if not 0 <= i < num_vars:
            raise ValueError(f"monomial {mono}: variable index must be in [0, {num_vars - 1}]; got {i}")
    return tuple(sorted(mono))


@dataclasses.dataclass(frozen=True)
class Polynomial:
    r"""A multilinear polynomial :math:`p(z)=\sum_S c_S\prod_{i\in S}z_i` in ``num_vars`` ±1 variables."""
    num_vars: int
    terms: tuple  # ((monomial tuple, coefficient), ...), monomials sorted and distinct

    def __post_init__(self):
        if not isinstance(self.num_vars, (int, np.integer)) or self.num_vars < 0:
            raise ValueError(f"num_vars must be an integer >= 0; got {self.num_vars!r}")
        seen = set()
        for mono, _ in self.terms:
            if mono in seen:
                raise ValueError(f"monomial {mono} appears twice")
            seen.add(mono)

    @classmethod
    def from_dict(cls, coefficients: Mapping, num_vars: int) -> "Polynomial":
        """``{monomial: coefficient}``; monomials are iterables of variable indices; zeros are dropped."""
        acc: dict = {}
        for mono, c in coefficients.items():
            m = _check_monomial(mono, num_vars)
            acc[m] = acc.get(m, 0) + c
        terms = tuple(sorted(((m, c) for m, c in acc.items() if c != 0), key=lambda t: (len(t[0]), t[0])))
        return cls(int(num_vars), terms)

    @property
    def degree(self) -> int:
        return max((len(m) for m, _ in self.terms), default=0)

    def as_dict(self) -> dict:
        return dict(self.terms)

    def coefficient_norm(self, ord: int | float = 1, include_constant: bool = True) -> float:
        r"""The :math:`\ell_{ord}` norm of the coefficient vector (``ord`` in {1, 2, inf})."""
        if ord not in (1, 2, np.inf):
            raise ValueError(f"ord must be 1, 2 or inf; got {ord!r}")
        c = np.array([float(c) for m, c in self.terms if include_constant or m], dtype=float)
        if c.size == 0:
            return 0.0
        return float(np.linalg.norm(c, ord))

    def __call__(self, z, exact: bool = False):
        r"""Evaluate on the rows of ``z`` (shape ``(n, num_vars)``, entries ±1). Float64 by default;
        ``exact=True`` returns a list of ``Fraction`` (integer/Fraction coefficients)."""
        z = np.asarray(z)
        if z.ndim != 2 or z.shape[1] != self.num_vars:
            raise ValueError(f"z must have shape (n, {self.num_vars}); got {z.shape}")
        if exact:
            out = [Fraction(0)] * z.shape[0]
            zi = z.astype(np.int64)
            for mono, c in self.terms:
                chi = np.prod(zi[:, list(mono)], axis=1) if mono else np.ones(z.shape[0], dtype=np.int64)
                out = [o + Fraction(c) * int(s) for o, s in zip(out, chi)]
            return out
        zf = z.astype(np.float64)
        out = np.zeros(z.shape[0])
        for mono, c in self.terms:
            chi = np.prod(zf[:, list(mono)], axis=1) if mono else 1.0
            out = out + float(c) * chi
        return out


def sign(values) -> np.ndarray:
    """±1 signs with ``sign(0) = +1`` (int8)."""
    v = np.asarray(values, dtype=float)
    return np.where(v >= 0, 1, -1).astype(np.int8)


def all_points(k: int) -> np.ndarray:
    r"""All of :math:`\{\pm1\}^k`, shape ``(2**k, k)`` int8; row ``t`` has :math:`z_i=1-2\,\mathrm{bit}_i(t)`."""
    if not isinstance(k, (int, np.integer)) or not 0 <= k <= 24:
        raise ValueError(f"k must be an integer in [0, 24] to enumerate {{±1}}^k; got {k!r}")
    t = np.arange(2 ** k, dtype=np.int64)[:, None]
    bits = (t >> np.arange(k, dtype=np.int64)[None, :]) & 1
    return (1 - 2 * bits).astype(np.int8)


def monomials_up_to(num_vars: int, degree: int):
    """All multilinear monomials of degree <= ``degree`` in ``num_vars`` variables, by degree."""
    if degree < 0:
        raise ValueError(f"degree must be >= 0; got {degree}")
    for k in range(min(degree, num_vars) + 1):
        yield from itertools.combinations(range(num_vars), k)
