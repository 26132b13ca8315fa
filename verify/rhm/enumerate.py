r"""Brute force: every derivation of a tiny RHM, each with its exact probability.

A derivation picks a label and one rule at each of the :math:`(s^L-1)/(s-1)` internal nodes of the
tree; all :math:`n_c\,m^{(s^L-1)/(s-1)}` derivations are equally likely. This is the independent
reference that the exact algebra of :mod:`verify.rhm.exact` and the vectorized sampler of
:mod:`verify.rhm.sampling` are tested against, so it shares no code with either: it reads the
production rules of the grammar directly and builds every subtree recursively, from the leaves up,
as the Cartesian product of its children's subtrees (no choice indexing, no ``expand``).
"""
from __future__ import annotations

import dataclasses
from fractions import Fraction

import numpy as np
import torch

from ..validate import check_memory, instance, int_at_least
from .grammar import Grammar

__all__ = ["MAX_DERIVATIONS", "Derivations", "enumerate_derivations", "num_derivations"]

MAX_DERIVATIONS = 2_000_000
_MAX_COUNT_BITS = 1 << 20


def num_derivations(grammar: Grammar) -> int:
    r""":math:`n_c\,m^{(s^L-1)/(s-1)}`, the number of derivations (exact int); refused when it has more than
    :math:`2^{20}` bits (a grammar far beyond enumeration)."""
    instance("grammar", grammar, Grammar)
    s, L, m = grammar.tuple_size, grammar.num_layers, grammar.num_synonyms
    nodes = (s**L - 1) // (s - 1)
    if m > 1 and nodes * np.log2(m) > _MAX_COUNT_BITS:
        raise ValueError(f"grammar has about 2**{nodes * np.log2(m):.3g} derivations (num_synonyms={m}, "
                         f"tuple_size={s}, num_layers={L}): too many to count exactly")
    return grammar.num_classes * m**nodes


@dataclasses.dataclass(frozen=True)
class Derivations:
    """All derivations: ``labels`` ``[D]``, ``choices[l]`` ``[D, s**l]`` (the rule used at each node of
    depth ``l``, left to right), inputs ``x`` ``[D, s**L]``; each has probability ``probability``."""
    labels: torch.Tensor
    choices: list
    x: torch.Tensor
    probability: Fraction


def _subtrees(rules, depth: int, symbol: int, memo: dict) -> tuple[np.ndarray, list[np.ndarray]]:
    """Every derivation of the subtree whose root ``symbol`` sits at ``depth``: its leaves
    ``[n, s**(L-depth)]`` and its rule choices ``[n, s**j]`` for the nodes at relative depth ``j``."""
    key = (depth, symbol)
    if key in memo:
        return memo[key]
    if depth == len(rules):                      # a leaf: the token itself
        out = (np.array([[symbol]], dtype=np.int64), [])
        memo[key] = out
        return out
    leaves_all, choices_all = [], []
    for r, children in enumerate(np.asarray(rules[depth][symbol]).tolist()):
        subs = [_subtrees(rules, depth + 1, int(c), memo) for c in children]
        counts = [len(leaves) for leaves, _ in subs]
        # Cartesian product of the children's derivations, first child slowest
        grid = [g.ravel() for g in np.meshgrid(*[np.arange(c) for c in counts], indexing="ij")]
        leaves = np.concatenate([subs[i][0][grid[i]] for i in range(len(subs))], axis=1)
        levels = [np.full((len(grid[0]), 1), r, dtype=np.int64)]
        for j in range(len(subs[0][1])):
            levels.append(np.concatenate([subs[i][1][j][grid[i]] for i in range(len(subs))], axis=1))
        leaves_all.append(leaves)
        choices_all.append(levels)
    out = (np.concatenate(leaves_all), [np.concatenate([c[j] for c in choices_all]) for j in range(len(choices_all[0]))])
    memo[key] = out
    return out


def enumerate_derivations(grammar: Grammar, limit: int = MAX_DERIVATIONS) -> Derivations:
    """Every derivation of ``grammar``; raises ``ValueError`` if there are more than ``limit`` or if they would
    not fit in the memory limit."""
    instance("grammar", grammar, Grammar)
    limit = int_at_least("limit", limit, 1)
    s, L, m = grammar.tuple_size, grammar.num_layers, grammar.num_synonyms
    nodes = (s**L - 1) // (s - 1)
    if m > 1 and nodes * np.log2(m) + np.log2(grammar.num_classes) > np.log2(limit) + 1:
        raise ValueError(f"grammar has about 2**{nodes * np.log2(m) + np.log2(grammar.num_classes):.3g} "
                         f"derivations, more than limit={limit}: enumeration is only for tiny grammars "
                         f"(reduce num_synonyms, tuple_size or num_layers)")
    total = num_derivations(grammar)
    if total > limit:
        raise ValueError(f"grammar has {total} derivations, more than limit={limit}: enumeration is "
                         f"only for tiny grammars (reduce num_synonyms, tuple_size or num_layers)")
    # per derivation: its leaves and rule choices (int64), built by concatenation (a few copies at once)
    check_memory(f"enumerate_derivations(grammar with {total} derivations, input length s**L={s**L})",
                 4 * 8 * total * (s**L + nodes + 1))
    memo: dict = {}
    labels, xs, choices = [], [], []
    for label in range(grammar.num_classes):
        leaves, ch = _subtrees(grammar.rules, 0, label, memo)
        labels.append(np.full(len(leaves), label, dtype=np.int64))
        xs.append(leaves)
        choices.append(ch)
    x = np.concatenate(xs)
    if len(x) != total:  # the product structure must account for every derivation exactly once
        raise AssertionError(f"enumerated {len(x)} derivations, expected {total}")
    ch = [torch.from_numpy(np.concatenate([c[l] for c in choices])) for l in range(grammar.num_layers)]
    return Derivations(labels=torch.from_numpy(np.concatenate(labels)), choices=ch, x=torch.from_numpy(x),
                       probability=Fraction(1, total))
