r"""The RHM as ``torch.utils.data`` datasets: a fixed, disjoint train/test split and an endless stream.

:class:`RHMDataset` is a drop-in for the RHM authors' ``RandomHierarchyModel(Dataset)``
(``pcsl-epfl/hierarchy-learning``, ``datasets/hierarchical.py``): the same argument names and defaults
(``num_features=8, num_classes=2, num_synonyms=2, tuple_size=2, num_layers=2, seed_rules=0, seed_sample=1,
train_size=-1, test_size=0, input_format="onehot", whitening=0, transform=None``), the same channels-first
one-hot inputs (float32 ``[num_features, s**L]`` a sample), int64 labels. It goes further in three ways:

* train and test are **disjoint as sets of inputs** and selected by ``train=`` (or both at once by
  :meth:`RHMDataset.splits`), from one draw of ``train_size + test_size`` distinct inputs;
* every random number comes from explicit seeds (no global RNG is touched);
* a hand-made grammar, e.g. one made by the authors' rule generator, is passed as ``grammar=``
  (:meth:`verify.rhm.Grammar.from_rules`).

:class:`RHMStream` is an ``IterableDataset`` of fresh i.i.d. batches, forever: batch :math:`i` is a
deterministic function of ``(seed_sample, i)``, and ``DataLoader`` worker :math:`k` of :math:`n` yields
batches :math:`i=k, k+n, k+2n,\dots`, so the stream a ``DataLoader`` returns does not depend on its
``num_workers``.

**The law of the data (Paper A, Definitions 3-4, Remark 5).** Every derivation (a label and one rule per
internal node of the tree) has probability :math:`1/(n_c\,m^{(s^L-1)/(s-1)})`, and a non-ambiguous grammar
has exactly one derivation per input, so the RHM's input law is *uniform* on its language of
:math:`P=n_c\,m^{(s^L-1)/(s-1)}` inputs (:func:`num_inputs`). Drawing i.i.d. inputs and keeping each the first
time it appears therefore yields a uniformly random ordered set of distinct inputs: each element has
the RHM law, and the first ``train_size`` of them and the next ``test_size`` are a uniformly random
disjoint split. ``tests/test_rhm_data.py`` checks both laws against the enumerated derivations
(:func:`verify.rhm.enumerate_derivations`) with :math:`\chi^2` tests.

**Differences from the authors' class.** ``input_format="long"`` gives the tokens in :math:`[0,V)`, as
:func:`verify.rhm.sample` does (the authors' ``"long"`` adds 1, keeping 0 for a mask token: add 1 yourself
to match); the authors' ``"binary"``, ``"decimal"``, ``"onehot_tuples"`` formats and ``replacement=True`` are
not offered (for i.i.d. draws with replacement, use :class:`RHMStream`); the rules are drawn by
:func:`verify.rhm.sample_grammar` (``sampler="authors"``: the authors' *law* -- patches uniformly without
replacement from :math:`V^s` -- but not their Python ``random`` stream, so ``seed_rules=0`` here is not their
``seed_rules=0``; pass their rules as ``grammar=`` to use the very same grammar). The inputs drawn from a
given grammar are not the authors' samples either (they index derivations with Python's ``random.sample``).
"""
from __future__ import annotations

import copy
import math
import numbers

import numpy as np
import torch
from torch.utils.data import Dataset, IterableDataset, get_worker_info

from ..validate import boolean, check_memory, generator as _check_generator, instance, int_at_least, int_tokens, one_of
from .grammar import SAMPLERS, Grammar, sample_grammar
from .sampling import expand, one_hot, sample

__all__ = ["AUTHORS_DEFAULTS", "INPUT_FORMATS", "RHMDataset", "RHMStream", "batch_seed", "draw_distinct", "encode",
           "num_inputs"]

INPUT_FORMATS = ("onehot", "long")
#: The RHM authors' defaults of ``RandomHierarchyModel`` (used for a rule argument left at ``None``).
AUTHORS_DEFAULTS = {"num_features": 8, "num_classes": 2, "num_synonyms": 2, "tuple_size": 2, "num_layers": 2}
_RULE_ARGS = tuple(AUTHORS_DEFAULTS)
_MAX_REJECTION_ROUNDS = 200


# -- the language and its distinct inputs ----------------------------------------------------------------
def num_inputs(grammar: Grammar) -> int | None:
    r"""The number :math:`P=n_c\,m^{(s^L-1)/(s-1)}` of distinct inputs of a non-ambiguous grammar (one
    derivation each; the authors' ``max_data``), or ``None`` when :math:`P\ge2^{62}` (far more than any data
    set drawn from it)."""
    instance("grammar", grammar, Grammar)
    s, L, m, n_c = grammar.tuple_size, grammar.num_layers, grammar.num_synonyms, grammar.num_classes
    nodes = (s**L - 1) // (s - 1)
    if m > 1 and math.log2(n_c) + nodes * math.log2(m) >= 64:
        return None
    total = n_c * m**nodes
    return total if total < 2**62 else None


def _first_occurrences(x: torch.Tensor, num_features: int) -> torch.Tensor:
    """Indices of the first occurrence of each distinct row of ``x`` ``[k, d]`` (tokens in ``[0, num_features)``),
    in increasing order, so the rows keep the order in which they were drawn. Rows are compared as byte
    strings of the smallest unsigned dtype that holds a token (``numpy.unique`` of a void view)."""
    k = x.shape[0]
    if k == 0:
        return torch.empty(0, dtype=torch.long)
    dtype = np.uint8 if num_features <= 1 << 8 else np.uint16 if num_features <= 1 << 16 else np.uint32
    a = np.ascontiguousarray(x.numpy().astype(dtype))
    rows = a.view(np.dtype((np.void, a.shape[1] * a.itemsize))).ravel()
    _, first = np.unique(rows, return_index=True)
    return torch.from_numpy(np.sort(first).astype(np.int64))


def _draw_by_index(grammar: Grammar, n: int, total: int, generator: torch.Generator):
    r"""``n`` distinct derivations as a uniformly random ordered subset of the derivation indices
    :math:`[0,P)`: index :math:`i` is label :math:`\lfloor i/m^{N}\rfloor` and, in base :math:`m` (most
    significant digit first), the rules of the :math:`N=(s^L-1)/(s-1)` internal nodes, level by level, left
    to right; :func:`verify.rhm.expand` builds the inputs."""
    s, L, m = grammar.tuple_size, grammar.num_layers, grammar.num_synonyms
    nodes = (s**L - 1) // (s - 1)
    check_memory(f"RHM data set of {n} distinct inputs drawn among all P={total} (a permutation of [0, P), "
                 f"input length s**L={grammar.input_length})", 8 * (2 * total + n * (3 * nodes + 2 * s**L)))
    idx = torch.randperm(total, generator=generator)[:n]
    per_label = m**nodes
    labels = idx // per_label
    rest = idx % per_label
    powers = torch.tensor([m ** (nodes - 1 - j) for j in range(nodes)], dtype=torch.long)
    digits = (rest[:, None] // powers) % m  # [n, nodes]
    choices, start = [], 0
    for level in range(L):
        choices.append(digits[:, start:start + s**level].contiguous())
        start += s**level
    return expand(grammar, labels, choices), labels


def _draw_by_rejection(grammar: Grammar, n: int, total: int | None, generator: torch.Generator):
    r"""``n`` distinct inputs: i.i.d. draws of :func:`verify.rhm.sample`, each kept the first time it appears,
    topped up until there are ``n`` (called with ``n <= P/2``, so every draw is new with probability >= 1/2).
    Each round draws the missing count times :math:`P/(P-n)\le2` (the inverse of the least chance that a
    draw is new), plus 16."""
    d = grammar.input_length
    check_memory(f"RHM data set of {n} distinct inputs (input length s**L={d}), drawn and deduplicated",
                 8 * 6 * (n + 16) * (d + 1) + 8 * 4 * (n + 16))
    xs = torch.empty(0, d, dtype=torch.long)
    ys = torch.empty(0, dtype=torch.long)
    for _ in range(_MAX_REJECTION_ROUNDS):
        if len(xs) >= n:
            return xs[:n], ys[:n]
        missing = n - len(xs)
        draws = missing + 16 if total is None else -(-missing * total // (total - n)) + 16
        x, y = sample(grammar, draws, generator)
        x, y = torch.cat([xs, x]), torch.cat([ys, y])
        keep = _first_occurrences(x, grammar.num_features)
        xs, ys = x[keep], y[keep]
    if len(xs) >= n:
        return xs[:n], ys[:n]
    raise RuntimeError(f"drew only {len(xs)} of {n} distinct inputs in {_MAX_REJECTION_ROUNDS} rounds: the "
                       f"sampler repeats inputs far more often than the uniform law on the language allows")


def draw_distinct(grammar: Grammar, n: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    r"""``n`` distinct inputs of ``grammar`` in uniformly random order, with their labels: int64 ``x``
    ``[n, s**L]`` and ``y`` ``[n]``.

    Each input has the RHM law (uniform on the language, Remark 5's non-ambiguity), and the sequence is a
    uniformly random ordered subset, so any split into consecutive blocks is a uniformly random disjoint
    split. When :math:`n>P/2` (:func:`num_inputs`), the derivation indices :math:`[0,P)` are permuted and the
    first ``n`` decoded (as the authors' generator does); otherwise i.i.d. draws are deduplicated in draw
    order and topped up. Deterministic in the generator's state. Raises ``ValueError`` if :math:`n>P`."""
    instance("grammar", grammar, Grammar)
    n = int_at_least("n (number of distinct inputs)", n, 0)
    _check_generator("generator", generator)
    total = num_inputs(grammar)
    if total is not None and n > total:
        raise ValueError(f"n (number of distinct inputs) must be <= the number of inputs of the grammar, "
                         f"n_c*m**((s**L-1)/(s-1)) = {total}; got {n}")
    if total is not None and 2 * n > total:
        return _draw_by_index(grammar, n, total, generator)
    return _draw_by_rejection(grammar, n, total, generator)


# -- encodings ---------------------------------------------------------------------------------------------
def encode(tokens: torch.Tensor, num_features: int, input_format: str = "onehot",
           whitening: bool = False) -> torch.Tensor:
    r"""Inputs as a network takes them. ``tokens``: int64 ``[..., s**L]`` in :math:`[0,V)`.

    ``"onehot"``: float32 ``[..., V, s**L]``, channels first (the authors' layout, for a ``Conv1d`` with
    :math:`V` input channels); with ``whitening`` every entry :math:`e` becomes
    :math:`(e-1/V)/\sqrt{1-1/V}` (the authors' whitening: centred and scaled by the one-hot's mean and
    standard deviation under a uniform token). ``"long"``: the int64 tokens unchanged."""
    one_of("input_format", input_format, INPUT_FORMATS)
    num_features = int_at_least("num_features (V)", num_features, 2)
    whitening = _flag("whitening", whitening)
    int_tokens("tokens", tokens, num_features)
    if input_format == "long":
        if whitening:
            raise ValueError("whitening must be False (0) with input_format='long' (it acts on one-hot inputs)")
        return tokens
    x = one_hot(tokens, num_features).transpose(-1, -2).contiguous()
    if whitening:
        x = (x - 1.0 / num_features) * (1.0 - 1.0 / num_features) ** -0.5
    return x


def _flag(name: str, value) -> bool:
    """A bool, or the authors' 0/1 ints."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool) and value in (0, 1):
        return bool(value)
    return boolean(f"{name} (True/False, or the authors' 0/1)", value)


def _resolve_grammar(grammar, params: dict, seed_rules, sampler) -> Grammar:
    """The grammar given, or one drawn from the rule arguments (authors' defaults where ``None``)."""
    if grammar is None:
        values = {k: AUTHORS_DEFAULTS[k] if v is None else v for k, v in params.items()}
        seed_rules = int_at_least("seed_rules", 0 if seed_rules is None else seed_rules, 0)
        sampler = "authors" if sampler is None else one_of("sampler", sampler, SAMPLERS)
        return sample_grammar(**values, seed=seed_rules, sampler=sampler)
    instance("grammar", grammar, Grammar)
    if seed_rules is not None:
        raise ValueError(f"seed_rules must be None when grammar= is given (the grammar fixes the rules); "
                         f"got {seed_rules!r}")
    if sampler is not None:
        raise ValueError(f"sampler must be None when grammar= is given (the grammar fixes the rules); got {sampler!r}")
    for name, value in params.items():
        want = getattr(grammar, name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, numbers.Integral) or value != want):
            raise ValueError(f"{name} must be None or grammar.{name} = {want} when grammar= is given; got {value!r}")
    return grammar


class _RHMData:
    """What the two data sets share: the grammar, the encoding, the authors' attribute names."""

    grammar: Grammar
    input_format: str
    whitening: bool

    @property
    def num_features(self) -> int:
        """:math:`V`."""
        return self.grammar.num_features

    @property
    def num_classes(self) -> int:
        """:math:`n_c`."""
        return self.grammar.num_classes

    @property
    def num_synonyms(self) -> int:
        """:math:`m`."""
        return self.grammar.num_synonyms

    @property
    def tuple_size(self) -> int:
        """:math:`s`."""
        return self.grammar.tuple_size

    @property
    def num_layers(self) -> int:
        """:math:`L`."""
        return self.grammar.num_layers

    @property
    def rules(self) -> tuple:
        """``grammar.rules`` (``rules[l]``: ``(|V_l|, m, s)``, as the authors' ``rules[l]``)."""
        return self.grammar.rules

    def encode(self, tokens: torch.Tensor) -> torch.Tensor:
        """:func:`encode` with this data set's ``input_format`` and ``whitening``."""
        return encode(tokens, self.grammar.num_features, self.input_format, self.whitening)


class RHMDataset(_RHMData, Dataset):
    r"""A fixed sample of distinct RHM inputs (Paper A, Definitions 3-4), split into disjoint train and test sets.

    Arguments (the authors' names and defaults; paper symbols beside them):

    ``num_features`` (:math:`V`, default 8), ``num_classes`` (:math:`n_c`, 2), ``num_synonyms`` (:math:`m`,
    2), ``tuple_size`` (:math:`s`, 2), ``num_layers`` (:math:`L`, 2)
        the grammar, drawn by :func:`verify.rhm.sample_grammar` with seed ``seed_rules`` (default 0) and
        ``sampler`` (default ``"authors"``). With ``grammar=`` instead, leave them ``None`` (or equal to the
        grammar's), and ``seed_rules`` and ``sampler`` ``None``.
    ``seed_sample`` (default 1)
        seeds the ``torch.Generator`` that draws the inputs (:func:`draw_distinct`); the same arguments give
        the same data, bit for bit.
    ``train_size`` (default -1), ``test_size`` (default 0)
        ``train_size + test_size`` distinct inputs are drawn; the first ``train_size`` form the train set,
        the next ``test_size`` the test set, so the two are disjoint. ``train_size=-1``: every input not in
        the test set (:math:`P-` ``test_size``, :func:`num_inputs`). A ``ValueError`` if the sum exceeds
        :math:`P`.
    ``input_format`` (``"onehot"`` or ``"long"``), ``whitening`` (bool or 0/1, one-hot only)
        see :func:`encode`: ``x`` is float32 ``[V, s**L]`` (channels first), or int64 tokens ``[s**L]`` in
        :math:`[0,V)`.
    ``transform``
        ``None`` or a callable ``(x, y) -> (x, y)`` applied by ``__getitem__``, as the authors'.
    ``train`` (keyword, default ``True``)
        which split this object holds; :meth:`splits` returns both from one draw.

    Attributes: ``grammar``, ``tokens`` (int64 ``[n, s**L]``), ``labels`` (int64 ``[n]``), ``features`` (every
    input encoded at once, the authors' attribute), and the grammar's parameters. ``dataset[i]`` is
    ``(x, y)``; an index tensor or slice gives a batch (``x`` ``[b, V, s**L]``).
    """

    def __init__(self, num_features=None, num_classes=None, num_synonyms=None, tuple_size=None, num_layers=None,
                 seed_rules=None, seed_sample=1, train_size=-1, test_size=0, input_format="onehot", whitening=False,
                 transform=None, *, train=True, grammar=None, sampler=None):
        params = dict(zip(_RULE_ARGS, (num_features, num_classes, num_synonyms, tuple_size, num_layers)))
        self.grammar = _resolve_grammar(grammar, params, seed_rules, sampler)
        self.seed_sample = int_at_least("seed_sample", seed_sample, 0)
        train_size = int_at_least("train_size (-1: every input not in the test set)", train_size, -1)
        self.test_size = int_at_least("test_size", test_size, 0)
        self.input_format = one_of("input_format", input_format, INPUT_FORMATS)
        self.whitening = _flag("whitening", whitening)
        if self.whitening and self.input_format != "onehot":
            raise ValueError("whitening must be False (0) with input_format='long' (it acts on one-hot inputs)")
        if transform is not None and not callable(transform):
            raise ValueError(f"transform must be None or a callable (x, y) -> (x, y); got {type(transform).__name__}")
        self.transform = transform
        self.train = boolean("train", train)
        total = num_inputs(self.grammar)
        if train_size == -1:
            if total is None:
                raise ValueError(f"train_size=-1 (every input) needs fewer than 2**62 inputs; {self.grammar} has "
                                 f"n_c*m**((s**L-1)/(s-1)) >= 2**62: give train_size >= 0")
            if self.test_size > total:
                raise ValueError(f"test_size must be <= the number of inputs P = n_c*m**((s**L-1)/(s-1)) = {total}; "
                                 f"got {self.test_size}")
            train_size = total - self.test_size
        self.train_size = train_size
        n = train_size + self.test_size
        if total is not None and n > total:
            raise ValueError(f"train_size + test_size must be <= the number of distinct inputs P = "
                             f"n_c*m**((s**L-1)/(s-1)) = {total} (train and test are disjoint sets of inputs); "
                             f"got {train_size} + {self.test_size} = {n}")
        x, y = draw_distinct(self.grammar, n, torch.Generator().manual_seed(self.seed_sample))
        self._drawn = (x, y)
        self._select(self.train)

    def _select(self, train: bool) -> None:
        x, y = self._drawn
        part = slice(0, self.train_size) if train else slice(self.train_size, None)
        self.train = train
        self.tokens, self.labels = x[part], y[part]

    @classmethod
    def splits(cls, *args, **kwargs) -> tuple["RHMDataset", "RHMDataset"]:
        """``(train, test)`` from one draw: the arguments of :class:`RHMDataset` without ``train``."""
        if "train" in kwargs:
            raise ValueError("train must not be given to RHMDataset.splits (it returns both splits)")
        train = cls(*args, train=True, **kwargs)
        test = copy.copy(train)
        test._select(False)
        return train, test

    @property
    def features(self) -> torch.Tensor:
        """Every input of this split, encoded (``[n, V, s**L]`` float32 for one-hot; the authors' attribute)."""
        n, d = self.tokens.shape
        if self.input_format == "onehot":
            check_memory(f"RHMDataset.features ({n} inputs, num_features={self.num_features}, input length {d}, "
                         f"one-hot float32)", n * d * self.num_features * (4 + 8))
        return self.encode(self.tokens)

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, idx):
        x, y = self.encode(self.tokens[idx]), self.labels[idx]
        if self.transform is not None:
            x, y = self.transform(x, y)
        return x, y

    def __repr__(self):
        return (f"RHMDataset({self.grammar}, {'train' if self.train else 'test'} split of {len(self)}: "
                f"train_size={self.train_size}, test_size={self.test_size}, seed_sample={self.seed_sample}, "
                f"input_format={self.input_format!r}, whitening={self.whitening})")


def batch_seed(seed: int, index: int) -> int:
    r"""The seed of batch ``index`` of a stream seeded ``seed``: a 64-bit word of
    ``numpy.random.SeedSequence([seed, index])`` (well mixed, so the batches are independent draws)."""
    seed = int_at_least("seed", seed, 0)
    index = int_at_least("index (batch index)", index, 0)
    return int(np.random.SeedSequence([seed, index]).generate_state(1, dtype=np.uint64)[0])


class RHMStream(_RHMData, IterableDataset):
    r"""Fresh i.i.d. RHM batches (Paper A, Definition 3), forever: an ``IterableDataset`` yielding ``(x, y)``
    batches, ``x`` ``[batch_size, V, s**L]`` float32 (``"onehot"``) or ``[batch_size, s**L]`` int64
    (``"long"``), ``y`` int64 ``[batch_size]``.

    Arguments: the grammar's as :class:`RHMDataset` (``num_features, ..., seed_rules``, or ``grammar=``),
    ``seed_sample`` (default 1), ``batch_size`` (default 128), ``input_format``, ``whitening``, and keywords
    ``num_batches`` (``None``: forever; else the stream stops after that many) and ``start`` (the first batch
    index, to resume a stream).

    **Seeding.** Batch :math:`i` is :func:`verify.rhm.sample` of ``batch_size`` inputs from a fresh
    ``torch.Generator`` seeded :func:`batch_seed` ``(seed_sample, i)``: :meth:`batch` ``(i)`` is the same
    tensor in any process. In a ``DataLoader`` with ``num_workers = n`` (use ``batch_size=None``: the stream
    batches itself), worker :math:`k` yields batches :math:`i = k, k+n, k+2n, \dots` (from ``start``), and the
    default in-order ``DataLoader`` interleaves the workers round-robin, so it returns batches
    ``start, start+1, ...`` in order: **the same stream for every** ``num_workers`` (0 included). Not
    independent of ``num_workers``: which process computed a batch, and (with ``in_order=False``) the order
    in which batches arrive. Batches are independent draws with replacement: inputs repeat within and
    across batches and may coincide with any test set (a held-out set drawn with a different
    ``seed_sample`` is independent, not disjoint).
    """

    def __init__(self, num_features=None, num_classes=None, num_synonyms=None, tuple_size=None, num_layers=None,
                 seed_rules=None, seed_sample=1, batch_size=128, input_format="onehot", whitening=False, *,
                 grammar=None, sampler=None, num_batches=None, start=0):
        params = dict(zip(_RULE_ARGS, (num_features, num_classes, num_synonyms, tuple_size, num_layers)))
        self.grammar = _resolve_grammar(grammar, params, seed_rules, sampler)
        self.seed_sample = int_at_least("seed_sample", seed_sample, 0)
        self.batch_size = int_at_least("batch_size", batch_size, 1)
        self.input_format = one_of("input_format", input_format, INPUT_FORMATS)
        self.whitening = _flag("whitening", whitening)
        if self.whitening and self.input_format != "onehot":
            raise ValueError("whitening must be False (0) with input_format='long' (it acts on one-hot inputs)")
        self.num_batches = None if num_batches is None else int_at_least("num_batches (None: forever)", num_batches, 0)
        self.start = int_at_least("start (first batch index)", start, 0)
        if self.input_format == "onehot":
            check_memory(f"RHMStream batch (batch_size={self.batch_size}, num_features={self.num_features}, "
                         f"input length {self.grammar.input_length}, one-hot float32)",
                         self.batch_size * self.grammar.input_length * self.num_features * (4 + 8))

    def batch(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Batch number ``index`` (>= 0) of the stream: a function of ``(seed_sample, index)`` only."""
        generator = torch.Generator().manual_seed(batch_seed(self.seed_sample, index))
        tokens, y = sample(self.grammar, self.batch_size, generator)
        return self.encode(tokens), y

    def __iter__(self):
        info = get_worker_info()
        worker, workers = (0, 1) if info is None else (info.id, info.num_workers)
        index = self.start + worker
        stop = None if self.num_batches is None else self.start + self.num_batches
        while stop is None or index < stop:
            yield self.batch(index)
            index += workers

    def __repr__(self):
        return (f"RHMStream({self.grammar}, batch_size={self.batch_size}, seed_sample={self.seed_sample}, "
                f"input_format={self.input_format!r}, whitening={self.whitening}, num_batches={self.num_batches}, "
                f"start={self.start})")
