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

from .hierarchy import Hierarchy, PTFLabel
from .polynomial import Polynomial, all_points, monomials_up_to

KINDS = ("majority", "parity", "junta", "ptf")
WIRINGS = ("random", "tree")


def _rng(rng) -> np.random.Generator:
    if not isinstance(rng, np.random.Generator):
        raise ValueError(f"rng must be a numpy.random.Generator (explicit seeding); got {type(rng).__name__}")
    return rng


def majority_label(inputs, negations=None) -> PTFLabel:
    inputs = tuple(inputs)
    k = len(inputs)
    if k < 1 or k % 2 == 0:
        raise ValueError(f"a majority needs an odd number of inputs >= 1; got {k}")
    s = np.ones(k, dtype=int) if negations is None else np.asarray(negations, dtype=int)
    if s.shape != (k,) or not np.isin(s, (-1, 1)).all():
        raise ValueError(f"negations must be {k} values in {{-1, +1}}")
    return PTFLabel(inputs, Polynomial.from_dict({(i,): int(s[i]) for i in range(k)}, k), "majority")


def parity_label(inputs) -> PTFLabel:
    inputs = tuple(inputs)
    if len(inputs) < 1:
        raise ValueError("a parity needs at least 1 input")
    return PTFLabel(inputs, Polynomial.from_dict({tuple(range(len(inputs))): 1}, len(inputs)), "parity")


def junta_label(inputs, truth_table) -> PTFLabel:
    """Any function of ``k`` inputs, given by its ±1 values on :func:`all_points` ``(k)`` order."""
    from .fourier import fourier_expansion
    inputs = tuple(inputs)
    k = len(inputs)
    table = np.asarray(truth_table)
    if table.shape != (2 ** k,) or not np.isin(table, (-1, 1)).all():
        raise ValueError(f"truth_table must hold 2**k = {2 ** k} values in {{-1, +1}}")
    return PTFLabel(inputs, Polynomial.from_dict(fourier_expansion(table), k), "junta")


def random_ptf_label(inputs, K: int, rng, coef_range: int = 2) -> PTFLabel:
    """Sign of a random integer polynomial of degree <= K on the inputs: an odd constant and even
    other coefficients, so p(z) is an odd integer and the margin is >= 1; redrawn until non-constant."""
    rng = _rng(rng)
    inputs = tuple(inputs)
    if not isinstance(K, (int, np.integer)) or K < 1:
        raise ValueError(f"K must be an integer >= 1; got {K!r}")
    if coef_range < 1:
        raise ValueError(f"coef_range must be >= 1; got {coef_range}")
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
    rng = _rng(rng)
    k = len(inputs)
    while True:
        table = rng.choice(np.array([-1, 1]), size=2 ** k)
        if abs(int(table.sum())) < 2 ** k:
            return junta_label(inputs, table)


def _wire(prev: int, size: int, fan_in: int, wiring: str, rng) -> list[tuple]:
    if wiring not in WIRINGS:
        raise ValueError(f"wiring must be one of {WIRINGS}; got {wiring!r}")
    if not 1 <= fan_in <= prev:
        raise ValueError(f"fan_in must be in [1, {prev}] (the previous level's size); got {fan_in}")
    if wiring == "tree":
        if size * fan_in > prev:
            raise ValueError(f"tree wiring needs size*fan_in <= previous level size ({prev}); "
                             f"got size={size}, fan_in={fan_in}")
        return [tuple(range(j * fan_in, (j + 1) * fan_in)) for j in range(size)]
    return [tuple(sorted(int(i) for i in rng.choice(prev, size=fan_in, replace=False))) for _ in range(size)]


def make_label(kind: str, inputs, rng, K: int = 2) -> PTFLabel:
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}; got {kind!r}")
    if kind == "majority":
        return majority_label(inputs, rng.choice(np.array([-1, 1]), size=len(inputs)))
    if kind == "parity":
        return parity_label(inputs)
    if kind == "junta":
        return random_junta_label(inputs, rng)
    return random_ptf_label(inputs, K, rng)


def random_hierarchy(d: int, level_sizes, fan_in: int, kind="majority", wiring: str = "random",
                     K: int = 2, rng=None) -> Hierarchy:
    r"""An r-level hierarchy on :math:`\{\pm1\}^d`: level ``i`` has ``level_sizes[i]`` labels, each of
    ``kind`` (one of :data:`KINDS`, or a list with one kind per level) on ``fan_in`` labels of the
    level below (``x`` at level 1), wired at random or as a tree."""
    rng = _rng(rng)
    if not isinstance(d, (int, np.integer)) or d < 1:
        raise ValueError(f"d must be an integer >= 1; got {d!r}")
    level_sizes = [int(s) for s in level_sizes]
    if not level_sizes or min(level_sizes) < 1:
        raise ValueError(f"level_sizes must be a non-empty list of integers >= 1; got {level_sizes}")
    kinds = [kind] * len(level_sizes) if isinstance(kind, str) else list(kind)
    if len(kinds) != len(level_sizes):
        raise ValueError(f"kind must be one kind or one per level ({len(level_sizes)}); got {kind!r}")
    levels, prev = [], d
    for size, kd in zip(level_sizes, kinds):
        wires = _wire(prev, size, fan_in, wiring, rng)
        levels.append(tuple(make_label(kd, w, rng, K) for w in wires))
        prev = size
    return Hierarchy(int(d), tuple(levels))


def brain_dump_circuit(d: int, width: int, depth: int, fan_in: int = 3, rng=None) -> Hierarchy:
    """The §3.1 "brain dump" (reconstruction, see the module docstring): ``depth`` layers of ``width``
    random signed majority gates of ``fan_in`` (odd) gates of the layer below; every gate is a label."""
    if not isinstance(width, (int, np.integer)) or width < 1:
        raise ValueError(f"width must be an integer >= 1; got {width!r}")
    if not isinstance(depth, (int, np.integer)) or depth < 1:
        raise ValueError(f"depth must be an integer >= 1; got {depth!r}")
    if fan_in % 2 == 0:
        raise ValueError(f"fan_in must be odd (majority gates); got {fan_in}")
    return random_hierarchy(d, [width] * depth, fan_in, "majority", "random", rng=rng)


def alpha_majority(k: int) -> Fraction:
    r"""Degree-1 Fourier coefficient of :math:`\mathrm{Maj}_k`, :math:`2^{1-k}\binom{k-1}{(k-1)/2}\approx\sqrt{2/(\pi k)}`:
    the correlation of a majority with each of its inputs. A *candidate* for the paper's
    reconstruction constant :math:`\alpha_{d,k}` (a guess, ``papers/ptf.md`` B6)."""
    from math import comb
    if k < 1 or k % 2 == 0:
        raise ValueError(f"k must be odd and >= 1; got {k}")
    return Fraction(2 * comb(k - 1, (k - 1) // 2), 2 ** k)
