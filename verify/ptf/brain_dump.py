r"""The "brain dump" (Paper B, §3.1 and Theorem 3.4, as reconstructed): labels that are random
majority votes over the internal states of a random circuit.

**Which form.** Theorem 3.4 exists and is proved in §8 ("Examples of Hierarchies and Proof
Theorem 3.4") [table of contents]; the abstract says that "in a simplified model where a teacher is
partially aware of their internal logic, a hierarchical structure emerges". A third-party summary
(chatpaper.com/paper/223002) describes the model as "modeling the human brain as a computational
circuit and showing that random 'majority votes' over its internal states can create a learnable
hierarchical structure"; the reproduction README names functions ``brain_dump_circuit``,
``sample_Wdk`` and ``alpha_dk``. The circuit model, :math:`W_{d,k}` and :math:`\alpha_{d,k}` were not seen.
**Reconstruction** (every choice a parameter):

- the teacher's brain is a random layered circuit on :math:`x\in\{\pm1\}^d`: ``depth`` layers of
  ``width`` gates, each gate a random function of ``gate_fan_in`` gates of the layer below
  (``gate_kind``: random truth tables, ``"junta"``, by default; ``x`` below layer 1);
- the gates' values are the *internal states*; they are **not** labels;
- for each layer :math:`\ell`, ``votes`` labels, each the majority, with random signs, of
  ``vote_size`` (odd) gates of layer :math:`\ell` drawn at random without replacement -- the package's
  reading of :math:`W_{\ell,k}` (a random k-subset of layer :math:`\ell`); the label's level is :math:`\ell`.

Whether such labels form an (r, K, M, B, ξ)-hierarchy (a level-ℓ label a low-degree PTF of lower
labels, with margin) is what Theorem 3.4 would assert; here it is an open, measurable question
(:func:`best_ptf_margin` measures it exactly on a sample).

The package's earlier variant, a circuit *of* majority gates in which **every gate is a label**, is
:func:`verify.ptf.brain_dump_circuit`; both are offered and both are measured.
"""
from __future__ import annotations

import dataclasses

import numpy as np

from ..validate import int_in, int_at_least, numpy_generator
from .generators import KINDS, MAX_LABELS, majority_label, random_hierarchy
from .hierarchy import Hierarchy, PTFLabel
from .polynomial import _cube_points, monomials_up_to

__all__ = ["BrainDump", "best_ptf_margin", "brain_dump_votes"]


@dataclasses.dataclass(frozen=True)
class BrainDump:
    """Random majority votes (``votes[l]``: :class:`PTFLabel` over the gates of layer l+1) over the
    hidden gates of ``circuit`` (a :class:`Hierarchy` whose labels are the gates, never supervised)."""
    circuit: Hierarchy
    votes: tuple

    def __post_init__(self):
        if not isinstance(self.circuit, Hierarchy):
            raise ValueError(f"BrainDump.circuit must be a Hierarchy (the gates); got {type(self.circuit).__name__}")
        votes = tuple(tuple(v) for v in self.votes)
        object.__setattr__(self, "votes", votes)
        if len(votes) != self.circuit.r:
            raise ValueError(f"BrainDump.votes must hold one tuple of votes per circuit layer ({self.circuit.r}); "
                             f"got {len(votes)}")
        for i, layer in enumerate(votes):
            if not layer:
                raise ValueError(f"BrainDump.votes[{i}] is empty: every layer needs >= 1 vote")
            for lab in layer:
                if not isinstance(lab, PTFLabel) or (lab.inputs and max(lab.inputs) >= len(self.circuit.levels[i])):
                    raise ValueError(f"BrainDump.votes[{i}] must be PTFLabels over the {len(self.circuit.levels[i])} "
                                     f"gates of layer {i + 1}")

    @property
    def d(self) -> int:
        return self.circuit.d

    @property
    def r(self) -> int:
        """Number of levels (the circuit's depth)."""
        return len(self.votes)

    @property
    def levels(self) -> tuple:
        """The votes, level by level (as :attr:`Hierarchy.levels`)."""
        return self.votes

    @property
    def level_sizes(self) -> tuple:
        return tuple(len(v) for v in self.votes)

    @property
    def num_labels(self) -> int:
        return sum(self.level_sizes)

    def label_levels(self) -> np.ndarray:
        return np.concatenate([np.full(s, i + 1) for i, s in enumerate(self.level_sizes)])

    def gates(self, x) -> list:
        """The internal states: per layer, the gates' ±1 values (``(n, width)`` int8)."""
        return self.circuit.forward(x)[0]

    def labels(self, x) -> np.ndarray:
        """All votes, level by level, as ``(n, num_labels)`` int8 in {±1}."""
        g = self.gates(x)
        return np.concatenate([np.stack([lab(g[i]) for lab in layer], axis=1) for i, layer in enumerate(self.votes)],
                              axis=1)


def brain_dump_votes(d: int, width: int, depth: int, votes: int, vote_size: int = 3, gate_fan_in: int = 2,
                     gate_kind: str = "junta", rng=None) -> BrainDump:
    """A random circuit (``depth`` layers of ``width`` gates of ``gate_kind`` on ``gate_fan_in`` gates of
    the layer below) and, per layer, ``votes`` random signed majorities of ``vote_size`` (odd) of its gates."""
    rng = numpy_generator("rng", rng)
    width = int_at_least("width (gates per layer)", width, 1)
    depth = int_at_least("depth (circuit layers)", depth, 1)
    votes = int_at_least("votes (labels per layer)", votes, 1)
    vote_size = int_at_least("vote_size", vote_size, 1)
    if vote_size % 2 == 0 or vote_size > width:
        raise ValueError(f"vote_size must be odd and at most width = {width}; got {vote_size}")
    d = int_at_least("d (input dimension)", d, 1)
    gate_fan_in = int_in("gate_fan_in (gates a gate reads)", gate_fan_in, 1, min(d, width))
    if gate_kind not in KINDS:
        raise ValueError(f"gate_kind must be one of {KINDS}; got {gate_kind!r}")
    if votes * depth > MAX_LABELS:
        raise ValueError(f"votes * depth must be at most {MAX_LABELS} labels; got {votes * depth}")
    circuit = random_hierarchy(d, [width] * depth, gate_fan_in, gate_kind, "random", rng=rng)
    layers = []
    for _ in range(depth):
        layer = []
        for _ in range(votes):
            W = sorted(int(i) for i in rng.choice(width, size=vote_size, replace=False))  # W_{l,k}: k gates of layer l
            layer.append(majority_label(W, rng.choice(np.array([-1, 1]), size=vote_size)))
        layers.append(tuple(layer))
    return BrainDump(circuit, tuple(layers))


def best_ptf_margin(z, y, K: int) -> float:
    r"""The largest normalised margin :math:`\max_{\|c\|_1\le1}\min_i y_i\,p_c(z_i)` of a degree-:math:`\le K`
    multilinear polynomial :math:`p_c` of the ±1 variables ``z`` (``(m, k)``) on labels ``y`` (``(m,)``, ±1),
    by linear programming (float64, exact up to the solver's tolerance). Positive iff ``y`` is a degree-K
    PTF of ``z`` on these points; :math:`\xi/M` (ℓ1, constant included) of the best representation."""
    from scipy.optimize import linprog
    if np.ndim(z) != 2:
        raise ValueError(f"z must be an (m, k) array of ±1 values; got shape {np.shape(z)}")
    z = _cube_points("z", z, np.shape(z)[1])
    y = np.asarray(y, dtype=float).reshape(-1)
    if y.shape[0] != z.shape[0] or not np.isin(y, (-1.0, 1.0)).all():
        raise ValueError(f"y must hold {z.shape[0]} labels in {{-1, +1}}")
    K = int_at_least("K (degree)", K, 0)
    monos = list(monomials_up_to(z.shape[1], K))
    A = np.stack([np.prod(z[:, list(mn)], axis=1) if mn else np.ones(z.shape[0]) for mn in monos], axis=1)
    A = np.unique(A * y[:, None], axis=0)  # duplicate points give duplicate rows
    p = len(monos)
    # variables: c+ (p), c- (p), t; maximise t s.t. A(c+ - c-) >= t, sum(c+ + c-) <= 1
    cost = np.zeros(2 * p + 1)
    cost[-1] = -1
    A_ub = np.concatenate([-A, A, np.ones((A.shape[0], 1))], axis=1)
    b_ub = np.zeros(A.shape[0])
    A_ub = np.vstack([A_ub, np.concatenate([np.ones(2 * p), [0.0]])])
    b_ub = np.append(b_ub, 1.0)
    res = linprog(cost, A_ub=A_ub, b_ub=b_ub, bounds=[(0, None)] * (2 * p) + [(None, None)], method="highs")
    if not res.success:
        raise ValueError(f"best_ptf_margin: the linear program failed: {res.message}")
    return float(-res.fun)
