"""Theorem 7's chain and explicit total (verify.experiments.theorem7): the oracle embedding, the reduction of
a run to its sufficient statistic, the parameters against their formulas, bad inputs."""
import math

import numpy as np
import pytest
import torch
from scipy import stats

from verify import rhm
from verify.experiments import theorem7 as t7
from verify.experiments.sample_complexity import grammar_with_signal
from verify.features.clustering import NearestCentreFeatures
from verify.learners.layerwise_ridge import LayerwiseRidge, stage_samples


@pytest.fixture(scope="module")
def g():
    return grammar_with_signal(4, 2, 3)


def test_chain_parameters_match_the_proof_formulas(g):
    from verify.rhm import assumptions
    kappa = float(assumptions.kappa(g, "float64")[0])
    k_rho = float(assumptions.instance_k_rho(assumptions.signal_gaps(g, "float64"), 2))
    V, m, s, L, delta = 4, 2, 2, 3, 0.1
    for rule in ("lemma11", "per_patch"):
        for p in t7.chain_parameters(g, delta, 1.0, rule):
            l, P = p["level"], V * m
            eps = k_rho / math.sqrt(m**l * V**2 * m**2 * s * L * math.log(m))
            assert p["eps_star"] == pytest.approx(eps, rel=1e-12)
            want = (20 * max(kappa, eps**-2) * math.log(V * m / delta) if rule == "lemma11"
                    else 2 * kappa * P * eps**-2 * math.log(4 * P / delta))
            assert want <= p["N"] < want + 1


def test_explicit_total_is_the_sum_of_the_per_level_bounds(g):
    b = t7.explicit_total_bound(g, 0.1)
    per_level = [20 * b["kappa"] * 16 * 4 * 2 * 3 * math.log(8 * b["kappa"] / 0.1) ** 2 * b["K_rho"] ** -2 * 2**l
                 for l in (1, 2, 3)]
    assert b["explicit_total"] == pytest.approx(sum(per_level), rel=1e-12)
    assert b["geometric_sum"] <= 2 / (2 - 1)


def test_nearest_centre_features_are_orthonormal_for_distinct_patches():
    centres = torch.eye(3, dtype=torch.float64)
    phi = NearestCentreFeatures(centres)
    patches = torch.tensor([[a, b] for a in range(3) for b in range(3)])
    noisy = centres[patches] + 0.1 * torch.randn(9, 2, 3, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    X = phi(noisy)
    assert torch.equal(X @ X.T, torch.eye(9, dtype=torch.float64))


@pytest.mark.parametrize("bad", [torch.ones(1, 3), torch.ones(3), torch.tensor([[0.0, float("nan")], [1.0, 0.0]])])
def test_nearest_centre_features_reject_bad_centres(bad):
    with pytest.raises(ValueError, match="centres"):
        NearestCentreFeatures(bad)


def test_learner_output_is_the_count_ratio_on_its_own_samples(g):
    """The reduction behind method='counts': with the oracle embedding, the stage's normalized output for each
    patch equals the (label | first patch) count ratio of the stage's samples, counted here independently
    by parsing them."""
    params = t7.chain_parameters(g, N_rule="fixed", fixed=3000)
    model = LayerwiseRidge.for_grammar(g, t7.chain_levels(params), centres=t7.oracle_centres(g))
    model.fit(g, seed=7, progress=False)
    for level in (3, 2, 1):
        x, y = stage_samples(g, level, 3000, 7)
        first = rhm.parse(g, x).patch_index[level][:, 0]
        counts = np.zeros((g.num_patches(level), g.num_classes))
        np.add.at(counts, (first.numpy(), y.numpy()), 1)
        seen = counts.sum(1) > 0
        patches = torch.as_tensor(np.array(g.patches(level)))[torch.as_tensor(seen)]
        # the level's tokens for these patches: the centres of their symbols (the levels below are exact here)
        tokens = model.centres[level][patches]
        out = model.level_output(model.patch_features(tokens.reshape(1, -1, tokens.shape[-1]), level)[0], level)
        want = counts[seen] / counts[seen].sum(1, keepdims=True)
        np.testing.assert_allclose(out.numpy(), want, atol=1e-9)


def test_counts_and_learner_runs_agree_in_law(g):
    """Level-2 errors of 25 learner runs and 200 count runs at N = 64 per stage: one law (KS, level 0.001)."""
    params = t7.chain_parameters(g, N_rule="fixed", fixed=64)
    learner = [t7.run_chain(g, params, seed=s, num_test=400, test_seed=s)["level_errors"][2] for s in range(25)]
    rng = np.random.default_rng(0)
    counts = [t7.run_chain_counts(g, params, rng)["level_errors"][2] for _ in range(200)]
    learner = np.minimum(learner, 10.0)  # an unseen patch is an infinite error in both
    counts = np.minimum(counts, 10.0)
    assert stats.ks_2samp(learner, counts).pvalue > 1e-3


def test_chain_with_enough_samples_succeeds_and_with_too_few_fails(g):
    rng = np.random.default_rng(1)
    assert t7.run_chain_counts(g, t7.chain_parameters(g, N_rule="per_patch"), rng)["success"]
    assert not t7.run_chain_counts(g, t7.chain_parameters(g, N_rule="fixed", fixed=8), rng)["success"]


@pytest.mark.parametrize("kw, match", [
    (dict(delta_p=0.0), "delta_p"), (dict(delta_p=1.5), "delta_p"), (dict(C=0.5), "C "),
    (dict(N_rule="statement"), "N_rule"), (dict(N_rule="fixed"), "fixed"), (dict(N_rule="fixed", fixed=0), "fixed")])
def test_chain_parameters_reject_bad_inputs(g, kw, match):
    with pytest.raises(ValueError, match=match):
        t7.chain_parameters(g, **kw)


def test_scaling_point_rejects_eps_that_does_not_imply_the_argmax(g):
    with pytest.raises(ValueError, match="eps_uniform"):
        t7.scaling_point(g, budget=64, eps_uniform=0.8)


def test_run_chain_counts_needs_a_numpy_generator(g):
    with pytest.raises(ValueError, match="rng"):
        t7.run_chain_counts(g, t7.chain_parameters(g), torch.Generator())


@pytest.mark.parametrize("level", [1, 2, 3])
def test_spine_law_matches_enumeration_of_every_derivation(level):
    """Brute force: enumerate every derivation of a tiny grammar (each equally likely given its label) and
    tabulate (first level-l patch, label)."""
    import itertools
    g = rhm.sample_grammar(3, 2, 2, 2, 3, seed=4, sampler="authors")
    m, s = g.num_synonyms, g.tuple_size
    table = np.zeros((g.num_patches(level), g.num_classes))
    # the first level-l patch depends on the leftmost path only: enumerate its rule choices
    for label in range(g.num_classes):
        for choices in itertools.product(range(m), repeat=level):
            sym = label
            for k, r in enumerate(choices, start=1):
                idx = sym * m + r
                sym = g.patches(k)[idx][0]
            table[idx, label] += 1 / (g.num_classes * m**level)
    np.testing.assert_allclose(t7.spine_law(g, level), table, atol=1e-15)
