r"""Exact probabilities of an RHM from products of small stochastic matrices (Paper A, eq. 4, App. B).

No input is enumerated. The first level-:math:`l` patch depends only on the leftmost path of the
tree, a Markov chain :math:`\zeta=\nu_0\to\nu_1\to\dots` of first tokens with the **first-token
transition matrices**

.. math:: [P_k]_{\nu,\mu} = \Pr[\text{first level-}k\text{ token}=\mu \mid \text{first level-}(k-1)\text{ token}=\nu]
          = \tfrac1m\,\#\{r : \text{rule } r \text{ of } \nu \text{ starts with } \mu\},

:math:`P_1\in\mathbb R^{n_c\times V}`, :math:`P_k\in\mathbb R^{V\times V}`. With
:math:`A_l := P_1\cdots P_{l-1}` (:math:`A_1=I`) and a uniform label,

.. math:: p_\mu = \frac{1}{n_c\,m}\,\mathbf 1^\top A_l e_{\nu(\mu)},\qquad
          q^{(l)}_\mu = \frac{A_l e_{\nu(\mu)}}{\mathbf 1^\top A_l e_{\nu(\mu)}}  \quad\text{(Bayes)},

which depends on :math:`\mu` only through its parent :math:`\nu(\mu)`: synonyms get identical
:math:`q`. Under the Appendix B sampler every :math:`P_k` is doubly stochastic, the denominator is
1 and :math:`q^{(l)}_\mu = P_1\cdots P_{l-1}e_{\nu(\mu)}` -- the digest's corrected form of the
identity in the proof of Proposition 19 (the paper's :math:`m\,P_1\cdots P_{l-1}Q_le_\mu` carries
a spurious factor :math:`m`; ``tests/`` checks the corrected form).

Arithmetic: ``"fraction"`` (``fractions.Fraction``, exact), ``"float64"``, or ``"auto"`` (exact
when :math:`\max(V,n_c)\le 16` and :math:`L\le 6`).

Cost. :func:`first_patch_laws` returns every level at once from the running product
:math:`A_{l+1}=A_lP_l` (:math:`L-1` products, :math:`O(L)`); :func:`first_patch_law` of one level costs
:math:`l-1` products. Callers that need several levels (:func:`verify.rhm.assumptions.kappa`,
:func:`~verify.rhm.assumptions.signal_gaps`, the learner's parameter presets) take the laws once from
:func:`first_patch_laws` and pass them on. In float64 with :math:`V\ge` ``SPARSE_MIN_FEATURES`` the
:math:`P_k` (at most :math:`m` non-zeros a row) are multiplied as sparse matrices: :math:`O(n_cVm)` a level
instead of :math:`O(n_cV^2)`, equal to the dense product up to rounding. Fractions stay exact.
"""
from __future__ import annotations

import dataclasses
from fractions import Fraction

import numpy as np

from ..validate import check_memory, instance, int_in
from .grammar import Grammar

__all__ = ["ARITHMETICS", "SPARSE_MIN_FEATURES", "FirstPatchLaw", "conditional_q", "first_patch_law",
           "first_patch_laws", "p_first_patch", "transition_matrices", "transition_matrix"]

ARITHMETICS = ("auto", "fraction", "float64")
_FRACTION_BYTES = 200  # a Fraction of two small ints in an object array, with its pointer
#: float64 products use sparse :math:`P_k` from this many symbols per level on (dense below: bit-for-bit the
#: products of earlier versions, which the recorded small cases were computed with).
SPARSE_MIN_FEATURES = 512


def _arith(grammar: Grammar, arithmetic: str) -> str:
    instance("grammar", grammar, Grammar)
    if not isinstance(arithmetic, str) or arithmetic not in ARITHMETICS:
        raise ValueError(f"arithmetic must be one of {ARITHMETICS}; got {arithmetic!r}")
    if arithmetic == "auto":
        small = max(grammar.num_features, grammar.num_classes) <= 16 and grammar.num_layers <= 6
        return "fraction" if small else "float64"
    return arithmetic


def _check_size(grammar: Grammar, level: int, arith: str) -> None:
    r"""Refuse matrices above the memory limit: :math:`P_k` and :math:`A_l` are (at most)
    :math:`\max(n_c,V)\times V`, several at once, 8 bytes (float64) or a Fraction each."""
    rows = max(grammar.num_classes, grammar.num_features)
    per = _FRACTION_BYTES if arith == "fraction" else 8
    check_memory(f"exact matrices at level={level} (grammar with num_classes={grammar.num_classes}, "
                 f"num_features={grammar.num_features}, arithmetic={arith!r})", 4 * rows * grammar.num_features * (per + 8))


def _counts_to(counts: np.ndarray, m: int, arith: str) -> np.ndarray:
    if arith == "fraction":
        out = np.empty(counts.shape, dtype=object)
        for idx, c in np.ndenumerate(counts):
            out[idx] = Fraction(int(c), m)
        return out
    return counts.astype(np.float64) / m


def transition_matrix(grammar: Grammar, level: int, arithmetic: str = "auto") -> np.ndarray:
    r"""First-token transition matrix :math:`P_l` (App. B): rows level-:math:`(l-1)` symbols,
    columns level-:math:`l` symbols; row-stochastic."""
    arith = _arith(grammar, arithmetic)
    grammar._check_level(level)
    _check_size(grammar, level, arith)
    first = grammar.rules[level - 1][:, :, 0]  # [|V_{l-1}|, m]
    counts = np.zeros((first.shape[0], grammar.num_features), dtype=np.int64)
    np.add.at(counts, (np.arange(first.shape[0])[:, None], first), 1)
    return _counts_to(counts, grammar.num_synonyms, arith)


def _transition_transpose_csr(grammar: Grammar, level: int):
    r""":math:`P_l^\top` as a ``scipy.sparse`` CSR matrix (float64), built from the rules' first tokens: the
    same counts and the same division by :math:`m` as :func:`transition_matrix` (``tests/test_exact.py``
    compares the two), without the dense :math:`|V_{l-1}|\times V` array."""
    import scipy.sparse  # only here: the dense path needs no scipy
    first = grammar.rules[level - 1][:, :, 0]  # [|V_{l-1}|, m]
    n_parents, m = first.shape
    P_t = scipy.sparse.csr_matrix((np.ones(first.size), (first.ravel(), np.repeat(np.arange(n_parents), m))),
                                  shape=(grammar.num_features, n_parents))  # duplicates summed: the counts
    P_t.data = P_t.data / m
    return P_t


def transition_matrices(grammar: Grammar, arithmetic: str = "auto") -> list[np.ndarray]:
    """:math:`[P_1, \\dots, P_L]`."""
    _arith(grammar, arithmetic)
    return [transition_matrix(grammar, l, arithmetic) for l in range(1, grammar.num_layers + 1)]


def _identity(n: int, arith: str) -> np.ndarray:
    if arith == "fraction":
        A = np.full((n, n), Fraction(0), dtype=object)
        for i in range(n):
            A[i, i] = Fraction(1)
        return A
    return np.eye(n)


def _chains(grammar: Grammar, top: int, arith: str):
    r"""Yield :math:`A_l = P_1\cdots P_{l-1}` (:math:`n_c\times|V_{l-1}|`) for :math:`l=1..` ``top``, one
    product per level (:math:`A_1 = I`). Each :math:`P_k` comes from :func:`transition_matrix` (looked up at
    call time); in float64 with :math:`V\ge` ``SPARSE_MIN_FEATURES`` it is multiplied as a sparse matrix."""
    A = _identity(grammar.num_classes, arith)
    sparse = arith == "float64" and grammar.num_features >= SPARSE_MIN_FEATURES
    for level in range(1, top + 1):
        yield A
        if level == top:
            return
        if sparse:
            # A_{l+1}^T = P_l^T A_l^T: a CSR matrix times the C-contiguous A^T, which A.T is (A is kept as the
            # transpose of a C-contiguous array), so no copy is made
            A = (_transition_transpose_csr(grammar, level) @ A.T).T
        else:
            A = A @ transition_matrix(grammar, level, arith)


def _chain(grammar: Grammar, level: int, arith: str) -> np.ndarray:
    r""":math:`A_l = P_1\cdots P_{l-1}` (:math:`n_c\times|V_{l-1}|`), :math:`A_1 = I`."""
    for A in _chains(grammar, level, arith):
        pass
    return A


@dataclasses.dataclass(frozen=True)
class FirstPatchLaw:
    r"""The exact law of (label, first level-:math:`l` patch).

    ``parent_prob[nu]``: :math:`\Pr[\text{first level-}(l-1)\text{ token}=\nu]`; patch :math:`\mu`
    (rule ``r`` of parent ``nu``) has :math:`p_\mu=` ``parent_prob[nu] / m``.
    ``q[nu]``: :math:`q^{(l)}_\mu` for every patch of parent ``nu``, a row in :math:`\Delta^{V_0}`.
    ``reachable[nu]``: ``parent_prob[nu] > 0``. Where it is ``False``, :math:`p_\mu=0`, the patch
    is never the first patch and :math:`q_\mu` is undefined: its row of ``q`` is left at zero and
    must not be read (use :meth:`patch_q`, which returns ``None`` there), never NaN.
    """

    level: int
    arithmetic: str
    num_synonyms: int
    parent_prob: np.ndarray
    q: np.ndarray
    reachable: np.ndarray

    @property
    def p(self) -> np.ndarray:
        r""":math:`p_\mu` for every patch of ``grammar.patches(level)``, in that order."""
        return np.repeat(self.parent_prob / self.num_synonyms, self.num_synonyms)

    @property
    def num_patches(self) -> int:
        return len(self.parent_prob) * self.num_synonyms

    @property
    def unreachable_patches(self) -> np.ndarray:
        """Indices (into ``grammar.patches(level)``) of patches with :math:`p_\\mu = 0`."""
        return np.flatnonzero(np.repeat(~self.reachable, self.num_synonyms))

    def patch_q(self, patch: int):
        r""":math:`q^{(l)}_\mu` for patch index ``patch``, or ``None`` if :math:`p_\mu = 0`."""
        patch = int_in("patch (index into grammar.patches(level))", patch, 0, self.num_patches - 1)
        nu = patch // self.num_synonyms
        return self.q[nu] if self.reachable[nu] else None


def _law(grammar: Grammar, level: int, arith: str, A: np.ndarray) -> FirstPatchLaw:
    colsum = A.sum(axis=0)
    n_c = grammar.num_classes
    parent_prob = colsum / n_c  # uniform label D_0
    reachable = np.array([c != 0 for c in colsum], dtype=bool)
    if reachable.all():  # the same numbers as the masked form below, without its two copies
        q = np.divide(A.T, colsum[:, None], order="C")
    else:
        q = np.zeros(A.T.shape, dtype=A.dtype) if arith == "float64" else np.full(A.T.shape, Fraction(0), dtype=object)
        q[reachable] = (A[:, reachable] / colsum[reachable]).T
    return FirstPatchLaw(level=level, arithmetic=arith, num_synonyms=grammar.num_synonyms,
                         parent_prob=parent_prob, q=q, reachable=reachable)


def first_patch_law(grammar: Grammar, level: int, arithmetic: str = "auto") -> FirstPatchLaw:
    r""":math:`p_\mu` and :math:`q^{(l)}_\mu` (eq. 4) of every level-:math:`l` patch, exactly
    (:math:`l-1` matrix products; for several levels use :func:`first_patch_laws`)."""
    arith = _arith(grammar, arithmetic)
    grammar._check_level(level)
    _check_size(grammar, level, arith)
    return _law(grammar, level, arith, _chain(grammar, level, arith))


def first_patch_laws(grammar: Grammar, arithmetic: str = "auto") -> tuple[FirstPatchLaw, ...]:
    r"""The :class:`FirstPatchLaw` of every level :math:`l=1..L` (index ``l-1``), from one running product
    :math:`A_{l+1}=A_lP_l`: :math:`L-1` products in all, against :math:`L(L-1)/2` for
    :func:`first_patch_law` level by level, with the same numbers (bit for bit on the dense path). The
    laws are plain values: a caller that needs several quantities of one grammar computes them once and
    passes them on (``laws=`` of :func:`verify.rhm.assumptions.kappa` and
    :func:`~verify.rhm.assumptions.signal_gaps`)."""
    arith = _arith(grammar, arithmetic)
    _check_size(grammar, grammar.num_layers, arith)
    rows, per = max(grammar.num_classes, grammar.num_features), (_FRACTION_BYTES if arith == "fraction" else 8)
    check_memory(f"first_patch_laws (grammar with num_classes={grammar.num_classes}, num_features="
                 f"{grammar.num_features}, num_layers={grammar.num_layers}, arithmetic={arith!r}): one q a level",
                 (grammar.num_layers + 4) * rows * grammar.num_features * (per + 8))
    return tuple(_law(grammar, l, arith, A)
                 for l, A in enumerate(_chains(grammar, grammar.num_layers, arith), start=1))


def p_first_patch(grammar: Grammar, level: int, arithmetic: str = "auto") -> np.ndarray:
    r""":math:`p_\mu = \Pr[\text{first level-}l\text{ patch} = \mu]` for every patch of
    ``grammar.patches(level)``; exactly 0 for a patch that can never come first."""
    return first_patch_law(grammar, level, arithmetic).p


def conditional_q(grammar: Grammar, level: int, arithmetic: str = "auto") -> FirstPatchLaw:
    r"""Exact :math:`q^{(l)}` (eq. 4), indexed ``q[parent_symbol, label]`` (synonyms share it).

    Returns the :class:`FirstPatchLaw`, whose ``reachable`` mask reports parents whose patches
    are never first (:math:`p_\mu = 0`) instead of a NaN row.
    """
    return first_patch_law(grammar, level, arithmetic)
