r"""The quantities of Assumption 6 (Paper A; arXiv alias Assumption 4.1) for a given grammar.

* (a) non-degeneracy: the smallest :math:`\kappa` with :math:`p_\mu\ge(\kappa|P_l|)^{-1}` for every
  level and patch, :math:`\kappa=\max_{l,\mu}1/(|P_l|p_\mu)` (:math:`\infty` if some :math:`p_\mu=0`);
* (b) nontrivial signal, eq. (5): the per-level gap
  :math:`\rho_l=\min_{\nu(\mu)\ne\nu(\mu')}\|q^{(l)}_\mu-q^{(l)}_{\mu'}\|` and the instance's
  :math:`K_\rho=\min_l \rho_l\,m^{l/2}`.

Exact (``Fraction``/sympy) for small grammars, float64 otherwise, from :mod:`verify.rhm.exact`.
"""
from __future__ import annotations

import dataclasses
from fractions import Fraction

import numpy as np
import sympy

from . import exact
from .grammar import Grammar


def _sym(x):
    return sympy.Rational(x.numerator, x.denominator) if isinstance(x, Fraction) else x


@dataclasses.dataclass(frozen=True)
class LevelGap:
    r"""Signal gap at one level: ``gap_sq`` = :math:`\rho_l^2` (exact or float), the parents of
    the closest non-synonym pair, and how many parents are unreachable (excluded)."""
    level: int
    gap_sq: object
    pair: tuple[int, int] | None
    unreachable: int

    @property
    def gap(self):
        """:math:`\\rho_l`, a sympy number in exact arithmetic, else a float."""
        return sympy.sqrt(_sym(self.gap_sq)) if isinstance(self.gap_sq, Fraction) else float(np.sqrt(self.gap_sq))


def signal_gap(grammar: Grammar, level: int, arithmetic: str = "auto") -> LevelGap:
    r"""Minimum distance :math:`\|q^{(l)}_\mu-q^{(l)}_{\mu'}\|` over non-synonym patches whose
    first-patch probability is positive (eq. 5)."""
    law = exact.conditional_q(grammar, level, arithmetic)
    idx = np.flatnonzero(law.reachable)
    q = law.q[idx]
    if len(idx) < 2:
        return LevelGap(level, None, None, int((~law.reachable).sum()))
    if law.arithmetic == "fraction":
        best, pair = None, None
        for a in range(len(idx)):
            diff = q[a + 1:] - q[a]
            d2 = (diff * diff).sum(axis=1)
            for b, val in enumerate(d2, start=a + 1):
                if best is None or val < best:
                    best, pair = val, (int(idx[a]), int(idx[b]))
        return LevelGap(level, Fraction(best), pair, int((~law.reachable).sum()))
    sq = (q * q).sum(1)
    d2 = np.maximum(sq[:, None] + sq[None, :] - 2 * q @ q.T, 0.0)
    np.fill_diagonal(d2, np.inf)
    a, b = np.unravel_index(np.argmin(d2), d2.shape)
    # recompute the argmin pair directly: the Gram form loses precision for nearly equal rows
    exact_d2 = float(((q[a] - q[b]) ** 2).sum())
    return LevelGap(level, exact_d2, (int(idx[a]), int(idx[b])), int((~law.reachable).sum()))


def signal_gaps(grammar: Grammar, arithmetic: str = "auto") -> list[LevelGap]:
    """:func:`signal_gap` at every level :math:`l=1..L`."""
    return [signal_gap(grammar, l, arithmetic) for l in range(1, grammar.num_layers + 1)]


def instance_k_rho(gaps: list[LevelGap], num_synonyms: int):
    r""":math:`K_\rho=\min_l\rho_l m^{l/2}` (0 if some level has a zero gap or fewer than two
    reachable parents)."""
    vals = []
    for g in gaps:
        if g.gap_sq is None:
            return 0
        vals.append(g.gap * sympy.sqrt(num_synonyms) ** g.level if isinstance(g.gap_sq, Fraction)
                    else g.gap * num_synonyms ** (g.level / 2))
    return min(vals, key=float)


def prop19_bound(num_synonyms: int, level: int):
    r"""Proposition 19's per-level gap :math:`(20m)^{-(l-1)/2}`, exact (sympy)."""
    return (20 * sympy.Integer(num_synonyms)) ** (-sympy.Rational(level - 1, 2))


def kappa(grammar: Grammar, arithmetic: str = "auto"):
    r"""Smallest :math:`\kappa` of Assumption 6(a): :math:`\max_{l,\mu}1/(|P_l|p_\mu)`; ``sympy.oo``
    if some patch is never first (:math:`p_\mu=0`). Also returns, per level, the minimum of
    :math:`|P_l|p_\mu` (exact or float)."""
    per_level = []
    for l in range(1, grammar.num_layers + 1):
        p = exact.p_first_patch(grammar, l, arithmetic)
        per_level.append(min(p) * grammar.num_patches(l))
    worst = min(per_level)
    if worst == 0:
        return sympy.oo, per_level
    return (1 / _sym(worst) if isinstance(worst, Fraction) else 1.0 / float(worst)), per_level
