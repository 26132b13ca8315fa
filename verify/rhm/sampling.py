r"""Sampling from an RHM (Definition 3), vectorized on any torch device.

A sample is drawn top-down: a label :math:`\zeta\sim\mathrm{Unif}(V_0)`, then at every level each
symbol is replaced by one of its :math:`m` rules chosen uniformly and independently. The whole batch
moves one level at a time as a single gather, so there is no Python loop over samples.

Random numbers are drawn on the generator's device from the explicit ``torch.Generator`` and the
result is moved to ``device``: the same seed gives the same samples on CPU and CUDA.

Two samplers of the same law. :func:`sample` is the reference: its random stream (one ``randint`` per
level) is what every recorded claim was computed with, and it stays bit for bit as it is. :func:`sample_fast`
and :func:`sample_batches` are for throughput where no recorded number depends on the stream (benchmarks,
data for SGD baselines you add, training runs of your own): the random bits are drawn in bulk and split,
:math:`\lceil\log_2 m\rceil` bits a choice (rejection when :math:`m` is not a power of two, so each choice is
exactly uniform), each level is one flat-index gather into a preallocated buffer, and
:func:`sample_batches` writes a float32 one-hot by scatter into a reused buffer (channels-last or
channels-first). No index of the whole input is ever formed, so nothing overflows int64 at any depth.
"""
from __future__ import annotations

import dataclasses

import numpy as np
import torch

from ..validate import (check_memory, device as _check_device, generator as _check_generator, instance,
                        int_at_least, int_tokens)
from .grammar import Grammar, encode_patches

__all__ = ["Parse", "expand", "one_hot", "parse", "sample", "sample_batches", "sample_derivations", "sample_fast",
           "sample_spine", "uniform_choices"]


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
                 x.numel() * v * torch.empty((), dtype=dtype).element_size())
    # a scatter straight into the dtype (no int64 one-hot and cast): the same zeros and ones
    out = torch.zeros(*x.shape, v, dtype=dtype, device=x.device)
    return out.scatter_(-1, x.long().unsqueeze(-1), 1)


# -- the fast sampler: bulk random bits, one flat gather a level, reused buffers ---------------------------
def uniform_choices(k: int, m: int, generator: torch.Generator, device=None) -> torch.Tensor:
    r"""``k`` independent uniform integers in :math:`[0,m)` (int64), from random bits drawn in bulk: for
    :math:`m\le256`, :math:`b=\lceil\log_2 m\rceil` bits a choice, :math:`\lfloor 8/b\rfloor` choices a
    random byte, 7 bytes a random 63-bit word; when :math:`m` is not a power of two, values :math:`\ge m` are rejected and redrawn (so each
    choice is exactly uniform, never reduced modulo :math:`m`). Larger :math:`m`: ``torch.randint``."""
    k = int_at_least("k (number of choices)", k, 0)
    m = int_at_least("m (number of values)", m, 1)
    _check_generator("generator", generator)
    device = generator.device if device is None else _check_device("device", device)
    check_memory(f"uniform_choices(k={k}, m={m})", 3 * 8 * k)
    if m == 1:
        return torch.zeros(k, dtype=torch.long, device=device)
    if m > 256:
        return torch.randint(m, (k,), generator=generator, device=generator.device).to(device)
    b = (m - 1).bit_length()
    per_byte = 8 // b
    shifts = torch.arange(per_byte, dtype=torch.uint8, device=generator.device) * b
    mask = (1 << b) - 1
    out, have = [], 0
    while have < k:
        want = k - have
        draw = want if m == 1 << b else int(want * (1 << b) / m * 1.05) + 64  # expected rejections, and a margin
        nbytes = -(-draw // per_byte)
        # random_() fills int64 with 63 uniform bits: the 7 low bytes of each word are uniform, the top one is not
        words = torch.empty(-(-nbytes // 7), dtype=torch.int64, device=generator.device).random_(generator=generator)
        uniform = words.view(torch.uint8).view(-1, 8)[:, :7].reshape(-1)[:nbytes]
        raw = ((uniform[:, None] >> shifts) & mask).view(-1)
        if m != 1 << b:
            raw = raw[raw < m]
        raw = raw[:want]
        out.append(raw)
        have += raw.numel()
    return (out[0] if len(out) == 1 else torch.cat(out)).to(device, torch.long)


class _FastSampler:
    """Per-level rule tables ``(|V_l| m, s)`` and buffers for batches of ``batch_size`` derivations."""

    def __init__(self, grammar: Grammar, batch_size: int, generator: torch.Generator, device):
        self.g, self.gen, self.device, self.b = grammar, generator, device, batch_size
        s = grammar.tuple_size
        self.tables = [torch.tensor(r, device=device).reshape(-1, s) for r in grammar.rules]
        self.levels = [torch.empty(batch_size * s**l, dtype=torch.long, device=device)
                       for l in range(grammar.num_layers)]  # symbols of levels 0..L-1, then flat indices

    def draw(self, x: torch.Tensor, y: torch.Tensor) -> None:
        """Fill ``x`` ``(b, s^L)`` (int64, contiguous) and ``y`` ``(b,)`` with fresh derivations, b <= batch_size."""
        g, b, s, m = self.g, x.shape[0], self.g.tuple_size, self.g.num_synonyms
        total = (s**g.num_layers - 1) // (s - 1)  # rule choices a derivation makes
        choices = uniform_choices(b * total, m, self.gen, self.device)
        y.copy_(uniform_choices(b, g.num_classes, self.gen, self.device))
        sym, offset = y, 0
        for l, table in enumerate(self.tables):
            k = b * s**l
            idx = self.levels[l][:k]
            torch.mul(sym.reshape(-1), m, out=idx)  # flat row index: parent * m + rule
            idx.add_(choices[offset:offset + k])
            offset += k
            nxt = x.view(-1, s) if l == g.num_layers - 1 else self.levels[l + 1][:k * s].view(-1, s)
            torch.index_select(table, 0, idx, out=nxt)
            sym = nxt


def _fast_args(grammar, n, generator, device, batch_size):
    _check_grammar(grammar)
    n = _check_n(n)
    batch_size = int_at_least("batch_size", batch_size, 1)
    device = _device(device, generator)
    return n, batch_size, device


def sample_fast(grammar: Grammar, n: int, generator: torch.Generator, device=None,
                batch_size: int = 1 << 14) -> tuple[torch.Tensor, torch.Tensor]:
    r"""``n`` i.i.d. samples :math:`(x,\zeta)` of the RHM, like :func:`sample` (same law, same shapes and
    dtypes) but from another random stream: bulk random bits (:func:`uniform_choices`) and one flat gather
    a level, written into one preallocated output. For benchmarks and data whose numbers no record
    depends on; the claims use :func:`sample`."""
    n, batch_size, device = _fast_args(grammar, n, generator, device, batch_size)
    check_memory(f"sample_fast(n={n}, input length s**L={grammar.input_length}, batch_size={batch_size})",
                 8 * n * (grammar.input_length + 1) + _tree_bytes(grammar, min(n, batch_size)))
    x = torch.empty(n, grammar.input_length, dtype=torch.long, device=device)
    y = torch.empty(n, dtype=torch.long, device=device)
    sampler = _FastSampler(grammar, min(batch_size, max(n, 1)), generator, device)
    for start in range(0, n, batch_size):
        stop = min(n, start + batch_size)
        sampler.draw(x[start:stop], y[start:stop])
    return x, y


def sample_batches(grammar: Grammar, n: int, generator: torch.Generator, batch_size: int = 4096, device=None,
                   one_hot: bool = True, channels_first: bool = False, dtype=torch.float32):
    r"""Yield ``n`` samples in batches ``(inputs, y)``, as a network consumes them: ``inputs`` the float
    one-hot ``(b, s^L, V)`` (``channels_first=True``: ``(b, V, s^L)``, a Conv1d's layout), or the int64
    tokens ``(b, s^L)`` with ``one_hot=False``. The stream of :func:`sample_fast`.

    **The tensors are reused buffers**: the next batch overwrites them (clone what you keep). The one-hot
    buffer is zeroed once; afterwards only the previous batch's ones are cleared and the new ones set by
    scatter, so a batch costs :math:`O(b\,s^L)` writes, not :math:`O(b\,s^LV)`."""
    n, batch_size, device = _fast_args(grammar, n, generator, device, batch_size)
    if not isinstance(one_hot, bool) or not isinstance(channels_first, bool):
        raise ValueError(f"one_hot and channels_first must be True or False; got {one_hot!r}, {channels_first!r}")
    if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
        raise ValueError(f"dtype must be a floating torch dtype; got {dtype!r}")
    b, d, v = min(batch_size, max(n, 1)), grammar.input_length, grammar.num_features
    check_memory(f"sample_batches(batch_size={b}, input length s**L={d}, num_features={v})",
                 b * d * (v * torch.empty((), dtype=dtype).element_size() + 40) + _tree_bytes(grammar, b))
    sampler = _FastSampler(grammar, b, generator, device)
    x = torch.empty(b, d, dtype=torch.long, device=device)
    y = torch.empty(b, dtype=torch.long, device=device)
    if one_hot:
        out = torch.zeros(b, v, d, dtype=dtype, device=device) if channels_first else \
            torch.zeros(b, d, v, dtype=dtype, device=device)
        flat_out = out.view(-1)
        # flat position of token t of sample i with value 0; a value x adds x * stride
        pos = torch.arange(b * d, device=device)
        base, stride = ((pos // d) * (v * d) + pos % d, d) if channels_first else (pos * v, 1)
        flat = torch.empty(b * d, dtype=torch.long, device=device)
        previous = None
    for start in range(0, n, b):
        k = min(b, n - start)
        sampler.draw(x[:k], y[:k])
        if not one_hot:
            yield x[:k], y[:k]
            continue
        if previous is not None:
            flat_out.index_fill_(0, previous, 0)  # clear the last batch's ones
        idx = flat[:k * d]
        torch.add(base[:k * d], x[:k].view(-1), alpha=stride, out=idx)
        flat_out.index_fill_(0, idx, 1)
        previous = idx
        yield out[:k], y[:k]
