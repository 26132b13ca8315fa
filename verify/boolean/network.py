r"""The quadratic network of eq. (14) (Paper A, Appendix C, p. 42) that represents a deep quadratic
Boolean function level by level.

Quadratic feature map :math:`\Phi_D:\mathbb R^D\to\mathbb R^{D(D-1)/2}`,
:math:`\Phi_D(x)=(x_ix_j)_{1\le i<j\le D}` (:func:`pair_features`; entries in lexicographic order of
:math:`(i,j)`, :func:`pair_index`). First layer: :math:`y^{(1)}:=(\langle e_S,\Phi_d(x)\rangle)_{S\in\mathcal
S_2}` and :math:`f^{(1)}:=\sum_{S\in\mathcal S_2}\hat f_Sy^{(1)}_S` (the print writes :math:`\mathcal S_1`;
by Definition 31's indexing level :math:`l` holds degree :math:`2^l`). **Eq. (14)**, for :math:`l\ge2`:

.. math:: x^{(l)}:=y^{(l-1)},\qquad
          y^{(l)}:=\big(\langle e_{S_1S_2},\Phi_{|\mathcal S_{2^{l-1}}|}(x^{(l)})\rangle\big)_{S=S_1\cup S_2\in
          \mathcal S_{2^l}},\qquad f^{(l)}:=\sum_{S\in\mathcal S_{2^l}}\hat f_Sy^{(l)}_S,

with :math:`e_{S_1S_2}` the one-hot vector of the entry :math:`(S_1,S_2)` of
:math:`\Phi_{|\mathcal S_{2^{l-1}}|}` (:meth:`Level.selection_matrix`); the print's
":math:`S_1\cup S_2\in|\mathcal S_{2^l}|`" has stray bars and its text ":math:`\Phi_{|\mathcal S_{l-1}|}`"
mixes level and degree. The paper's claim: by induction :math:`y^{(l)}_S=\chi_S(x)`, so
:math:`f^{(l)}` is the degree-:math:`2^l` part of :math:`f` and :math:`f=\sum_{l=1}^{\log d}f^{(l)}`.
"""
from __future__ import annotations

import dataclasses
import math

import numpy as np

from verify.validate import int_at_least

from .deep_quadratic import (DeepQuadratic, canonical_key, check_inputs, combine, is_power_of_two,
                             sets_by_degree, validate_definition_31, zeros)


def num_pairs(D: int) -> int:
    """:math:`D(D-1)/2`, the width of :math:`\\Phi_D`."""
    D = int_at_least("D", D, 0)
    return D * (D - 1) // 2


def pair_features(x) -> np.ndarray:
    r""":math:`\Phi_D(x)=(x_ix_j)_{1\le i<j\le D}` along the last axis of ``x`` (``(..., D)`` ->
    ``(..., D(D-1)/2)``), entries in lexicographic order of :math:`(i,j)` (:func:`pair_index`); the
    dtype of ``x`` is kept (``int8`` ±1 inputs give ``int8`` ±1 features)."""
    a = np.asarray(x)
    if a.ndim < 1:
        raise ValueError(f"x must have at least one axis (..., D); got shape {a.shape}")
    i, j = np.triu_indices(a.shape[-1], k=1)
    return a[..., i] * a[..., j]


def pair_index(i: int, j: int, D: int) -> int:
    r"""The position of :math:`x_ix_j` in :math:`\Phi_D(x)` for 0-based :math:`0\le i<j<D`:
    :math:`iD-i(i+1)/2+(j-i-1)`."""
    D = int_at_least("D", D, 2)
    i = int_at_least("i", i, 0)
    j = int_at_least("j", j, 0)
    if not i < j < D:
        raise ValueError(f"pair_index needs 0 <= i < j < D = {D}; got i={i}, j={j}")
    return i * D - i * (i + 1) // 2 + (j - i - 1)


@dataclasses.dataclass(frozen=True)
class Level:
    r"""Level :math:`l` of the network: ``inputs`` are the monomials carried by :math:`x^{(l)}` (level 1:
    the singletons :math:`\{1\},\dots,\{d\}`), ``outputs`` the monomials :math:`S\in\mathcal S_{2^l}` of
    :math:`y^{(l)}`, ``pairs[k]`` the 0-based input positions :math:`(a,b)`, :math:`a<b`, of the split
    :math:`(S_1,S_2)` of ``outputs[k]``, ``coefficients[k]`` its :math:`\hat f_S`."""
    level: int
    inputs: tuple
    outputs: tuple
    pairs: tuple
    coefficients: tuple

    @property
    def width(self) -> int:
        """:math:`D`, the number of coordinates of :math:`x^{(l)}`."""
        return len(self.inputs)

    def feature_positions(self) -> list:
        r"""The position in :math:`\Phi_D` of each output's pair (the hot entry of :math:`e_{S_1S_2}`)."""
        return [pair_index(a, b, self.width) for a, b in self.pairs]

    def selection_matrix(self) -> np.ndarray:
        r"""The matrix with columns :math:`e_{S_1S_2}`, ``(D(D-1)/2, |outputs|)``:
        :math:`y^{(l)}=\Phi_D(x^{(l)})\,E`."""
        E = np.zeros((num_pairs(self.width), len(self.outputs)), dtype=np.int64)
        for k, pos in enumerate(self.feature_positions()):
            E[pos, k] = 1
        return E


@dataclasses.dataclass(frozen=True)
class LevelOutput:
    """What level :math:`l` computes on a batch: its input :math:`x^{(l)}` and :math:`y^{(l)}` (±1,
    ``int8``) and :math:`f^{(l)}` (:class:`~verify.boolean.deep_quadratic.Rationals` when the
    coefficients are rational, else float64)."""
    level: int
    x: np.ndarray
    y: np.ndarray
    f: object


@dataclasses.dataclass(frozen=True)
class QuadraticNetwork:
    r"""The network of eq. (14): ``levels[l-1]`` is level :math:`l`. ``unrepresented`` lists the
    monomials of :math:`f` the construction could not route (empty when :math:`f` is deep quadratic)."""
    d: int
    levels: tuple
    exact: bool
    unrepresented: tuple = ()

    def forward(self, x) -> list:
        r"""Every level on the ±1 inputs ``x`` (``(n, d)``): :math:`x^{(1)}=x`, :math:`y^{(l)}=
        (\langle e_{S_1S_2},\Phi(x^{(l)})\rangle)_S`, :math:`f^{(l)}=\sum_S\hat f_Sy^{(l)}_S`,
        :math:`x^{(l+1)}=y^{(l)}` (:class:`LevelOutput` per level)."""
        xl = check_inputs(x, self.d).astype(np.int8)
        out = []
        for lev in self.levels:
            phi = pair_features(xl)
            y = phi[:, lev.feature_positions()]
            f = combine(y, lev.coefficients, self.exact)
            out.append(LevelOutput(lev.level, xl, y, f))
            xl = y
        return out

    def __call__(self, x):
        r""":math:`\sum_lf^{(l)}(x)`."""
        outs = self.forward(x)
        n = check_inputs(x, self.d).shape[0]
        total = zeros(n) if self.exact else np.zeros(n)
        for o in outs:
            total = total + o.f
        return total


def represent(f: DeepQuadratic, strict: bool = True) -> QuadraticNetwork:
    r"""The network of eq. (14) for ``f``: level :math:`l` routes each :math:`S\in\mathcal S_{2^l}` through
    the pair :math:`(S_1,S_2)` of level-:math:`(l-1)` outputs with :math:`S=S_1\cup S_2` (Remark 32's
    split; level 1: the input pair :math:`x_ix_j`).

    ``strict=True`` (default) refuses an ``f`` that violates Definition 31 (ValueError naming the
    violations). ``strict=False`` builds the construction anyway, for negative controls: a monomial of
    a degree that is not :math:`2^k`, or with no split among the previous level's outputs, is not
    routed (listed in ``unrepresented``), and a monomial with several splits takes the first."""
    if not isinstance(f, DeepQuadratic):
        raise ValueError(f"f must be a DeepQuadratic; got {type(f).__name__}")
    if strict:
        report = validate_definition_31(f)
        if not report["holds"]:
            show = {k: [sorted(map(sorted, v)) if isinstance(v, tuple) else sorted(v) for v in report[k]][:4]
                    for k in "abc"}
            raise ValueError(f"f is not a deep quadratic Boolean function (Definition 31 fails: {show}); "
                             "pass strict=False to build the construction anyway")
    by_degree = sets_by_degree(f.support)
    unrepresented = [S for q, sets in by_degree.items() if not (is_power_of_two(q) and q >= 2) for S in sets]
    top = max((int(math.log2(q)) for q in by_degree if is_power_of_two(q) and q >= 2), default=0)
    inputs = tuple(frozenset({i}) for i in range(1, f.d + 1))
    levels = []
    for l in range(1, top + 1):
        position = {S: k for k, S in enumerate(inputs)}
        outputs, pairs, coefs = [], [], []
        for S in by_degree.get(2 ** l, ()):
            halves = [A for A in inputs if A <= S and (S - A) in position and canonical_key(A) < canonical_key(S - A)]
            if not halves:
                unrepresented.append(S)
                continue
            a, b = sorted((position[halves[0]], position[S - halves[0]]))
            outputs.append(S)
            pairs.append((a, b))
            coefs.append(f.coefficients[S])
        levels.append(Level(l, inputs, tuple(outputs), tuple(pairs), tuple(coefs)))
        inputs = tuple(outputs)
    return QuadraticNetwork(f.d, tuple(levels), f.is_exact, tuple(sorted(unrepresented, key=canonical_key)))
