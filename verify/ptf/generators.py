r"""Generators of PTF labels and hierarchies: juntas, parities, majorities, random PTFs, with random or
tree wiring, and the "brain dump" random-majority circuit (Paper B §3.1, as reconstructed).

Every random generator takes an explicit ``numpy.random.Generator`` (``rng``); none touches a
global RNG. Representations (background, ``papers/ptf.md`` B6):

- majority of ``k`` (odd) inputs: :math:`\mathrm{sign}(\sum_i s_iz_i)`, degree 1, coefficients
  :math:`\pm1` (:math:`\ell_1=k`), margin 1; optional random negations ``s_i``;
- parity of ``k`` inputs: :math:`\prod_i z_i`, degree k, one coefficient 1, margin 1;
- junta: any truth table on ``k`` inputs, represented by its exact Fourier expansion
  (degree :math:`\le k`, margin 1 since :math:`p=f`);
- random PTF: :math:`\mathrm{sign}(p)` with integer coefficients drawn uniformly from
  :math:`\{-c,\dots,c\}` on all monomials of degree :math:`\le K` and an odd constant, margin
  computed exactly over the :math:`2^k` assignments.

**Brain dump (§3.1).** The paper's circuit model and its constants :math:`W_{d,k},\alpha_{d,k}` were
not seen. Reconstruction: the teacher's brain is a layered circuit of ``depth`` layers of ``width``
gates on :math:`x\in\{\pm1\}^d`; each gate is a majority of ``fan_in`` gates (with random negations)
of the layer below, chosen at random; every gate is a label ("the teacher dumps its brain"), so the
circuit is itself an (r = depth, K = 1)-hierarchy.
"""
from __future__ import annotations

from fractions import Fraction

import numpy as np

from ..validate import check_memory, int_at_least, int_in, numpy_generator, real_array
from .hierarchy import READS, Hierarchy, PTFLabel
from .polynomial import Polynomial, all_points, monomials_up_to

__all__ = ["KINDS", "WIRINGS", "alpha_majority", "brain_dump_circuit", "junta_label", "majority_label", "make_label",
           "parity_label", "random_hierarchy", "random_junta_label", "random_ptf_label"]

KINDS = ("majority", "parity", "junta", "ptf")
WIRINGS = ("random", "tree")
MAX_JUNTA_INPUTS = 20
"""The most inputs of a junta or random PTF label (its truth table or monomials enumerate :math:`2^k` points)."""
MAX_MAJORITY_SIZE = 100_000
"""The largest ``k`` (``n``) of the exact majority constants (binomial coefficients of ``k``)."""
MAX_LABELS = 1_000_000
"""The most labels a generated hierarchy may hold."""


def _rng(rng) -> np.random.Generator:
    return numpy_generator("rng", rng)


def _inputs(inputs, lo: int = 1, hi: int | None = None) -> tuple:
    """``inputs`` as a tuple of distinct non-negative ints (``lo`` to ``hi`` of them), or a ValueError."""
    if isinstance(inputs, (str, bytes)) or not hasattr(inputs, "__iter__"):
        raise ValueError(f"inputs must be a sequence of variable indices; got {inputs!r}")
    inputs = tuple(int_at_least("inputs (variable indices)", i, 0) for i in inputs)
    if len(set(inputs)) != len(inputs):
        raise ValueError(f"inputs must be distinct; got {inputs}")
    if len(inputs) < lo or (hi is not None and len(inputs) > hi):
        raise ValueError(f"inputs must hold {lo} to {hi if hi is not None else 'any number of'} indices; got {len(inputs)}")
    return inputs


def majority_label(inputs, negations=None) -> PTFLabel:
    r""":math:`\mathrm{sign}(\sum_i s_iz_i)` on an odd number of ``inputs``, ``negations`` :math:`s_i\in\{\pm1\}`."""
    inputs = _inputs(inputs)
    k = len(inputs)
    if k % 2 == 0:
        raise ValueError(f"inputs: a majority needs an odd number of inputs >= 1; got {k}")
    s = np.ones(k, dtype=int) if negations is None else real_array("negations", negations, ndim=1)
    if s.shape != (k,) or not np.isin(s, (-1, 1)).all():
        raise ValueError(f"negations must be {k} values in {{-1, +1}}")
    return PTFLabel(inputs, Polynomial.from_dict({(i,): int(s[i]) for i in range(k)}, k), "majority")


def parity_label(inputs) -> PTFLabel:
    r""":math:`\prod_i z_i` on ``inputs`` (at least one)."""
    inputs = _inputs(inputs)
    return PTFLabel(inputs, Polynomial.from_dict({tuple(range(len(inputs))): 1}, len(inputs)), "parity")


def junta_label(inputs, truth_table) -> PTFLabel:
    """Any function of ``k`` inputs, given by its ±1 values on :func:`all_points` ``(k)`` order."""
    from .fourier import fourier_expansion
    inputs = _inputs(inputs, 1, MAX_JUNTA_INPUTS)
    k = len(inputs)
    table = real_array("truth_table", truth_table, ndim=1)
    if table.shape != (2 ** k,) or not np.isin(table, (-1, 1)).all():
        raise ValueError(f"truth_table must hold 2**k = {2 ** k} values in {{-1, +1}}")
    return PTFLabel(inputs, Polynomial.from_dict(fourier_expansion(table.astype(np.int64).tolist()), k), "junta")


def random_ptf_label(inputs, K: int, rng, coef_range: int = 2) -> PTFLabel:
    """Sign of a random integer polynomial of degree <= K on the inputs: an odd constant and even
    other coefficients, so p(z) is an odd integer and the margin is >= 1; redrawn until non-constant."""
    rng = _rng(rng)
    inputs = _inputs(inputs, 1, MAX_JUNTA_INPUTS)
    K = int_at_least("K (degree)", K, 1)
    coef_range = int_in("coef_range", coef_range, 1, 2**30)
    k = len(inputs)
    for _ in range(100):
        coefs = {}
        for mono in monomials_up_to(k, K):
            c = int(rng.integers(-coef_range, coef_range + 1))
            coefs[mono] = 2 * c if mono else 2 * c + 1  # odd total parity: p(z) is odd, so |p| >= 1
        poly = Polynomial.from_dict(coefs, k)
        vals = poly(all_points(k))
        if np.unique(np.sign(vals)).size == 2 and poly.degree >= 1:
            return PTFLabel(inputs, poly, "ptf")
    raise ValueError(f"could not draw a non-constant PTF of degree <= {K} on {k} inputs in 100 tries")


def random_junta_label(inputs, rng) -> PTFLabel:
    """A uniformly random non-constant truth table on ``inputs`` (1 to :data:`MAX_JUNTA_INPUTS` of them)."""
    rng = _rng(rng)
    inputs = _inputs(inputs, 1, MAX_JUNTA_INPUTS)
    k = len(inputs)
    for _ in range(200):  # a table is constant with probability 2**(1 - 2**k) <= 1/2
        table = rng.choice(np.array([-1, 1]), size=2 ** k)
        if abs(int(table.sum())) < 2 ** k:
            return junta_label(inputs, table)
    raise ValueError(f"could not draw a non-constant junta on {k} inputs in 200 tries")


def _wire(prev: int, size: int, fan_in: int, wiring: str, rng) -> list[tuple]:
    if not isinstance(wiring, str) or wiring not in WIRINGS:
        raise ValueError(f"wiring must be one of {WIRINGS}; got {wiring!r}")
    if isinstance(fan_in, bool) or not isinstance(fan_in, (int, np.integer)) or not 1 <= fan_in <= prev:
        raise ValueError(f"fan_in must be in [1, {prev}] (the previous level's size); got {fan_in}")
    if wiring == "tree":
        if size * fan_in > prev:
            raise ValueError(f"tree wiring needs size*fan_in <= previous level size ({prev}); "
                             f"got size={size}, fan_in={fan_in}")
        return [tuple(range(j * fan_in, (j + 1) * fan_in)) for j in range(size)]
    return [tuple(sorted(int(i) for i in rng.choice(prev, size=fan_in, replace=False))) for _ in range(size)]


def make_label(kind: str, inputs, rng, K: int = 2) -> PTFLabel:
    """One label of ``kind`` (:data:`KINDS`) on ``inputs``; random signs, tables and coefficients from ``rng``."""
    if not isinstance(kind, str) or kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}; got {kind!r}")
    if kind != "parity":
        _rng(rng)
    if kind == "majority":
        inputs = _inputs(inputs)
        return majority_label(inputs, rng.choice(np.array([-1, 1]), size=len(inputs)))
    if kind == "parity":
        return parity_label(inputs)
    if kind == "junta":
        return random_junta_label(inputs, rng)
    return random_ptf_label(inputs, K, rng)


def random_hierarchy(d: int, level_sizes, fan_in: int, kind="majority", wiring: str = "random",
                     K: int = 2, rng=None, reads: str = "previous") -> Hierarchy:
    r"""An r-level hierarchy on :math:`\{\pm1\}^d`: level ``i`` has ``level_sizes[i]`` labels, each of
    ``kind`` (one of :data:`KINDS`, or a list with one kind per level) on ``fan_in`` variables, wired
    at random or as a tree. The variables of level 1 are ``x``; of a higher level, chosen by ``reads``
    (:data:`verify.ptf.hierarchy.READS`): the level below (``"previous"``), all lower labels
    (``"lower"``, Def. 3.1's nested form) or ``x`` and all lower labels (``"lower_and_input"``)."""
    rng = _rng(rng)
    d = int_at_least("d", d, 1)
    if isinstance(level_sizes, (str, bytes)) or not hasattr(level_sizes, "__iter__"):
        raise ValueError(f"level_sizes must be a non-empty list of integers >= 1; got {level_sizes!r}")
    level_sizes = [int_at_least("level_sizes (labels per level)", s, 1) for s in level_sizes]
    if not level_sizes:
        raise ValueError("level_sizes must be a non-empty list of integers >= 1; got []")
    if isinstance(kind, str):
        kinds = [kind] * len(level_sizes)
    elif isinstance(kind, (list, tuple)):
        kinds = list(kind)
    else:
        raise ValueError(f"kind must be one of {KINDS} or a list with one per level; got {kind!r}")
    if len(kinds) != len(level_sizes):
        raise ValueError(f"kind must be one kind or one per level of level_sizes ({len(level_sizes)} levels); got {kind!r}")
    for kd in kinds:
        if not isinstance(kd, str) or kd not in KINDS:
            raise ValueError(f"kind must be one of {KINDS} (or a list of them); got {kd!r}")
    if not isinstance(wiring, str) or wiring not in WIRINGS:
        raise ValueError(f"wiring must be one of {WIRINGS}; got {wiring!r}")
    if not isinstance(reads, str) or reads not in READS:
        raise ValueError(f"reads must be one of {READS}; got {reads!r}")
    fan_in = int_at_least("fan_in", fan_in, 1)
    if fan_in > d:
        raise ValueError(f"fan_in must be in [1, {d}] (the previous level's size); got {fan_in}")
    if {"junta", "ptf"} & set(kinds):
        int_in("fan_in (kinds 'junta' and 'ptf' enumerate 2**fan_in points)", fan_in, 1, MAX_JUNTA_INPUTS)
        K = int_at_least("K (degree)", K, 1)
    if sum(level_sizes) > MAX_LABELS:
        raise ValueError(f"level_sizes must sum to at most {MAX_LABELS} labels; got {sum(level_sizes)}")
    check_memory(f"random_hierarchy(level_sizes={level_sizes}, fan_in={fan_in})",
                 sum(level_sizes) * (600 + 200 * fan_in + (16 * 2**fan_in if {"junta", "ptf"} & set(kinds) else 0)))
    levels, prev, lower = [], d, 0
    for size, kd in zip(level_sizes, kinds):
        wires = _wire(prev, size, fan_in, wiring, rng)
        if kd == "majority" and fan_in % 2 == 0:
            raise ValueError(f"fan_in must be an odd number for kind='majority' (a majority of an even number of "
                             f"inputs can tie); got {fan_in}")
        levels.append(tuple(make_label(kd, w, rng, K) for w in wires))
        lower += size
        prev = {"previous": size, "lower": lower, "lower_and_input": d + lower}[reads]
    return Hierarchy(int(d), tuple(levels), reads)


def brain_dump_circuit(d: int, width: int, depth: int, fan_in: int = 3, rng=None) -> Hierarchy:
    """The §3.1 "brain dump" (reconstruction, see the module docstring): ``depth`` layers of ``width``
    random signed majority gates of ``fan_in`` (odd) gates of the layer below; every gate is a label."""
    width = int_at_least("width", width, 1)
    depth = int_at_least("depth", depth, 1)
    fan_in = int_at_least("fan_in", fan_in, 1)
    if fan_in % 2 == 0:
        raise ValueError(f"fan_in must be odd (majority gates); got {fan_in}")
    if width * depth > MAX_LABELS:
        raise ValueError(f"width * depth must be at most {MAX_LABELS} labels; got {width * depth}")
    return random_hierarchy(d, [width] * depth, fan_in, "majority", "random", rng=rng)


def alpha_majority(k: int) -> Fraction:
    r"""Degree-1 Fourier coefficient of :math:`\mathrm{Maj}_k`, :math:`2^{1-k}\binom{k-1}{(k-1)/2}\approx\sqrt{2/(\pi k)}`:
    the correlation of a majority with each of its inputs. A *candidate* for the paper's
    reconstruction constant :math:`\alpha_{d,k}` (a guess, ``papers/ptf.md`` B6)."""
    from math import comb
    k = int_in("k", k, 1, MAX_MAJORITY_SIZE)
    if k % 2 == 0:
        raise ValueError(f"k must be odd and >= 1; got {k}")
    return Fraction(2 * comb(k - 1, (k - 1) // 2), 2 ** k)
