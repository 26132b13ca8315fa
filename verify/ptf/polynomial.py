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
import math
import numbers
from fractions import Fraction
from typing import Mapping

import numpy as np

from ..validate import check_memory, int_at_least, int_in, real_array

__all__ = ["Polynomial", "all_points", "monomials_up_to", "sign"]

MAX_CUBE_DIMENSION = 24
r"""The largest ``k`` for which :func:`all_points` enumerates :math:`\{\pm1\}^k`."""


def _check_coefficient(mono, c, name: str = "coefficients"):
    """A finite real coefficient (int, Fraction, float, numpy number); strings, bools, NaN, complex refused."""
    ok = isinstance(c, numbers.Real) and not isinstance(c, (bool, np.bool_))
    if ok and not isinstance(c, numbers.Rational):
        try:
            ok = math.isfinite(float(c))
        except (OverflowError, TypeError, ValueError):
            ok = False
    if not ok:
        raise ValueError(f"{name}: the coefficient of monomial {mono} must be a finite real number (int, Fraction "
                         f"or float); got {c!r}")
    return c


def _cube_points(name: str, z, num_vars: int) -> np.ndarray:
    """``z`` as an int64 array ``(n, num_vars)`` with entries in {-1, +1}, or a ValueError naming ``name``."""
    a = real_array(name, z, ndim=2)
    if a.shape[1] != num_vars:
        raise ValueError(f"{name} must have shape (n, {num_vars}); got {a.shape}")
    if a.size and not np.isin(a, (-1.0, 1.0)).all():
        raise ValueError(f"{name} must have entries in {{-1, +1}} (points of the cube)")
    return a.astype(np.int64)


def _check_monomial(mono, num_vars: int) -> tuple[int, ...]:
    if isinstance(mono, (str, bytes)) or not hasattr(mono, "__iter__"):
        raise ValueError(f"a monomial must be a tuple of variable indices; got {mono!r}")
    mono = tuple(mono)
    for i in mono:
        if isinstance(i, (bool, np.bool_)) or not isinstance(i, numbers.Integral) or not 0 <= i < num_vars:
            raise ValueError(f"monomial {mono}: variable index must be an integer in [0, {num_vars - 1}]; got {i!r}")
    mono = tuple(int(i) for i in mono)
    if len(set(mono)) != len(mono):
        raise ValueError(f"monomial {mono} repeats a variable; on {{±1}}^k use multilinear monomials")
    return tuple(sorted(mono))


@dataclasses.dataclass(frozen=True)
class Polynomial:
    r"""A multilinear polynomial :math:`p(z)=\sum_S c_S\prod_{i\in S}z_i` in ``num_vars`` ±1 variables."""
    num_vars: int
    terms: tuple  # ((monomial tuple, coefficient), ...), monomials sorted and distinct

    def __post_init__(self):
        int_at_least("num_vars", self.num_vars, 0)
        if not isinstance(self.terms, tuple):
            raise ValueError(f"terms must be a tuple of (monomial, coefficient) pairs; got {type(self.terms).__name__}")
        seen = set()
        for term in self.terms:
            if not isinstance(term, tuple) or len(term) != 2:
                raise ValueError(f"terms must be (monomial, coefficient) pairs; got {term!r}")
            mono, c = term
            try:
                ok = isinstance(mono, tuple) and _check_monomial(mono, self.num_vars) == mono
                _check_coefficient(mono, c)
            except ValueError as err:
                raise ValueError(f"terms: {err}") from None
            if not ok:
                raise ValueError(f"terms: monomial {mono!r} must be a sorted tuple of distinct variable indices in "
                                 f"[0, {self.num_vars - 1}] (use Polynomial.from_dict)")
            if mono in seen:
                raise ValueError(f"terms: monomial {mono} appears twice")
            seen.add(mono)

    @classmethod
    def from_dict(cls, coefficients: Mapping, num_vars: int) -> "Polynomial":
        """``{monomial: coefficient}``; monomials are iterables of variable indices; zeros are dropped."""
        num_vars = int_at_least("num_vars", num_vars, 0)
        if not isinstance(coefficients, Mapping):
            raise ValueError(f"coefficients must be a mapping {{monomial: coefficient}}; got "
                             f"{type(coefficients).__name__}")
        acc: dict = {}
        for mono, c in coefficients.items():
            try:
                m = _check_monomial(mono, num_vars)
            except ValueError as err:
                raise ValueError(f"coefficients: {err}") from None
            acc[m] = acc.get(m, 0) + _check_coefficient(m, c)
        terms = tuple(sorted(((m, c) for m, c in acc.items() if c != 0), key=lambda t: (len(t[0]), t[0])))
        return cls(int(num_vars), terms)

    @property
    def degree(self) -> int:
        return max((len(m) for m, _ in self.terms), default=0)

    def as_dict(self) -> dict:
        return dict(self.terms)

    def coefficient_norm(self, ord: int | float = 1, include_constant: bool = True) -> float:
        r"""The :math:`\ell_{ord}` norm of the coefficient vector (``ord`` in {1, 2, inf})."""
        if isinstance(ord, (bool, np.bool_)) or not isinstance(ord, numbers.Real) or ord not in (1, 2, np.inf):
            raise ValueError(f"ord must be 1, 2 or inf; got {ord!r}")
        if not isinstance(include_constant, (bool, np.bool_)):
            raise ValueError(f"include_constant must be True or False; got {include_constant!r}")
        c = np.array([float(c) for m, c in self.terms if include_constant or m], dtype=float)
        if c.size == 0:
            return 0.0
        return float(np.linalg.norm(c, ord))

    def __call__(self, z, exact: bool = False):
        r"""Evaluate on the rows of ``z`` (shape ``(n, num_vars)``, entries ±1). Float64 by default;
        ``exact=True`` returns a list of ``Fraction`` (integer/Fraction coefficients)."""
        z = _cube_points("z", z, self.num_vars)
        if not isinstance(exact, (bool, np.bool_)):
            raise ValueError(f"exact must be True or False; got {exact!r}")
        check_memory(f"Polynomial evaluation on z with {z.shape[0]} points", 3 * 8 * z.size + (200 * z.shape[0] if exact else 0))
        return self._evaluate(z, bool(exact))

    def _evaluate(self, z: np.ndarray, exact: bool = False):
        """:meth:`__call__` on points already checked (``(n, num_vars)``, entries ±1)."""
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
    """±1 signs with ``sign(0) = +1`` (int8) of real ``values`` (NaN has no sign: refused)."""
    v = real_array("values", values, allow_inf=True)
    return np.where(v >= 0, 1, -1).astype(np.int8)


def all_points(k: int) -> np.ndarray:
    r"""All of :math:`\{\pm1\}^k`, shape ``(2**k, k)`` int8; row ``t`` has :math:`z_i=1-2\,\mathrm{bit}_i(t)`."""
    k = int_in("k (to enumerate {±1}^k)", k, 0, MAX_CUBE_DIMENSION)
    check_memory(f"all_points(k={k})", 2**k * k * 17)
    t = np.arange(2 ** k, dtype=np.int64)[:, None]
    bits = (t >> np.arange(k, dtype=np.int64)[None, :]) & 1
    return (1 - 2 * bits).astype(np.int8)


def monomials_up_to(num_vars: int, degree: int):
    """All multilinear monomials of degree <= ``degree`` in ``num_vars`` variables, by degree (an iterator;
    the arguments are checked when it is called)."""
    num_vars = int_at_least("num_vars", num_vars, 0)
    degree = int_at_least("degree", degree, 0)
    return _monomials(num_vars, degree)


def _monomials(num_vars: int, degree: int):
    for k in range(min(degree, num_vars) + 1):
        yield from itertools.combinations(range(num_vars), k)
