r"""Brute force: every derivation of a tiny RHM, each with its exact probability.

A derivation picks a label and one rule at each of the :math:`(s^L-1)/(s-1)` internal nodes of the
tree; all :math:`n_c\,m^{(s^L-1)/(s-1)}` derivations are equally likely. This is the independent
reference that the exact algebra of :mod:`verify.rhm.exact` is tested against (it shares no code
with it), and the exact small case of the clean-signal claim.
"""
from __future__ import annotations

import dataclasses
from fractions import Fraction

import numpy as np
import torch

from .grammar import Grammar
from .sampling import expand

MAX_DERIVATIONS = 2_000_000


def num_derivations(grammar: Grammar) -> int:
    s, L = grammar.tuple_size, grammar.num_layers
    return grammar.num_classes * grammar.num_synonyms ** ((s**L - 1) // (s - 1))


@dataclasses.dataclass(frozen=True)
class Derivations:
    """All derivations: ``labels`` ``[D]``, ``choices[l]`` ``[D, s**l]``, inputs ``x`` ``[D, s**L]``;
    each has probability ``probability`` (a Fraction)."""
    labels: torch.Tensor
    choices: list
    x: torch.Tensor
    probability: Fraction


def enumerate_derivations(grammar: Grammar, limit: int = MAX_DERIVATIONS) -> Derivations:
    """Every derivation of ``grammar``; raises ``ValueError`` if there are more than ``limit``."""
    total = num_derivations(grammar)
    if total > limit:
        raise ValueError(f"grammar has {total} derivations, more than limit={limit}: enumeration is "
                         f"only for tiny grammars (reduce num_synonyms, tuple_size or num_layers)")
    s, L, m = grammar.tuple_size, grammar.num_layers, grammar.num_synonyms
    code = np.arange(total, dtype=np.int64)
    labels = code % grammar.num_classes
    code //= grammar.num_classes
    choices = []
    for l in range(L):
        digits = np.empty((total, s**l), dtype=np.int64)
        for k in range(s**l):
            digits[:, k] = code % m
            code //= m
        choices.append(torch.from_numpy(digits))
    labels_t = torch.from_numpy(labels)
    x = expand(grammar, labels_t, choices)
    return Derivations(labels=labels_t, choices=choices, x=x, probability=Fraction(1, total))
