"""Injected bugs for the claims of lemmas/appendix_c/ (see tests/catch_bugs/__init__.py).

Each bug is a plausible slip in a library function of ``verify.boolean`` that the named check case
reaches through a module attribute looked up at call time (``deep_quadratic._random_matching``,
``deep_quadratic.splits``, ``network.pair_index``, ``network.pair_features``, ``layerwise.residual``,
``layerwise.select_support``); the case must then fail or go inconclusive."""
from __future__ import annotations

import numpy as np
import torch

from verify.boolean import deep_quadratic as dq
from verify.boolean import layerwise as lw
from verify.boolean import network as nw

from . import Bug, lemma_module  # noqa: F401

_sets_by_degree = dq.sets_by_degree
_as_monomial = dq._as_monomial


def _matching_stride_one(nodes, merges, generator):
    """Pairs consecutive entries of the permutation with stride 1 instead of 2: (p0,p1), (p1,p2), ...
    -- merged nodes of one level share a child."""
    perm = torch.randperm(len(nodes), generator=generator).tolist()
    return [(nodes[perm[k]], nodes[perm[k + 1]]) for k in range(merges)]


def _splits_ordered(support, S, *, _trusted=False):
    """Counts ordered pairs (S1, S2) and (S2, S1) as two splits (the canonical-order test dropped)."""
    by_degree = support if _trusted else _sets_by_degree(dq._support_of(support))
    S = _as_monomial("S", S)
    if len(S) == 2:
        i, j = sorted(S)
        return [(frozenset({i}), frozenset({j}))]
    if len(S) < 2 or len(S) % 2:
        return []
    halves = set(by_degree.get(len(S) // 2, ()))
    return [(A, S - A) for A in halves if A <= S and (S - A) in halves]


def _pair_index_column_major(i, j, D):
    """The position of x_i x_j in the column-major order (0,1), (0,2), (1,2), (0,3), ... while
    pair_features lists the row-major order."""
    return j * (j - 1) // 2 + i


def _pair_features_with_diagonal(x):
    """np.triu_indices with k=0: the squares x_i x_i = 1 are listed too, shifting every position."""
    a = np.asarray(x)
    i, j = np.triu_indices(a.shape[-1], k=0)
    return a[..., i] * a[..., j]


def _residual_through_level(target, level_outputs, level):
    """Off by one: subtracts f^(l') for l' <= l (the current level too) instead of l' < l."""
    r = target
    for out in level_outputs[:level]:
        r = r - out.f
    return r


def _select_signed(w, threshold):
    """Keeps w >= threshold instead of |w| >= threshold: terms with a negative coefficient are lost."""
    return np.flatnonzero(np.asarray(w, dtype=np.float64) >= threshold)


BUGS: list[Bug] = [
    Bug("appendix_c_definition_31", "sampler_d4_to_12", "random matching pairs the permutation with stride 1",
        lambda mp: mp.setattr(dq, "_random_matching", _matching_stride_one)),
    Bug("appendix_c_definition_31", "sampler_d16_to_128", "random matching pairs the permutation with stride 1",
        lambda mp: mp.setattr(dq, "_random_matching", _matching_stride_one)),
    Bug("appendix_c_remark_32", "figure3", "splits counts (S1, S2) and (S2, S1) separately",
        lambda mp: mp.setattr(dq, "splits", _splits_ordered)),
    Bug("appendix_c_eq14_network", "figure3", "pair_index uses the column-major order of the pairs",
        lambda mp: mp.setattr(nw, "pair_index", _pair_index_column_major)),
    Bug("appendix_c_eq14_network", "sampled_d12_depth3", "pair_features includes the diagonal x_i x_i",
        lambda mp: mp.setattr(nw, "pair_features", _pair_features_with_diagonal)),
    Bug("appendix_c_clean_signal", "sampled_d8_depth3", "residual subtracts the current level too (l' <= l)",
        lambda mp: mp.setattr(lw, "residual", _residual_through_level)),
    Bug("appendix_c_layerwise_learning", "d12_n4d2", "support selection keeps w >= tau instead of |w| >= tau",
        lambda mp: mp.setattr(lw, "select_support", _select_signed)),
]
