"""The vectorized sampler against exact probabilities, with chi-square tests at a stated tiny
false-alarm rate (ALPHA): a correct sampler fails one of these with probability <= ALPHA per test,
and the seeds are fixed, so the outcome is deterministic."""
from collections import Counter

import numpy as np
import pytest
import torch

from verify import rhm
from verify.rhm import exact
from verify.harness.stats import chi2_pvalue

ALPHA = 1e-6


def chi2_gof(observed: np.ndarray, expected_prob: np.ndarray) -> float:
    n = observed.sum()
    keep = expected_prob > 0
    assert observed[~keep].sum() == 0, "sampled an outcome of probability 0"
    e = n * expected_prob[keep]
    stat = float(((observed[keep] - e) ** 2 / e).sum())
    return chi2_pvalue(stat, int(keep.sum()) - 1)


def _outcome_codes(tokens: np.ndarray, labels: np.ndarray, g) -> np.ndarray:
    """Each row of tokens (in ``[0, V)``) and its label as one integer: the tokens' base-V digits, then the label."""
    code = np.zeros(len(tokens), dtype=np.int64)
    for j in range(tokens.shape[1]):
        code = code * g.num_features + tokens[:, j]
    return code * g.num_classes + labels


@pytest.mark.parametrize("sampler", ["authors", "appendix_b"])
def test_input_frequencies_match_enumerated_law(sampler):
    g = rhm.sample_grammar(3, 3, 2, 2, 2, seed=4, sampler=sampler)
    d = rhm.enumerate_derivations(g)
    law = Counter(tuple(r) + (int(y),) for r, y in zip(d.x.tolist(), d.labels.tolist()))
    outcomes = sorted(law)
    prob = np.array([float(law[o] * d.probability) for o in outcomes])
    x, y = rhm.sample(g, 200_000, torch.Generator().manual_seed(0), batch_size=30_000)
    # each sample (tokens, label) as one integer, counted by numpy: 200,000 tuples in a Counter took 0.5 s
    codes, counts = np.unique(_outcome_codes(x.numpy(), y.numpy(), g), return_counts=True)
    wanted = _outcome_codes(np.array([o[:-1] for o in outcomes]), np.array([o[-1] for o in outcomes]), g)
    assert set(codes.tolist()) <= set(wanted.tolist())
    seen = dict(zip(codes.tolist(), counts.tolist()))
    obs = np.array([seen.get(c, 0) for c in wanted.tolist()])
    assert chi2_gof(obs, prob) > ALPHA


@pytest.mark.parametrize("sampler", ["authors", "appendix_b"])
def test_spine_first_patch_frequencies_match_exact_p(sampler):
    g = rhm.sample_grammar(6, 6, 3, 2, 4, seed=1, sampler=sampler)
    y, first = rhm.sample_spine(g, 300_000, torch.Generator().manual_seed(1))
    for level in range(1, g.num_layers + 1):
        p = exact.p_first_patch(g, level, "float64")
        obs = np.bincount(first[:, level - 1].numpy(), minlength=len(p))
        assert chi2_gof(obs, p) > ALPHA


def test_full_sampler_and_spine_agree_on_first_patches():
    g = rhm.sample_grammar(5, 5, 2, 2, 3, seed=2)
    x, y = rhm.sample(g, 100_000, torch.Generator().manual_seed(2))
    parsed = rhm.parse(g, x)
    assert torch.equal(parsed.labels, y)
    for level in range(1, g.num_layers + 1):
        p = exact.p_first_patch(g, level, "float64")
        obs = np.bincount(parsed.patch_index[level][:, 0].numpy(), minlength=len(p))
        assert chi2_gof(obs, p) > ALPHA


def test_determinism_shapes_and_dtypes():
    g = rhm.sample_grammar(4, 3, 2, 3, 2, seed=0)
    a = rhm.sample(g, 1000, torch.Generator().manual_seed(7), batch_size=128)
    b = rhm.sample(g, 1000, torch.Generator().manual_seed(7), batch_size=128)
    c = rhm.sample(g, 1000, torch.Generator().manual_seed(8), batch_size=128)
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    assert not torch.equal(a[0], c[0])
    assert a[0].shape == (1000, 9) and a[0].dtype == torch.long and a[1].shape == (1000,)
    assert int(a[0].max()) < 4 and int(a[1].max()) < 3
    oh = rhm.one_hot(a[0][:10], 4)
    assert oh.shape == (10, 9, 4) and torch.equal(oh.sum(-1), torch.ones(10, 9))
    assert rhm.sample(g, 0, torch.Generator())[0].shape == (0, 9)


def test_bad_arguments():
    g = rhm.sample_grammar(4, 4, 2, 2, 2, seed=0)
    with pytest.raises(ValueError, match="n"):
        rhm.sample(g, -1, torch.Generator())
    with pytest.raises(ValueError, match="shape"):
        rhm.parse(g, torch.zeros(3, 5, dtype=torch.long))
    x, _ = rhm.sample(g, 50, torch.Generator().manual_seed(0))
    codes = set(map(tuple, g.patches(2).tolist()))
    bad = next((a, b) for a in range(4) for b in range(4) if (a, b) not in codes)
    x[0, :2] = torch.tensor(bad)
    with pytest.raises(ValueError, match="not in the grammar"):
        rhm.parse(g, x)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_matches_cpu_with_same_generator():
    g = rhm.sample_grammar(8, 8, 4, 2, 3, seed=0)
    a = rhm.sample(g, 5000, torch.Generator().manual_seed(3), device="cpu")
    b = rhm.sample(g, 5000, torch.Generator().manual_seed(3), device="cuda")
    assert torch.equal(a[0], b[0].cpu()) and torch.equal(a[1], b[1].cpu())


@pytest.mark.parametrize("sampler", ["authors", "appendix_b"])
@pytest.mark.parametrize("shape", [(2, 2, 2, 2, 3), (3, 3, 2, 2, 2), (2, 2, 2, 3, 2)])
def test_expand_matches_the_independent_enumerator(sampler, shape):
    """`expand` (vectorized choice indexing) against the enumerator, which builds subtrees from the
    rules by Cartesian products and shares no code with it: same inputs for the same choices, and
    every derivation appears once."""
    V, n_c, m, s, L = shape
    g = rhm.sample_grammar(V, n_c, m, s, L, seed=3, sampler=sampler)
    d = rhm.enumerate_derivations(g)
    assert torch.equal(rhm.expand(g, d.labels, d.choices), d.x)
    assert len(d.labels) == rhm.num_derivations(g)
    full = torch.cat([d.labels[:, None]] + list(d.choices), 1)
    assert len(torch.unique(full, dim=0)) == len(full)  # every derivation exactly once


def test_enumerator_catches_a_wrong_expand(monkeypatch):
    """The cross-check can fail: an `expand` that swaps the two children of every node disagrees."""
    g = rhm.sample_grammar(2, 2, 2, 2, 3, seed=0, sampler="appendix_b")
    d = rhm.enumerate_derivations(g)
    x = rhm.expand(g, d.labels, d.choices)
    flipped = x.reshape(len(x), -1, 2).flip(-1).reshape(len(x), -1)
    assert not torch.equal(flipped, d.x)
