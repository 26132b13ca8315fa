r"""Sampling from an RHM (Definition 3), vectorized on any torch device.

A sample is drawn top-down: a label :math:`\zeta\sim\mathrm{Unif}(V_0)`, then at every level each
symbol is replaced by one of its :math:`m` rules chosen uniformly and independently. The whole batch
moves one level at a time as a single gather, so there is no Python loop over samples.

Random numbers are drawn on the generator's device from the explicit ``torch.Generator`` and the
result is moved to ``device``: the same seed gives the same samples on CPU and CUDA.
"""
from __future__ import annotations

import dataclasses

import numpy as np
import torch

from ..validate import (check_memory, device as _check_device, generator as _check_generator, instance,
                        int_at_least, int_tokens)
from .grammar import Grammar, encode_patches

__all__ = ["Parse", "expand", "one_hot", "parse", "sample", "sample_derivations", "sample_spine"]


def _check_n(n) -> int:
    return int_at_least("n (number of samples)", n, 0)


def _check_grammar(grammar) -> Grammar:
    return instance("grammar", grammar, Grammar)


def _device(device, generator: torch.Generator) -> torch.device:
    _check_generator("generator", generator)
    return _check_device("device", device, default=generator.device)


def _tree_bytes(grammar: Grammar, n: int) -> int:
    """Bytes of one batch of ``n`` derivations: the rule choices of every level (int64) and the inputs,
    with a copy of each while they are built."""
    s, L = grammar.tuple_size, grammar.num_layers
    nodes = (s ** (L + 1) - 1) // (s - 1)  # sum of s**l for l = 0..L
    return 2 * 8 * n * nodes


def _rules_on(grammar: Grammar, device) -> list[torch.Tensor]:
    return [torch.tensor(r, device=device) for r in grammar.rules]  # copy: rules are read-only


def expand(grammar: Grammar, labels: torch.Tensor, choices: list[torch.Tensor]) -> torch.Tensor:
    r"""Deterministic derivation: the inputs generated from ``labels`` (``[n]``) when the node
    ``k`` of level ``l`` uses rule ``choices[l][:, k]`` (``choices[l]``: ``[n, s**l]``, in
    ``[0, m)``). Returns the level-:math:`L` sequence ``[n, s**L]``, int64."""
    _check_grammar(grammar)
    labels = int_tokens("labels (shape [n])", labels, grammar.num_classes, (None,))
    if not isinstance(choices, (list, tuple)) or len(choices) != grammar.num_layers:
        raise ValueError(f"choices must hold one tensor per level (num_layers={grammar.num_layers}); "
                         f"got {len(choices) if isinstance(choices, (list, tuple)) else type(choices).__name__}")
    seq = labels.reshape(-1, 1)
    n = seq.shape[0]
    for l in range(grammar.num_layers):
        int_tokens(f"choices[{l}] (rule indices)", choices[l], grammar.num_synonyms, (n, grammar.tuple_size**l))
        if choices[l].device != seq.device:
            raise ValueError(f"choices[{l}] is on {choices[l].device} but labels on {seq.device}")
    check_memory(f"expand(labels and choices of {n} derivations, input length s**L={grammar.input_length})", _tree_bytes(grammar, n))
    for l, rules in enumerate(_rules_on(grammar, seq.device)):
        seq = rules[seq, choices[l]].reshape(n, -1)
    return seq


def sample_derivations(grammar: Grammar, n: int, generator: torch.Generator, device=None
                       ) -> tuple[torch.Tensor, list[torch.Tensor]]:
    r"""Random labels ``[n]`` and rule choices (``choices[l]``: ``[n, s**l]``, uniform in
    :math:`[0,m)`): the randomness of :func:`sample`, exposed so that a caller can alter a
    derivation (a negative control that leaks the label into the tree, say) before :func:`expand`."""
    _check_grammar(grammar)
    n = _check_n(n)
    device = _device(device, generator)
    check_memory(f"sample_derivations(n={n}, input length s**L={grammar.input_length})", _tree_bytes(grammar, n))
    y = torch.randint(grammar.num_classes, (n,), generator=generator, device=generator.device)
    choices = [torch.randint(grammar.num_synonyms, (n, grammar.tuple_size**l), generator=generator,
                             device=generator.device).to(device) for l in range(grammar.num_layers)]
    return y.to(device), choices


def sample(grammar: Grammar, n: int, generator: torch.Generator, device=None,
           batch_size: int = 1 << 16) -> tuple[torch.Tensor, torch.Tensor]:
    r"""Draw ``n`` i.i.d. samples :math:`(x,\zeta)` of the RHM.

    Returns ``x``: int64 ``[n, s**L]`` tokens in :math:`[0,V)` and ``y``: int64 ``[n]`` labels.
    One-hot encodings are made on demand, batch by batch (:func:`one_hot`). The samples are a
    deterministic function of the generator's state and ``batch_size`` (the random stream is
    consumed batch by batch).
    """
    _check_grammar(grammar)
    n = _check_n(n)
    batch_size = int_at_least("batch_size", batch_size, 1)
    device = _device(device, generator)
    check_memory(f"sample(n={n}, input length s**L={grammar.input_length}, batch_size={batch_size})",
                 2 * 8 * n * (grammar.input_length + 1) + _tree_bytes(grammar, min(n, batch_size)))
    xs, ys = [], []
    for start in range(0, n, batch_size):
        y, choices = sample_derivations(grammar, min(batch_size, n - start), generator, device)
        xs.append(expand(grammar, y, choices))
        ys.append(y)
    if not xs:
        return (torch.empty(0, grammar.input_length, dtype=torch.long, device=device),
                torch.empty(0, dtype=torch.long, device=device))
    return torch.cat(xs), torch.cat(ys)


def sample_spine(grammar: Grammar, n: int, generator: torch.Generator, device=None) -> tuple[torch.Tensor, torch.Tensor]:
    r"""Labels and the first patch of every level, without the rest of the tree.

    The first level-:math:`l` patch depends only on the leftmost path of the tree (the rest of the
    tree is drawn independently), so :math:`(\zeta,\mu^{(1)}_1,\dots,\mu^{(L)}_1)` can be sampled in
    :math:`O(nL)`: this is the law behind :math:`p_\mu` and :math:`q^{(l)}_\mu` (eq. 4). Returns
    ``y`` ``[n]`` and ``first_patch`` ``[n, L]``, where ``first_patch[:, l-1]`` indexes
    ``grammar.patches(l)`` (parent ``* m`` + rule).
    """
    _check_grammar(grammar)
    n = _check_n(n)
    device = _device(device, generator)
    check_memory(f"sample_spine(n={n}, num_layers={grammar.num_layers})", 3 * 8 * n * (grammar.num_layers + 2))
    m = grammar.num_synonyms
    y = torch.randint(grammar.num_classes, (n,), generator=generator, device=generator.device).to(device)
    sym, idx = y, []
    for rules in _rules_on(grammar, device):
        r = torch.randint(m, (n,), generator=generator, device=generator.device).to(device)
        idx.append(sym * m + r)
        sym = rules[sym, r, 0]  # the first token of the chosen patch starts the next level
    return y, torch.stack(idx, dim=1) if idx else torch.empty(n, 0, dtype=torch.long, device=device)


@dataclasses.dataclass(frozen=True)
class Parse:
    """The unique parse of inputs (non-ambiguity): ``symbols[l]`` is ``[n, s**l]`` for
    :math:`l=0..L` (``symbols[0][:, 0]`` is the label) and ``patch_index[l]``, for :math:`l\\ge1`,
    is ``[n, s**(l-1)]``, indexing ``grammar.patches(l)``."""
    symbols: list
    patch_index: list

    @property
    def labels(self) -> torch.Tensor:
        return self.symbols[0][:, 0]


def parse(grammar: Grammar, x: torch.Tensor) -> Parse:
    r"""Parse inputs bottom-up, level by level, by looking each patch up among the rules.

    Raises ``ValueError`` if ``x`` is not an int tensor ``[n, s**L]`` of tokens in :math:`[0,V)`, or if some
    patch is produced by no rule (the input is not in the language).
    """
    _check_grammar(grammar)
    v, s, L = grammar.num_features, grammar.tuple_size, grammar.num_layers
    int_tokens("x (tokens, shape [n, s**L])", x, v, (None, grammar.input_length))
    weights = torch.as_tensor(v ** np.arange(s - 1, -1, -1), device=x.device, dtype=torch.long)
    symbols = [None] * (L + 1)
    patch_index = [None] * (L + 1)
    symbols[L] = x
    seq = x
    for l in range(L, 0, -1):
        codes = torch.as_tensor(encode_patches(grammar.patches(l), v), device=x.device)
        order = torch.argsort(codes)
        sorted_codes = codes[order]
        query = seq.reshape(seq.shape[0], -1, s) @ weights
        pos = torch.searchsorted(sorted_codes, query).clamp_max(len(codes) - 1)
        if not torch.equal(sorted_codes[pos], query):
            raise ValueError(f"x is not in the grammar's language: a level-{l} patch matches no rule")
        idx = order[pos]
        patch_index[l] = idx
        seq = idx // grammar.num_synonyms
        symbols[l - 1] = seq
    return Parse(symbols=symbols, patch_index=patch_index)


def one_hot(x: torch.Tensor, num_features: int, dtype=torch.float32) -> torch.Tensor:
    """One-hot encoding ``[..., num_features]`` of int tokens in :math:`[0, V)`; call it batch by batch."""
    v = int_at_least("num_features (V)", num_features, 1)
    int_tokens("x (tokens)", x, v)
    if not isinstance(dtype, torch.dtype) or dtype.is_complex:
        raise ValueError(f"dtype must be a real torch dtype; got {dtype!r}")
    check_memory(f"one_hot(x with {x.numel()} tokens, num_features={v})",
                 x.numel() * v * (8 + torch.empty((), dtype=dtype).element_size()))
    return torch.nn.functional.one_hot(x.long(), v).to(dtype)
