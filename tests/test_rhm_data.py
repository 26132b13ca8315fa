"""verify.rhm.data: RHMDataset and RHMStream against the enumerated law of a tiny RHM.

The reference is :func:`verify.rhm.enumerate_derivations` (every derivation, each of probability
1/(n_c m^((s^L-1)/(s-1)))), which shares no code with the sampler or the data sets. Chi-square tests run at
the stated level ALPHA with fixed seeds, so their outcome is deterministic: a correct implementation fails a
given test with probability <= ALPHA over the choice of seeds.
"""
from collections import Counter

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

from verify import rhm
from verify.harness.stats import chi2_pvalue
from verify.rhm.data import RHMDataset, RHMStream, batch_seed, draw_distinct, encode, num_inputs

ALPHA = 1e-3


def enumerated_law(g):
    """{(x tuple, label): probability} of every input of ``g`` (one derivation per input: non-ambiguity)."""
    d = rhm.enumerate_derivations(g)
    law = Counter()
    for x, y in zip(d.x.tolist(), d.labels.tolist()):
        law[(tuple(x), y)] += d.probability
    return law


def pairs(x, y):
    return [(tuple(r), int(v)) for r, v in zip(x.tolist(), y.tolist())]


GRAMMARS = {  # tiny grammars: P = n_c m^((s^L-1)/(s-1)) inputs
    "authors_s2": lambda: rhm.sample_grammar(3, 3, 2, 2, 2, seed=4, sampler="authors"),          # P = 24
    "appendix_b_s2": lambda: rhm.sample_grammar(3, 3, 2, 2, 2, seed=4, sampler="appendix_b"),    # P = 24
    "authors_s3_m3": lambda: rhm.sample_grammar(4, 2, 3, 3, 2, seed=1, sampler="authors"),       # P = 162
}


# -- the law ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["authors_s2", "appendix_b_s2", "authors_s3_m3"])
def test_stream_law_matches_enumerated_law(name):
    """Pearson's chi-square of the (x, y) counts of 40,000 streamed samples against the enumerated law."""
    g = GRAMMARS[name]()
    law = enumerated_law(g)
    outcomes = sorted(law)
    stream = RHMStream(grammar=g, seed_sample=11, batch_size=5000, num_batches=8, input_format="long")
    seen = Counter()
    for x, y in stream:
        seen.update(pairs(x, y))
    assert set(seen) <= set(outcomes), "the stream produced an (x, y) outside the enumerated language"
    obs = np.array([seen[o] for o in outcomes], dtype=float)
    exp = obs.sum() * np.array([float(law[o]) for o in outcomes])
    stat = float(((obs - exp) ** 2 / exp).sum())
    assert chi2_pvalue(stat, len(outcomes) - 1) > ALPHA


def _subset_chi2(counts: np.ndarray, reps: int, size: int) -> float:
    r"""p-value of the counts of each input over ``reps`` independent uniformly random subsets of ``size`` of the
    ``P`` inputs: each count has mean reps*f (f = size/P) and covariance reps*f(1-f) P/(P-1) (I - 11^T/P), so
    sum (c - reps f)^2 (P-1) / (reps f (1-f) P) is asymptotically chi-square with P-1 degrees of freedom."""
    P = len(counts)
    f = size / P
    stat = float(((counts - reps * f) ** 2).sum() * (P - 1) / (reps * f * (1 - f) * P))
    return chi2_pvalue(stat, P - 1)


@pytest.mark.parametrize("train_size,test_size", [(4, 3),      # 7 <= P/2: deduplicated i.i.d. draws
                                                  (14, 5)])    # 19 > P/2: a permutation of the derivations
def test_dataset_splits_are_uniform_random_subsets(train_size, test_size):
    """Each split of RHMDataset is a uniformly random subset of the language (so each element has the RHM law):
    the counts of each input over many seeds, against the law of such subsets, for train and test separately."""
    g = GRAMMARS["authors_s2"]()
    law = enumerated_law(g)
    index = {o: i for i, o in enumerate(sorted(law))}
    reps = 400
    counts = {True: np.zeros(len(index)), False: np.zeros(len(index))}
    for seed in range(reps):
        train, test = RHMDataset.splits(grammar=g, seed_sample=seed, train_size=train_size, test_size=test_size,
                                        input_format="long")
        for split, ds in ((True, train), (False, test)):
            for o in pairs(ds.tokens, ds.labels):
                counts[split][index[o]] += 1  # a KeyError here: an (x, y) outside the language
    assert _subset_chi2(counts[True], reps, train_size) > ALPHA
    assert _subset_chi2(counts[False], reps, test_size) > ALPHA


# -- train / test -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["authors_s2", "authors_s3_m3"])
@pytest.mark.parametrize("frac_train,frac_test", [(0.2, 0.1), (0.6, 0.3), (0.9, 0.1)])
def test_train_and_test_are_disjoint_sets_of_distinct_inputs(name, frac_train, frac_test):
    g = GRAMMARS[name]()
    P = num_inputs(g)
    train_size, test_size = int(frac_train * P), int(frac_test * P)
    train, test = RHMDataset.splits(grammar=g, seed_sample=3, train_size=train_size, test_size=test_size)
    assert (len(train), len(test)) == (train_size, test_size)
    a, b = set(map(tuple, train.tokens.tolist())), set(map(tuple, test.tokens.tolist()))
    assert len(a) == train_size and len(b) == test_size, "an input repeats within a split"
    assert not a & b, "train and test share an input"
    law = enumerated_law(g)
    assert set(pairs(train.tokens, train.labels)) | set(pairs(test.tokens, test.labels)) <= set(law)


@pytest.mark.parametrize("name", ["authors_s2", "appendix_b_s2", "authors_s3_m3"])
def test_whole_language_is_every_input_once(name):
    """train_size=-1 (the authors' 'whole data set'): train and test partition the enumerated language, each input
    with its label; this exercises the decoding of derivation indices (the rules of every node) for s = 2, 3."""
    g = GRAMMARS[name]()
    train, test = RHMDataset.splits(grammar=g, seed_sample=0, train_size=-1, test_size=5)
    law = enumerated_law(g)
    got = pairs(train.tokens, train.labels) + pairs(test.tokens, test.labels)
    assert len(got) == len(law) == num_inputs(g) and set(got) == set(law)
    assert len(test) == 5 and train.train_size == len(law) - 5


def test_draw_distinct_refuses_more_than_the_language():
    g = GRAMMARS["authors_s2"]()
    with pytest.raises(ValueError, match="n .number of distinct inputs. must be <= .* 24"):
        draw_distinct(g, 25, torch.Generator().manual_seed(0))


# -- determinism --------------------------------------------------------------------------------------------
def test_same_seed_same_data_and_train_flag_matches_splits():
    kw = dict(num_features=6, num_classes=3, num_synonyms=2, tuple_size=2, num_layers=3, seed_rules=2,
              seed_sample=5, train_size=200, test_size=50)
    a_train, a_test = RHMDataset.splits(**kw)
    b_train = RHMDataset(**kw, train=True)
    b_test = RHMDataset(**kw, train=False)
    for a, b in ((a_train, b_train), (a_test, b_test)):
        assert torch.equal(a.tokens, b.tokens) and torch.equal(a.labels, b.labels)
        assert torch.equal(a.features, b.features)
    c = RHMDataset(**{**kw, "seed_sample": 6})
    assert not torch.equal(a_train.tokens, c.tokens)
    d = RHMDataset(**{**kw, "seed_rules": 3})
    assert not all(np.array_equal(r, s) for r, s in zip(a_train.rules, d.rules))


def test_stream_batches_are_a_function_of_seed_and_index():
    g = GRAMMARS["authors_s3_m3"]()
    s = RHMStream(grammar=g, seed_sample=4, batch_size=16)
    x3, y3 = s.batch(3)
    x3b, y3b = RHMStream(grammar=g, seed_sample=4, batch_size=16).batch(3)
    assert torch.equal(x3, x3b) and torch.equal(y3, y3b)
    assert not torch.equal(s.batch(4)[0], x3)
    assert not torch.equal(RHMStream(grammar=g, seed_sample=5, batch_size=16).batch(3)[0], x3)
    assert batch_seed(4, 3) != batch_seed(3, 4)
    tail = list(RHMStream(grammar=g, seed_sample=4, batch_size=16, start=3, num_batches=2))  # resume at batch 3
    assert torch.equal(tail[0][0], x3) and torch.equal(tail[1][0], s.batch(4)[0])


def test_stream_is_the_same_for_every_num_workers():
    """A real DataLoader with 0, 1 and 2 worker processes returns the same batches, in the same order (and so
    the same multiset), as stream.batch(0), stream.batch(1), ..."""
    g = GRAMMARS["authors_s3_m3"]()
    stream = RHMStream(grammar=g, seed_sample=9, batch_size=32, num_batches=5)
    want = [stream.batch(i) for i in range(5)]
    for workers in (0, 1, 2):
        got = list(DataLoader(stream, batch_size=None, num_workers=workers))
        assert len(got) == 5, f"num_workers={workers}"
        for (x, y), (wx, wy) in zip(got, want):
            assert torch.equal(x, wx) and torch.equal(y, wy), f"num_workers={workers}"
    as_multiset = lambda batches: sorted(tuple(x.flatten().tolist()) + tuple(y.tolist()) for x, y in batches)
    assert as_multiset(got) == as_multiset(want)


# -- encodings ----------------------------------------------------------------------------------------------
def test_onehot_is_channels_first_float32_and_long_is_int64_tokens():
    kw = dict(num_features=5, num_classes=2, num_synonyms=2, tuple_size=2, num_layers=3, train_size=40, test_size=10)
    ds = RHMDataset(**kw)
    x, y = ds[0]
    assert x.shape == (5, 8) and x.dtype == torch.float32 and y.dtype == torch.int64 and y.shape == ()
    tokens = ds.tokens[0]
    assert torch.equal(x, (torch.arange(5)[:, None] == tokens[None, :]).float())  # x[c, j] = [token_j == c]
    xb, yb = next(iter(DataLoader(ds, batch_size=8)))
    assert xb.shape == (8, 5, 8) and yb.shape == (8,)
    assert ds[2:6][0].shape == (4, 5, 8) and ds.features.shape == (40, 5, 8)
    long = RHMDataset(**kw, input_format="long")
    assert long[0][0].dtype == torch.int64 and torch.equal(long[0][0], tokens)
    assert torch.equal(rhm.parse(ds.grammar, ds.tokens).labels, ds.labels)  # y is the label of x
    w = RHMDataset(**kw, whitening=1)
    V = 5
    assert torch.allclose(w[0][0], (x - 1 / V) / (1 - 1 / V) ** 0.5)
    sx, sy = RHMStream(**{k: kw[k] for k in list(kw)[:5]}, batch_size=7).batch(0)
    assert sx.shape == (7, 5, 8) and sx.dtype == torch.float32 and sy.dtype == torch.int64
    assert torch.equal(encode(torch.tensor([[1, 0]]), 3, "long"), torch.tensor([[1, 0]]))


def test_transform_is_applied():
    ds = RHMDataset(train_size=10, test_size=2, input_format="long", transform=lambda x, y: (x + 1, y * 10))
    x, y = ds[0]
    assert torch.equal(x, ds.tokens[0] + 1) and int(y) == 10 * int(ds.labels[0])


# -- a grammar from the authors' format ----------------------------------------------------------------------
def test_grammar_from_rules_round_trips():
    """Rules in the authors' format (a dict level -> torch int tensor (|V_l|, m, s), patches distinct within a
    level), built here independently of verify.rhm, go through Grammar.from_rules into the data sets unchanged."""
    V, n_c, m, s, L = 6, 3, 2, 2, 3
    gen = torch.Generator().manual_seed(0)
    rules = {}
    for level in range(L):
        parents = n_c if level == 0 else V
        codes = torch.randperm(V**s, generator=gen)[:parents * m]
        rules[level] = torch.stack([codes // V, codes % V], dim=-1).reshape(parents, m, s)
    g = rhm.Grammar.from_rules([rules[level] for level in range(L)], num_features=V, num_classes=n_c)
    ds = RHMDataset(grammar=g, train_size=100, test_size=20)
    for level in range(L):
        assert np.array_equal(ds.rules[level], rules[level].numpy())
    assert (ds.num_features, ds.num_classes, ds.num_synonyms, ds.tuple_size, ds.num_layers) == (V, n_c, m, s, L)
    assert torch.equal(rhm.parse(g, ds.tokens).labels, ds.labels)
    # each input is a derivation of the given rules: rewrite top-down by hand and compare
    parsed = rhm.parse(g, ds.tokens)
    for level in range(L):
        rule = parsed.patch_index[level + 1] % m
        parent = parsed.symbols[level]
        rewritten = rules[level][parent, rule].reshape(len(ds), -1)
        assert torch.equal(rewritten, parsed.symbols[level + 1])
    stream = RHMStream(grammar=g, batch_size=50)
    assert torch.equal(rhm.parse(g, stream.batch(0)[0].argmax(1)).labels, stream.batch(0)[1])


# -- bad parameters ----------------------------------------------------------------------------------------
G = GRAMMARS["authors_s2"]


@pytest.mark.parametrize("kwargs,match", [
    (dict(grammar=G, train_size=20, test_size=5), r"train_size \+ test_size must be <= .* 24"),
    (dict(grammar=G, train_size=-1, test_size=25), r"test_size must be <= .* 24"),
    (dict(train_size=-2), "train_size"),
    (dict(train_size=1.5), "train_size"),
    (dict(test_size=-1), "test_size"),
    (dict(seed_sample=-1), "seed_sample"),
    (dict(seed_rules=-1), "seed_rules"),
    (dict(input_format="binary"), "input_format"),
    (dict(input_format="long", whitening=True), "whitening"),
    (dict(whitening=2), "whitening"),
    (dict(transform=3), "transform"),
    (dict(train="yes"), "train"),
    (dict(num_features=1), "num_features"),
    (dict(num_synonyms=0), "num_synonyms"),
    (dict(tuple_size=1), "tuple_size"),
    (dict(sampler="mine"), "sampler"),
    (dict(grammar="rules"), "grammar"),
    (dict(grammar=G, num_features=4), "num_features"),
    (dict(grammar=G, seed_rules=0), "seed_rules"),
    (dict(grammar=G, sampler="authors"), "sampler"),
])
def test_dataset_bad_parameters_raise(kwargs, match):
    kwargs = {k: (v() if v is G else v) for k, v in kwargs.items()}
    with pytest.raises(ValueError, match=match):
        RHMDataset(**kwargs)


def test_splits_refuses_train():
    with pytest.raises(ValueError, match="train"):
        RHMDataset.splits(train=False)


@pytest.mark.parametrize("kwargs,match", [
    (dict(batch_size=0), "batch_size"),
    (dict(seed_sample=-1), "seed_sample"),
    (dict(num_batches=-1), "num_batches"),
    (dict(start=-1), "start"),
    (dict(input_format="long", whitening=1), "whitening"),
    (dict(input_format="tuples"), "input_format"),
    (dict(num_classes=1), "num_classes"),
])
def test_stream_bad_parameters_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        RHMStream(**kwargs)


@pytest.mark.parametrize("call,match", [
    (lambda: draw_distinct(G(), 3, "seed"), "generator"),
    (lambda: draw_distinct(G(), -1, torch.Generator()), "n "),
    (lambda: draw_distinct("g", 3, torch.Generator()), "grammar"),
    (lambda: encode(torch.tensor([[3, 0]]), 3), "tokens"),
    (lambda: encode(torch.tensor([[1.0, 0.0]]), 3, "long"), "tokens"),
    (lambda: encode(torch.tensor([[1, 0]]), 1), "num_features"),
    (lambda: encode(torch.tensor([[1, 0]]), 3, "onehot", whitening=0.5), "whitening"),
    (lambda: num_inputs(None), "grammar"),
    (lambda: batch_seed(-1, 0), "seed"),
    (lambda: batch_seed(0, -1), "index"),
])
def test_helpers_bad_parameters_raise(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_dataset_demo_trains_and_is_seeded():
    """The book's dataset page plots the record of :func:`verify.experiments.rhm_dataset_demo.train`: at a tiny
    size it runs, returns one test error per epoch in [0, 1], and two runs with the same seeds agree."""
    from verify.experiments import rhm_dataset_demo as demo
    config = dict(demo.CONFIG, num_features=4, num_classes=4, num_synonyms=2, num_layers=3, train_size=200,
                  test_size=50, width=16, epochs=2)
    a, b = demo.train(config, progress=False), demo.train(config, progress=False)
    assert len(a["test_error"]) == 2 and all(0.0 <= e <= 1.0 for e in a["test_error"])
    assert a["test_error"] == b["test_error"]
    assert a["chance"] == 0.75
