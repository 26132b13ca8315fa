r"""Deep quadratic Boolean functions (Paper A, Appendix C, Definition 31 and Remark 32, p. 41).

A function :math:`f:\{\pm1\}^d\to\mathbb R` is given by its Fourier expansion

.. math:: f=\sum_{S\subset[d]}\hat f_S\chi_S,\qquad \chi_S(x)=\prod_{i\in S}x_i,\qquad
          \hat f_S=\mathbb E_{x\sim\mathrm{Unif}(\{\pm1\}^d)}[f(x)\chi_S(x)],

stored as :class:`DeepQuadratic` ``(d, coefficients)``: a mapping from monomials :math:`S` (a
``frozenset`` of variable indices **1..d**, as in the paper's :math:`[d]`) to :math:`\hat f_S`
(``Fraction``/``int`` for exact arithmetic, or ``float``). Zero coefficients are dropped, so the keys
are :math:`\mathrm{supp}\hat f`. The constructor does **not** enforce Definition 31 (negative
controls need functions outside the class); :func:`validate_definition_31` checks it.

**Definition 31** (p. 41). With :math:`\mathcal S_q:=\{S\subset[d]:|S|=q,\hat f_S\ne0\}`, :math:`f` is a
*deep quadratic Boolean function* if

(a) :math:`\mathcal S_q\ne\varnothing` only if :math:`q=2^k` for some :math:`k\in\mathbb N_{>0}`;
(b) for every :math:`q`, the elements of :math:`\mathcal S_q` are pairwise disjoint;
(c) every :math:`S\in\mathcal S_q` with :math:`q>2` is :math:`S_1\cup S_2` for some
    :math:`S_1,S_2\in\mathcal S_{q/2}` (the print's :math:`\mathcal S_{f,q/2}` has a stray :math:`f`).

**Remark 32** (p. 41). By (b) the decomposition in (c) is unique (:func:`split`), and the support has
size :math:`O(d)`; explicitly :math:`|\mathcal S_{2^k}|\le d/2^k` (disjoint sets of size :math:`2^k`),
hence :math:`|\mathrm{supp}\hat f|\le d(1/2+1/4+\dots)<d` -- the remark's reasoning ("going up one
level halves the number of possible terms") made explicit.

The level of a monomial is :math:`l=\log_2|S|`: level :math:`l` holds :math:`\mathcal S_{2^l}`.
"""
from __future__ import annotations

import dataclasses
import itertools
import math
import numbers
from fractions import Fraction
from typing import Iterable, Mapping

import numpy as np
import torch

from verify.validate import generator as _check_generator
from verify.validate import int_at_least

MAX_ENUMERATION_D = 20
"""Largest :math:`d` for which :func:`all_inputs` enumerates :math:`\\{\\pm1\\}^d` (:math:`2^{20}` rows)."""

COEFFICIENT_GRID = 8
"""The sampler draws :math:`|\\hat f_S|` from ``COEFFICIENT_GRID + 1`` equally spaced values in
:math:`[c, C]` (exact rationals)."""


def canonical_key(S) -> tuple:
    """Sort key of a monomial: by degree, then by its sorted indices."""
    return (len(S), tuple(sorted(S)))


def _as_monomial(name: str, S, d: int | None = None) -> frozenset:
    try:
        items = list(S)
    except TypeError:
        raise ValueError(f"{name} must be a set of variable indices; got {S!r}") from None
    for i in items:
        if isinstance(i, bool) or not isinstance(i, numbers.Integral):
            raise ValueError(f"{name} must hold integer variable indices in [1, d]; got {S!r}")
        if i < 1 or (d is not None and i > d):
            hi = "d" if d is None else str(d)
            raise ValueError(f"{name} must hold variable indices in [1, {hi}]; got {sorted(items)}")
    if len(set(items)) != len(items):
        raise ValueError(f"{name} must not repeat a variable index; got {items!r}")
    return frozenset(int(i) for i in items)


def _as_coefficient(name: str, value):
    if isinstance(value, bool):
        raise ValueError(f"{name} must be a finite real number (int, Fraction or float); got {value!r}")
    if isinstance(value, (Fraction, numbers.Integral)):
        return Fraction(value)
    if isinstance(value, numbers.Real) and math.isfinite(value):
        return float(value)
    raise ValueError(f"{name} must be a finite real number (int, Fraction or float); got {value!r}")


def as_fraction(name: str, value) -> Fraction:
    """``value`` as an exact ``Fraction``: ints and Fractions as they are, a float through its shortest
    decimal ``repr`` (``0.1`` -> ``1/10``); a ValueError naming ``name`` otherwise."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a finite real number; got {value!r}")
    if isinstance(value, (Fraction, numbers.Integral)):
        return Fraction(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be a finite real number; got {value!r}")
    return Fraction(repr(float(value)))


@dataclasses.dataclass(frozen=True, eq=False)
class DeepQuadratic:
    r"""A Fourier expansion :math:`f=\sum_S\hat f_S\chi_S` on :math:`\{\pm1\}^d` (variables 1..d).

    ``coefficients`` maps monomials (iterables of indices in [1, d]) to :math:`\hat f_S`; zeros are
    dropped. Definition 31 is not enforced here (:func:`validate_definition_31`)."""
    d: int
    coefficients: Mapping

    def __post_init__(self):
        d = int_at_least("d", self.d, 1)
        if not isinstance(self.coefficients, Mapping):
            raise ValueError(f"coefficients must be a mapping monomial -> coefficient; got "
                             f"{type(self.coefficients).__name__}")
        coef = {}
        for S, value in self.coefficients.items():
            key = _as_monomial("a monomial of coefficients", S, d)
            if key in coef:
                raise ValueError(f"coefficients lists monomial {sorted(key)} twice")
            v = _as_coefficient(f"coefficient of {sorted(key)}", value)
            if v != 0:
                coef[key] = v
        object.__setattr__(self, "d", d)
        object.__setattr__(self, "coefficients", {S: coef[S] for S in sorted(coef, key=canonical_key)})

    def __eq__(self, other):
        return isinstance(other, DeepQuadratic) and self.d == other.d and self.coefficients == other.coefficients

    def __repr__(self):
        terms = " + ".join(f"{v}*x{{{','.join(map(str, sorted(S)))}}}" for S, v in self.coefficients.items())
        return f"DeepQuadratic(d={self.d}: {terms or '0'})"

    @property
    def support(self) -> tuple:
        r""":math:`\mathrm{supp}\hat f`, sorted by degree then indices."""
        return tuple(self.coefficients)

    @property
    def is_exact(self) -> bool:
        """All coefficients are rationals (exact arithmetic)."""
        return all(isinstance(v, Fraction) for v in self.coefficients.values())

    @property
    def min_coefficient(self):
        r""":math:`\min_S|\hat f_S|` over the support (``None`` for the zero function)."""
        return min((abs(v) for v in self.coefficients.values()), default=None)

    def degree_sets(self) -> dict:
        r""":math:`q\mapsto\mathcal S_q` for every degree :math:`q` present (sorted lists)."""
        return sets_by_degree(self.support)

    def level_sets(self, level: int) -> tuple:
        r""":math:`\mathcal S_{2^l}` for ``level`` :math:`l\ge1`."""
        level = int_at_least("level", level, 1)
        return tuple(S for S in self.support if len(S) == 2 ** level)

    @property
    def depth(self) -> int:
        r"""The largest :math:`l` with :math:`\mathcal S_{2^l}\ne\varnothing` (0 if none)."""
        return max((int(math.log2(len(S))) for S in self.support if is_power_of_two(len(S)) and len(S) > 1),
                   default=0)

    def degree_part(self, q: int) -> "DeepQuadratic":
        """The degree-``q`` part :math:`\\sum_{S\\in\\mathcal S_q}\\hat f_S\\chi_S`."""
        q = int_at_least("q", q, 0)
        return DeepQuadratic(self.d, {S: v for S, v in self.coefficients.items() if len(S) == q})

    def as_float(self) -> "DeepQuadratic":
        """The same expansion with float64 coefficients."""
        return DeepQuadratic(self.d, {S: float(v) for S, v in self.coefficients.items()})


def is_power_of_two(q: int) -> bool:
    return q >= 1 and q & (q - 1) == 0


def sets_by_degree(support: Iterable) -> dict:
    r""":math:`q\mapsto\mathcal S_q` (each sorted) for the monomials of ``support``."""
    out: dict = {}
    for S in sorted({frozenset(S) for S in support}, key=canonical_key):
        out.setdefault(len(S), []).append(S)
    return dict(sorted(out.items()))


def _support_of(support) -> list:
    if isinstance(support, DeepQuadratic):
        return list(support.support)
    if isinstance(support, Mapping):
        return [_as_monomial("a monomial of support", S) for S, v in support.items() if v != 0]
    try:
        items = list(support)
    except TypeError:
        raise ValueError(f"support must be a DeepQuadratic, a mapping or an iterable of monomials; got "
                         f"{type(support).__name__}") from None
    out = [_as_monomial("a monomial of support", S) for S in items]
    if len(set(out)) != len(out):
        raise ValueError("support lists a monomial twice")
    return out


# -- Definition 31 -----------------------------------------------------------------------------------
def validate_definition_31(support) -> dict:
    r"""Check Definition 31 (a)-(c) on a Fourier support (a :class:`DeepQuadratic`, a mapping with
    nonzero values, or an iterable of monomials).

    Returns ``{"a": [...], "b": [...], "c": [...], "violations": int, "holds": bool}``: the sets of
    a degree that is not :math:`2^k`, :math:`k\ge1` (a); the pairs of distinct overlapping sets of one
    degree (b); the sets of degree :math:`q>2` that are not :math:`S_1\cup S_2` with
    :math:`S_1,S_2\in\mathcal S_{q/2}` (c; an odd :math:`q>2` has no :math:`\mathcal S_{q/2}`, so it
    violates (c) too). ``violations`` counts the entries of the three lists."""
    by_degree = sets_by_degree(_support_of(support))
    bad_a = [S for q, sets in by_degree.items() for S in sets if not (is_power_of_two(q) and q >= 2)]
    bad_b = [(S, T) for sets in by_degree.values() for S, T in itertools.combinations(sets, 2) if S & T]
    bad_c = [S for q, sets in by_degree.items() if q > 2 for S in sets if not splits(by_degree, S, _trusted=True)]
    return {"a": bad_a, "b": bad_b, "c": bad_c, "violations": len(bad_a) + len(bad_b) + len(bad_c),
            "holds": not (bad_a or bad_b or bad_c)}


def is_deep_quadratic(support) -> bool:
    """Definition 31 (a)-(c) hold."""
    return validate_definition_31(support)["holds"]


# -- Remark 32 ---------------------------------------------------------------------------------------
def splits(support, S, *, _trusted: bool = False) -> list:
    r"""Every unordered :math:`\{S_1,S_2\}` with :math:`S_1,S_2\in\mathcal S_{|S|/2}` and
    :math:`S_1\cup S_2=S` (as pairs ordered by :func:`canonical_key`); for :math:`|S|=2` the two
    singletons (the input coordinates :math:`x_i,x_j` that :math:`\Phi_d` multiplies).

    ``support``: a :class:`DeepQuadratic`, a mapping, an iterable of monomials, or (internally) the
    degree -> sets mapping of :func:`sets_by_degree`."""
    by_degree = support if _trusted else sets_by_degree(_support_of(support))
    S = _as_monomial("S", S)
    q = len(S)
    if q == 2:
        i, j = sorted(S)
        return [(frozenset({i}), frozenset({j}))]
    if q < 2 or q % 2:
        return []
    halves = set(by_degree.get(q // 2, ()))
    out = []
    for A in sorted(halves, key=canonical_key):
        if A <= S:
            B = S - A
            if B in halves and canonical_key(A) < canonical_key(B):
                out.append((A, B))
    return out


def split(support, S) -> tuple:
    r"""The unique :math:`(S_1,S_2)` of Remark 32 with :math:`S=S_1\cup S_2`,
    :math:`S_1,S_2\in\mathcal S_{|S|/2}` (ordered by :func:`canonical_key`); for :math:`|S|=2`, the two
    singletons. A ValueError if ``S`` is not in the support, or has no split or more than one (then
    Definition 31 (b) or (c) fails)."""
    sup = _support_of(support)
    S = _as_monomial("S", S)
    if S not in set(sup):
        raise ValueError(f"S = {sorted(S)} is not in the support")
    found = splits(sets_by_degree(sup), S, _trusted=True)
    if len(found) != 1:
        raise ValueError(f"S = {sorted(S)} has {len(found)} splits into two sets of the support of degree "
                         f"{len(S) // 2} (Remark 32 needs exactly one; Definition 31 (b)/(c) fails)")
    return found[0]


def level_counts(support) -> dict:
    r""":math:`k\mapsto|\mathcal S_{2^k}|` for the levels present."""
    return {int(math.log2(q)): len(sets) for q, sets in sets_by_degree(_support_of(support)).items()
            if is_power_of_two(q) and q >= 2}


# -- evaluation --------------------------------------------------------------------------------------
def all_inputs(d: int) -> np.ndarray:
    r"""Every point of :math:`\{\pm1\}^d` as an ``int8`` array ``(2^d, d)``; row ``t`` has
    :math:`x_i=1-2\,\mathrm{bit}_{i-1}(t)` (column ``i-1`` is :math:`x_i`)."""
    d = int_at_least("d", d, 1)
    if d > MAX_ENUMERATION_D:
        raise ValueError(f"d must be an integer in [1, {MAX_ENUMERATION_D}] to enumerate {{±1}}^d; got {d}")
    t = np.arange(2 ** d, dtype=np.int64)[:, None]
    return (1 - 2 * ((t >> np.arange(d)) & 1)).astype(np.int8)


def check_inputs(x, d: int) -> np.ndarray:
    """``x`` as an integer array ``(n, d)`` of ±1 (a single point ``(d,)`` is accepted as ``(1, d)``)."""
    a = np.asarray(x.cpu().numpy() if isinstance(x, torch.Tensor) else x)
    if a.ndim == 1:
        a = a[None, :]
    if a.ndim != 2 or a.shape[1] != d:
        raise ValueError(f"x must have shape (n, d) = (n, {d}) or ({d},); got {a.shape}")
    if a.dtype.kind not in "iuf" or not np.isin(a, (-1, 1)).all():
        raise ValueError("x must hold only the values -1 and +1")
    return a.astype(np.int64)


def monomial(x: np.ndarray, S) -> np.ndarray:
    r""":math:`\chi_S(x)=\prod_{i\in S}x_i` for every row of the ±1 array ``x`` (int64; 1 for
    :math:`S=\varnothing`)."""
    a = np.asarray(x)
    S = _as_monomial("S", S, a.shape[-1])
    if not S:
        return np.ones(a.shape[:-1], dtype=np.int64)
    return np.prod(a[..., [i - 1 for i in sorted(S)]].astype(np.int64), axis=-1)


def common_denominator(values: Iterable) -> int:
    """The least common multiple of the denominators of rational ``values``."""
    den = 1
    for v in values:
        den = math.lcm(den, Fraction(v).denominator)
    return den


@dataclasses.dataclass(frozen=True, eq=False)
class Rationals:
    r"""An exact array of rationals: integer ``numerators`` (int64, or Python ints in an object array
    when int64 could overflow) over one positive ``denominator``. What :func:`evaluate` and the
    network return for rational coefficients (no per-entry ``Fraction`` objects, so :math:`2^{16}`
    points stay fast)."""
    numerators: np.ndarray
    denominator: int

    def __post_init__(self):
        if int(self.denominator) < 1:
            raise ValueError(f"denominator must be an integer >= 1; got {self.denominator!r}")

    def __len__(self):
        return len(self.numerators)

    def __getitem__(self, i) -> Fraction:
        return Fraction(int(self.numerators[i]), self.denominator)

    def tolist(self) -> list:
        """The entries as ``Fraction``."""
        return [Fraction(int(v), self.denominator) for v in self.numerators]

    def at(self, denominator: int) -> np.ndarray:
        """The numerators over ``denominator`` (a multiple of this one)."""
        if denominator % self.denominator:
            raise ValueError(f"denominator {denominator} is not a multiple of {self.denominator}")
        return self.numerators * (denominator // self.denominator)

    def _binary(self, other, sign: int) -> "Rationals":
        if not isinstance(other, Rationals):
            return NotImplemented
        if len(other) != len(self):
            raise ValueError(f"length mismatch: {len(self)} and {len(other)}")
        den = math.lcm(self.denominator, other.denominator)
        return Rationals(_safe_int(self.at(den)) + sign * _safe_int(other.at(den)), den)

    def __add__(self, other):
        return self._binary(other, 1)

    def __sub__(self, other):
        return self._binary(other, -1)

    def max_abs(self) -> Fraction:
        r""":math:`\max_i|v_i|` (0 for an empty array)."""
        if not len(self):
            return Fraction(0)
        return Fraction(int(np.abs(self.numerators).max()), self.denominator)

    def as_float(self) -> np.ndarray:
        return np.array([float(v) for v in self.tolist()]) if self.numerators.dtype == object else \
            self.numerators.astype(np.float64) / self.denominator


def _safe_int(a: np.ndarray) -> np.ndarray:
    """int64 while far from overflow, Python integers (object) otherwise."""
    if a.dtype != object and (not a.size or float(np.abs(a).max()) < 2.0 ** 61):
        return a
    return a.astype(object)


def zeros(n: int) -> Rationals:
    return Rationals(np.zeros(n, dtype=np.int64), 1)


def combine(chis: np.ndarray, coefficients, exact: bool):
    r""":math:`\sum_kc_k\,\chi_k(x)` for the integer columns ``chis`` ``(n, K)``: :class:`Rationals`
    (exact: integer numerators over the coefficients' common denominator) or float64."""
    chis = np.asarray(chis).reshape(np.shape(chis)[0], -1)
    coefficients = list(coefficients)
    if not exact:
        return chis.astype(np.float64) @ np.array([float(c) for c in coefficients], dtype=np.float64)
    den = common_denominator(coefficients)
    nums = [int(Fraction(c) * den) for c in coefficients]
    if not nums:
        return zeros(chis.shape[0])
    if sum(abs(c) for c in nums) < 2 ** 52:  # |entries| <= sum |nums|: exact in float64 BLAS
        acc = np.rint(chis.astype(np.float64) @ np.array(nums, dtype=np.float64)).astype(np.int64)
    else:
        acc = chis.astype(object) @ np.array(nums, dtype=object)
    return Rationals(acc, den)


def evaluate(f: DeepQuadratic, x, exact: bool | None = None):
    r""":math:`f(x)=\sum_S\hat f_S\chi_S(x)` on ±1 inputs ``x`` (``(n, d)`` or ``(d,)``).

    ``exact=None``: exact (:class:`Rationals`) when every coefficient is rational, else float64;
    ``exact=False`` forces float64. Returns ``n`` values."""
    if not isinstance(f, DeepQuadratic):
        raise ValueError(f"f must be a DeepQuadratic; got {type(f).__name__}")
    a = check_inputs(x, f.d)
    if exact is None:
        exact = f.is_exact
    elif exact and not f.is_exact:
        raise ValueError("exact=True needs rational coefficients (Fraction or int)")
    if not f.coefficients:
        return zeros(a.shape[0]) if exact else np.zeros(a.shape[0])
    chis = np.stack([monomial(a, S) for S in f.support], axis=1)
    return combine(chis, f.coefficients.values(), exact)


# -- the class sampler -------------------------------------------------------------------------------
def _random_matching(nodes: list, merges: int, generator: torch.Generator) -> list:
    """``merges`` disjoint pairs of distinct ``nodes``, chosen uniformly: a random permutation, paired
    off consecutively."""
    perm = torch.randperm(len(nodes), generator=generator).tolist()
    return [(nodes[perm[2 * k]], nodes[perm[2 * k + 1]]) for k in range(merges)]


def _uniform_int(lo: int, hi: int, generator: torch.Generator) -> int:
    return int(torch.randint(lo, hi + 1, (1,), generator=generator))


def sample_deep_quadratic(d: int, depth: int, generator: torch.Generator, min_coefficient=Fraction(1, 2),
                          max_coefficient=1) -> DeepQuadratic:
    r"""A random deep quadratic Boolean function of depth ``depth`` on :math:`\{\pm1\}^d` (the package's
    sampler of Definition 31's class; the paper gives none).

    A random forest: :math:`n_1` disjoint leaf pairs of a random permutation of :math:`[d]`, then at
    each level :math:`l\ge2`, :math:`n_l` merges of disjoint level-:math:`(l-1)` nodes (a uniform
    random matching), with :math:`n_l` uniform in :math:`[2^{\text{depth}-l},\lfloor n_{l-1}/2\rfloor]`
    (:math:`n_1` in :math:`[2^{\text{depth}-1},\lfloor d/2\rfloor]`) so that level ``depth`` is
    reached. Every node gets :math:`\hat f_S=\pm|\hat f_S|` with a fair sign and :math:`|\hat f_S|`
    uniform on ``COEFFICIENT_GRID + 1`` equally spaced rationals in
    :math:`[c,C]` = ``[min_coefficient, max_coefficient]``: :math:`|\hat f_S|\ge c>0`; no constant or
    degree-1 term. Needs :math:`2^{\text{depth}}\le d`."""
    d = int_at_least("d", d, 2)
    depth = int_at_least("depth", depth, 1)
    if 2 ** depth > d:
        raise ValueError(f"depth must be an integer in [1, floor(log2 d)] = [1, {int(math.log2(d))}] for d = {d}; "
                         f"got {depth}")
    _check_generator("generator", generator)
    C = as_fraction("max_coefficient", max_coefficient)
    if C <= 0:
        raise ValueError(f"max_coefficient must be a finite real number > 0; got {max_coefficient!r}")
    c = as_fraction("min_coefficient", min_coefficient)
    if not 0 < c <= C:
        raise ValueError(f"min_coefficient must be a finite real number in (0, max_coefficient] = (0, {C}]; "
                         f"got {min_coefficient!r}")
    perm = [i + 1 for i in torch.randperm(d, generator=generator).tolist()]
    n1 = _uniform_int(2 ** (depth - 1), d // 2, generator)
    nodes = [frozenset(perm[2 * k:2 * k + 2]) for k in range(n1)]
    forest = list(nodes)
    for level in range(2, depth + 1):
        merges = _uniform_int(2 ** (depth - level), len(nodes) // 2, generator)
        nodes = [A | B for A, B in _random_matching(nodes, merges, generator)]
        forest += nodes
    K = COEFFICIENT_GRID
    ks = torch.randint(0, K + 1, (len(forest),), generator=generator).tolist()
    signs = torch.randint(0, 2, (len(forest),), generator=generator).tolist()
    coef = {S: (1 - 2 * s) * (c + (C - c) * Fraction(k, K)) for S, k, s in zip(forest, ks, signs)}
    return DeepQuadratic(d, coef)


def figure3_example() -> DeepQuadratic:
    r"""Figure 3's :math:`f` on :math:`d=12` (p. 41), all coefficients 1:
    :math:`x_1\cdots x_8+x_9\cdots x_{12}+x_1\cdots x_4+x_5\cdots x_8+x_1x_2+x_3x_4+x_5x_6+x_7x_8
    +x_9x_{10}+x_{11}x_{12}`. The caption's "+x_1x_2+\cdots x_7x_8" leaves :math:`x_9x_{10},x_{11}x_{12}`
    ambiguous; the figure draws them as nodes (and Definition 31 (c) needs them for
    :math:`x_9\cdots x_{12}`), so they are included."""
    sets = [range(1, 9), range(9, 13), range(1, 5), range(5, 9)] + [(i, i + 1) for i in range(1, 13, 2)]
    return DeepQuadratic(12, {frozenset(S): 1 for S in sets})


def text_example() -> DeepQuadratic:
    r"""The example in the text of p. 41: :math:`f=x_1x_2+x_3x_4+(x_1x_2)(x_3x_4)+x_5x_6` on :math:`d=6`."""
    return DeepQuadratic(6, {frozenset({1, 2}): 1, frozenset({3, 4}): 1, frozenset({1, 2, 3, 4}): 1,
                             frozenset({5, 6}): 1})


def from_params(params) -> list[DeepQuadratic]:
    r"""The functions a claim case names (as :func:`verify.rhm.grammar_from_params` does for grammars):
    ``kind`` ``"figure3"`` or ``"text"`` (the paper's two examples); ``"support"`` with ``d`` and ``support``, a list
    of sets (coefficient 1) or of ``(set, coefficient)`` pairs; ``"sampled"`` with ``d``, ``depth``, ``seed`` (one
    :func:`sample_deep_quadratic`), or with ``d_values``, ``per_shape``, ``seed`` and optional ``c``
    (``min_coefficient``): ``per_shape`` samples of every depth :math:`1..\log_2d` at every :math:`d`."""
    kind = params.get("kind", "sampled")
    if kind == "figure3":
        return [figure3_example()]
    if kind == "text":
        return [text_example()]
    if kind == "support":
        coef = {}
        for entry in params["support"]:
            pair = len(entry) == 2 and isinstance(entry[0], (list, tuple, set, frozenset))
            S, c = (entry[0], Fraction(entry[1])) if pair else (entry, 1)
            coef[frozenset(S)] = c
        return [DeepQuadratic(params["d"], coef)]
    if kind == "sampled" and "d_values" not in params:
        g = torch.Generator().manual_seed(params["seed"])
        return [sample_deep_quadratic(params["d"], params["depth"], g)]
    if kind == "sampled":
        c = params.get("c", Fraction(1, 2))
        out = []
        for d in params["d_values"]:
            for depth in range(1, int(math.log2(d)) + 1):
                for s in range(params["per_shape"]):
                    g = torch.Generator().manual_seed(params["seed"] * 1_000_003 + d * 101 + depth * 7 + s)
                    out.append(sample_deep_quadratic(d, depth, g, min_coefficient=c))
        return out
    raise ValueError(f"kind must be one of 'figure3', 'text', 'support', 'sampled'; got {kind!r}")
