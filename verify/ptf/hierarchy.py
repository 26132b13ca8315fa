r"""Hierarchies of polynomial threshold functions on :math:`\{\pm1\}^d` (Paper B, Def. 3.1 as reconstructed).

**Which form.** Paper B's Def. 3.1 was not seen (``papers/ptf.md`` §1). What the sources say:
the labels form a nested hierarchy :math:`L_1\subseteq L_2\subseteq\dots\subseteq L_r=[n]`, "labels in
:math:`L_1` are simple functions of the input, while for :math:`i>1`, labels in :math:`L_i` are simple
functions of simpler labels" (abstract); "simple" means a polynomial threshold function (reproduction
README); the class is an "(r, K, M, B, ξ)-hierarchy" and a label is "sign(p(y)) where p is a degree-K
polynomial of previous level labels" (summary). Implemented, with every constant a parameter or a
computed quantity:

- labels :math:`f_1,\dots,f_n:\{\pm1\}^d\to\{\pm1\}` in levels; ``levels[i]`` holds the labels of
  :math:`L_{i+1}\setminus L_i`;
- a level-1 label is :math:`\mathrm{sign}(p_j(x))`, :math:`\deg p_j\le K`;
- a level-:math:`i` label (:math:`i>1`) is :math:`\mathrm{sign}(p_j(z))`, :math:`\deg p_j\le K`, where
  the variables :math:`z` are chosen by ``reads`` (:data:`READS`):

  * ``"lower"`` -- the ±1 values of **all labels of lower levels**, :math:`f_{L_{i-1}}(x)` (the nested
    form: "simple functions of simpler labels"); ``PTFLabel.inputs`` index the labels of levels
    :math:`1..i-1` in their concatenated order;
  * ``"lower_and_input"`` -- the input :math:`x` followed by all lower labels (the digest's "possibly
    together with x");
  * ``"previous"`` -- the labels of level :math:`i-1` only (the summary's "previous level labels"; the
    package's earlier form, and the default, so existing hierarchies keep their meaning). It is a
    special case of ``"lower"`` (:meth:`Hierarchy.as_nested` rewrites it so);
- the coefficient norm :math:`M=\max_j\|p_j\|` (the norm is a parameter: :math:`\ell_1` or
  :math:`\ell_2`, with or without the constant term) and the margin
  :math:`\xi=\min_j\min_{x}|p_j(\cdot)|` over the support, both *computed*, never assumed.

**The fifth parameter B.** The summary names an "(r, K, M, B, ξ)-hierarchy" but no source seen
says what B is (the digest lists it in its checklist, ``papers/ptf.md`` §6). The package therefore
gives B **no meaning and checks nothing with it**. :meth:`Hierarchy.fan_in` (the most variables any
:math:`p_j` reads) is reported beside r, K, M and ξ only as one candidate reading, labelled a guess;
the digest's other candidate, a robustness of the sign to perturbed arguments, is not implemented.
"""
from __future__ import annotations

import dataclasses
from typing import Sequence

import numpy as np

from ..validate import check_memory, instance, int_at_least, int_in
from .polynomial import MAX_CUBE_DIMENSION, Polynomial, _cube_points, all_points, sign

__all__ = ["READS", "Hierarchy", "PTFLabel", "hierarchy_from_labels"]

READS = ("previous", "lower", "lower_and_input")
"""What a level-i label's polynomial reads (module docstring)."""


@dataclasses.dataclass(frozen=True)
class PTFLabel:
    r"""One label: :math:`\mathrm{sign}(p(z_{\text{inputs}}))` where ``z`` is the previous level's
    ±1 vector (``x`` at level 1) and ``inputs`` selects the variables ``p`` reads, in order."""
    inputs: tuple
    poly: Polynomial
    kind: str = "ptf"

    def __post_init__(self):
        if isinstance(self.inputs, (str, bytes)) or not hasattr(self.inputs, "__iter__"):
            raise ValueError(f"PTFLabel.inputs must be a tuple of variable indices; got {self.inputs!r}")
        instance("PTFLabel.poly", self.poly, Polynomial)
        if not isinstance(self.kind, str):
            raise ValueError(f"PTFLabel.kind must be a string; got {self.kind!r}")
        inputs = tuple(int_at_least("PTFLabel.inputs (variable indices)", i, 0) for i in self.inputs)
        object.__setattr__(self, "inputs", inputs)
        if len(set(inputs)) != len(inputs):
            raise ValueError(f"PTFLabel.inputs must be distinct; got {inputs}")
        if self.poly.num_vars != len(inputs):
            raise ValueError(f"PTFLabel: poly has {self.poly.num_vars} variables but {len(inputs)} inputs")

    @property
    def degree(self) -> int:
        return self.poly.degree

    def preactivation(self, z: np.ndarray) -> np.ndarray:
        """:math:`p(z_{\text{inputs}})` on the rows of ``z`` (``(n, w)``, entries ±1, ``w > max(inputs)``)."""
        z = np.asarray(z) if not isinstance(z, np.ndarray) else z
        if np.ndim(z) != 2 or (self.inputs and np.shape(z)[1] <= max(self.inputs)):
            raise ValueError(f"z must have shape (n, w) with w > {max(self.inputs, default=-1)} (the label reads "
                             f"inputs {self.inputs}); got shape {np.shape(z)}")
        z = _cube_points("z", z, np.shape(z)[1])
        return self.poly._evaluate(z[:, list(self.inputs)])

    def __call__(self, z: np.ndarray) -> np.ndarray:
        return sign(self.preactivation(z))

    def local_margin(self) -> float:
        r""":math:`\min_{u\in\{\pm1\}^k}|p(u)|` over all assignments of its ``k`` inputs: a lower
        bound on the margin on any support (equal to it when every assignment is reachable)."""
        int_in("number of PTFLabel.inputs (enumerates 2**k assignments)", len(self.inputs), 0, MAX_CUBE_DIMENSION)
        return float(np.abs(self.poly._evaluate(all_points(len(self.inputs)))).min())


@dataclasses.dataclass(frozen=True)
class Hierarchy:
    """An r-level PTF hierarchy on ``{±1}^d``; ``levels[i]`` is a tuple of :class:`PTFLabel`; ``reads``
    (:data:`READS`) says which variables a label of level >= 2 reads (module docstring)."""
    d: int
    levels: tuple
    reads: str = "previous"

    def __post_init__(self):
        int_at_least("Hierarchy.d", self.d, 1)
        if not isinstance(self.reads, str) or self.reads not in READS:
            raise ValueError(f"Hierarchy.reads must be one of {READS}; got {self.reads!r}")
        if isinstance(self.levels, (str, bytes)) or not hasattr(self.levels, "__iter__"):
            raise ValueError(f"Hierarchy.levels must be a sequence of levels (sequences of PTFLabel); got {self.levels!r}")
        for i, level in enumerate(self.levels):
            if isinstance(level, (str, bytes)) or not hasattr(level, "__iter__"):
                raise ValueError(f"Hierarchy.levels[{i}] must be a sequence of PTFLabel; got {level!r}")
        levels = tuple(tuple(level) for level in self.levels)
        object.__setattr__(self, "levels", levels)
        if not levels:
            raise ValueError("Hierarchy.levels must hold at least one level (r >= 1)")
        for i, level in enumerate(levels):
            if not level:
                raise ValueError(f"Hierarchy.levels[{i}] is empty: every level needs >= 1 label")
            width = self.variables_of_level(i + 1)
            for j, lab in enumerate(level):
                if not isinstance(lab, PTFLabel):
                    raise ValueError(f"Hierarchy.levels[{i}][{j}] must be a PTFLabel; got {type(lab).__name__}")
                if lab.inputs and max(lab.inputs) >= width:
                    below = (f"d = {self.d} inputs x" if i == 0 else
                             f"reads={self.reads!r}: level {i + 1} reads {width} variables")
                    raise ValueError(f"Hierarchy.levels[{i}][{j}].inputs must lie in [0, {width - 1}] "
                                     f"({below}); got {lab.inputs}")

    def variables_of_level(self, level: int) -> int:
        """How many ±1 variables the polynomials of ``level`` (1-based) read: d at level 1; else the
        previous level's size, all lower labels, or x and all lower labels (``reads``)."""
        level = int_in("level (1-based)", level, 1, len(self.levels))
        if level == 1:
            return self.d
        sizes = [len(lv) for lv in self.levels[:level - 1]]
        return {"previous": sizes[-1], "lower": sum(sizes), "lower_and_input": self.d + sum(sizes)}[self.reads]

    def as_nested(self, reads: str = "lower") -> "Hierarchy":
        """The same labels written in the nested form (``reads="lower"`` or ``"lower_and_input"``): every
        label's inputs re-indexed into all lower labels (and x). The labels' values do not change."""
        if reads not in ("lower", "lower_and_input"):
            raise ValueError(f"reads must be 'lower' or 'lower_and_input'; got {reads!r}")
        if self.reads not in ("previous", reads):
            raise ValueError(f"as_nested rewrites a hierarchy with reads='previous' (or already {reads!r}); "
                             f"got reads={self.reads!r}")
        if self.reads == reads:
            return self
        sizes = [len(lv) for lv in self.levels]
        out = [self.levels[0]]
        for i in range(1, len(self.levels)):
            offset = sum(sizes[:i - 1]) + (self.d if reads == "lower_and_input" else 0)
            out.append(tuple(PTFLabel(tuple(offset + k for k in lab.inputs), lab.poly, lab.kind)
                             for lab in self.levels[i]))
        return Hierarchy(self.d, tuple(out), reads)

    # --- sizes -------------------------------------------------------------------------------
    @property
    def r(self) -> int:
        """Number of levels."""
        return len(self.levels)

    @property
    def level_sizes(self) -> tuple:
        return tuple(len(level) for level in self.levels)

    @property
    def num_labels(self) -> int:
        return sum(self.level_sizes)

    @property
    def K(self) -> int:
        """The largest degree of any label's polynomial."""
        return max(lab.degree for level in self.levels for lab in level)

    def label_levels(self) -> np.ndarray:
        """The level (1-based) of each label, in the concatenated order of :meth:`labels`."""
        return np.concatenate([np.full(s, i + 1) for i, s in enumerate(self.level_sizes)])

    # --- evaluation ------------------------------------------------------------------------
    def _check_x(self, x) -> np.ndarray:
        x = _cube_points("x", x, self.d)
        check_memory(f"Hierarchy evaluation on x with {x.shape[0]} points ({self.num_labels} labels)",
                     3 * x.shape[0] * (9 * self.num_labels + 8 * self.d))
        return x

    def forward(self, x) -> tuple[list, list]:
        """Per level: the ±1 labels (int8, ``(n, size)``) and the polynomials' values (float64)."""
        x = self._check_x(x)
        labels, pre = [], []
        for i, level in enumerate(self.levels):
            if i == 0:
                z = x
            elif self.reads == "previous":
                z = labels[-1]
            elif self.reads == "lower":
                z = np.concatenate(labels, axis=1)
            else:
                z = np.concatenate([x.astype(np.int8)] + labels, axis=1)
            p = np.stack([lab.poly._evaluate(z[:, list(lab.inputs)]) for lab in level], axis=1)
            labels.append(sign(p))
            pre.append(p)
        return labels, pre

    def labels(self, x) -> np.ndarray:
        """All labels, level by level, as ``(n, num_labels)`` int8 in {±1}."""
        return np.concatenate(self.forward(x)[0], axis=1)

    # --- constants M and xi -------------------------------------------------------------------
    def coefficient_norms(self, ord=1, include_constant: bool = True) -> np.ndarray:
        """Per label, the coefficient norm of its polynomial (:meth:`Polynomial.coefficient_norm`)."""
        return np.array([lab.poly.coefficient_norm(ord, include_constant) for level in self.levels for lab in level])

    def M(self, ord=1, include_constant: bool = True) -> float:
        r"""Coefficient bound :math:`M=\max_j\|p_j\|` in the chosen norm (reconstruction: the norm is unknown)."""
        return float(self.coefficient_norms(ord, include_constant).max())

    def margins(self, x=None) -> np.ndarray:
        r"""Per label, :math:`\min_x|p_j(\cdot)|` over the rows of ``x`` (default: all of
        :math:`\{\pm1\}^d`, allowed for d <= 20)."""
        if x is None:
            if self.d > 20:
                raise ValueError(f"margins over all of {{±1}}^d need d <= 20; got d={self.d} (pass x)")
            x = all_points(self.d)
        _, pre = self.forward(x)
        return np.abs(np.concatenate(pre, axis=1)).min(axis=0)

    def xi(self, x=None) -> float:
        r"""The hierarchy's margin :math:`\xi=\min_j\min_x|p_j|` (see :meth:`margins`)."""
        return float(self.margins(x).min())

    def fan_in(self) -> int:
        """The most variables any label's polynomial reads. Reported as *one candidate* reading of the
        summary's unexplained fifth parameter B (a guess: no source defines B; nothing checks it)."""
        return max(len(lab.inputs) for level in self.levels for lab in level)

    def summary(self, x=None) -> dict:
        return {"d": self.d, "r": self.r, "reads": self.reads, "fan_in": self.fan_in(), "level_sizes": list(self.level_sizes), "K": self.K,
                "M_l1": self.M(1), "M_l2": self.M(2), "xi": self.xi(x),
                "kinds": [sorted({lab.kind for lab in level}) for level in self.levels]}


def hierarchy_from_labels(d: int, levels: Sequence[Sequence[PTFLabel]], reads: str = "previous") -> Hierarchy:
    """Validate and build a :class:`Hierarchy` from labels given by hand (``reads``: :data:`READS`)."""
    return Hierarchy(d, levels, reads)
