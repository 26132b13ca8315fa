"""verify.learners.layerwise_ridge: solvers agree, Construction 1 is exact, runs are deterministic and resumable."""
import math

import numpy as np
import pytest
import torch

from verify import rhm
from verify.features import rff
from verify.learners import layerwise_ridge as lr
from verify.learners.layerwise_ridge import LayerwiseRidge, LevelParams


@pytest.fixture(scope="module")
def grammar():
    return rhm.sample_grammar(4, 4, 2, 2, 2, seed=1, sampler="appendix_b")


def _data(g, n, seed):
    return rhm.sample(g, n, torch.Generator().manual_seed(seed))


def test_closed_form_equals_dual_equals_gd_limit(grammar):
    levels = [LevelParams(l, sigma=0.7, num_features=64, num_samples=300) for l in (1, 2)]
    model = LayerwiseRidge.for_grammar(grammar, levels)
    model.draw_features(2, torch.Generator().manual_seed(3))
    x, y = _data(grammar, 300, 4)
    P = grammar.num_patches(2)
    lam, eta = model.regularization(2, P)
    assert lam == 1 / P and eta == 2 * P / (P + 1)
    C, B = model.moments(x, y, 2, batch_size=64)  # batch by batch
    X = model.first_patch_features(x, 2, batch_size=50)
    assert torch.allclose(C, X.T @ X / len(x)) and torch.allclose(B, torch.nn.functional.one_hot(y, 4).double().T @ X / len(x))
    W_cf = model.closed_form(C, B, lam)
    W_dual = model.dual(X, y, 4, lam)
    assert torch.allclose(W_cf, W_dual, atol=1e-10, rtol=0)
    # GD converges to it at the rate of Lemma 15 (at least)
    W_gd = model.gradient_descent(C, B, lam, eta, num_steps=40 * P)
    assert torch.linalg.norm(W_gd - W_cf) <= math.exp(-40) * P + 1e-10
    # the gradient vanishes at the minimizer
    grad = W_cf @ (C + lam * torch.eye(C.shape[0], dtype=C.dtype)) - B
    assert float(grad.abs().max()) < 1e-12


def test_solvers_give_the_same_trained_model(grammar):
    x, y = _data(grammar, 2000, 5)
    preds = []
    for solver in ("closed_form", "dual", "gd"):
        levels = [LevelParams(l, sigma=0.7, num_features=64, num_samples=200, solver=solver, num_steps=2000)
                  for l in (1, 2)]
        model = LayerwiseRidge.for_grammar(grammar, levels).fit(grammar, seed=7, progress=False)
        preds.append(model.forward(x))
    assert torch.allclose(preds[0], preds[1], atol=1e-8) and torch.allclose(preds[0], preds[2], atol=1e-6)


def test_construction1_tensor_features_recover_parents_exactly(grammar):
    """Construction 1: with h1 (x) h2 the one-hot patch embeddings are orthonormal, and
    W = sum_mu e_nu(mu) x_mu^T maps every patch to its parent's one-hot vector, level by level."""
    levels = [LevelParams(l, sigma=1.0, num_features=1, num_samples=1, features="tensor") for l in (1, 2)]
    model = LayerwiseRidge.for_grammar(grammar, levels)
    for l in (1, 2):
        model.feature_maps[l] = None
        patches = torch.tensor(np.array(grammar.patches(l)))
        d_e = model.input_dim(l)
        X = lr.tensor_features(torch.nn.functional.one_hot(patches, d_e).double())
        assert torch.equal(X @ X.T, torch.eye(len(patches), dtype=torch.float64))
        parents = torch.tensor(np.array(grammar.parents(l)))
        model.weights[l] = torch.nn.functional.one_hot(parents, model.input_dim(l - 1) if l > 1 else 4).double().T @ X
    x, y = _data(grammar, 500, 8)
    out = model.forward(x)
    assert torch.equal(out, torch.nn.functional.one_hot(y, 4).double())
    tree = rhm.parse(grammar, x)
    assert torch.equal(model.embed(x, 1).argmax(-1), tree.symbols[1])


def test_rff_features_come_from_the_rff_module(grammar):
    levels = [LevelParams(l, sigma=0.7, num_features=32, num_samples=10) for l in (1, 2)]
    model = LayerwiseRidge.for_grammar(grammar, levels)
    model.draw_features(2, torch.Generator().manual_seed(0))
    expected = rff.sample_frequencies(8, 32, 0.7, torch.Generator().manual_seed(0))
    assert isinstance(model.feature_maps[2], rff.RandomFourierFeatures)
    assert torch.equal(model.feature_maps[2].frequencies, expected)
    x, _ = _data(grammar, 5, 1)
    feats = model.first_patch_features(x, 2)
    assert torch.allclose(feats.norm(dim=1), torch.ones(5, dtype=torch.float64))


def test_deterministic_and_resumable(grammar, tmp_path):
    params = lr.practical_parameters(grammar, 600, num_features=64)
    x, _ = _data(grammar, 300, 9)
    a = LayerwiseRidge.for_grammar(grammar, params).fit(grammar, seed=11, progress=False).forward(x)
    b = LayerwiseRidge.for_grammar(grammar, params).fit(grammar, seed=11, progress=False).forward(x)
    assert torch.equal(a, b)
    c = LayerwiseRidge.for_grammar(grammar, params).fit(grammar, seed=12, progress=False).forward(x)
    assert not torch.equal(a, c)
    # interrupt after level 2, resume from the checkpoint: same model as the uninterrupted run
    ckpt = tmp_path / "ckpt.pt"

    class Stop(Exception):
        pass

    def stop_after_bottom(model, level):
        if level == 2:
            model.save(ckpt)
            raise Stop

    with pytest.raises(Stop):
        LayerwiseRidge.for_grammar(grammar, params).fit(grammar, seed=11, progress=False, checkpoint=ckpt,
                                                        callback=stop_after_bottom)
    resumed = LayerwiseRidge.for_grammar(grammar, params)
    resumed.load_state(torch.load(ckpt, weights_only=False))
    assert resumed.trained_levels == [2]
    resumed = LayerwiseRidge.for_grammar(grammar, params).fit(grammar, seed=11, progress=False, checkpoint=ckpt)
    assert torch.equal(resumed.forward(x), a)


def test_learns_a_small_rhm(grammar):
    model = LayerwiseRidge.for_grammar(grammar, lr.practical_parameters(grammar, 2000, num_features=128))
    model.fit(grammar, seed=0, progress=False)
    x, y = _data(grammar, 2000, 10)
    assert model.accuracy(x, y) >= 0.9


def test_proof_parameters(grammar):
    params, info = lr.proof_parameters(grammar, delta_p=0.1, C=1.0, max_features=4096)
    kappa, _ = rhm.assumptions.kappa(grammar, "float64")
    for p, i in zip(params, info):
        P = grammar.num_patches(p.level)
        assert p.num_samples == math.ceil(20 * max(float(kappa), i["eps_star"] ** -2) * math.log(4 * 2 / 0.1))
        assert p.num_steps == math.ceil(P * math.log(100 * P * float(kappa) * 2 / i["eps_star"]))
        assert math.isclose(p.sigma ** 2, 2 * i["rho_tilde"] ** 2 / math.log(2 / i["eps_O"]))
        assert i["M_capped"] and p.num_features == 4096 and i["M_proof"] > 1e9
    eps = [i["eps_star"] for i in info]
    assert math.isclose(eps[0] / eps[1], math.sqrt(2))  # eps_* ~ m^{-l/2}
    assert lr.proof_parameters(grammar, C=4.0)[1][0]["eps_star"] == pytest.approx(eps[0] / 2)


def test_sample_allocation(grammar):
    alloc = lr.sample_allocation(700, grammar)
    assert alloc == {1: 233, 2: 466}


def test_value_errors(grammar):
    with pytest.raises(ValueError, match="sigma"):
        LevelParams(1, sigma=0.0, num_features=8, num_samples=1)
    with pytest.raises(ValueError, match="num_features"):
        LevelParams(1, sigma=1.0, num_features=0, num_samples=1)
    with pytest.raises(ValueError, match="num_samples"):
        LevelParams(1, sigma=1.0, num_features=8, num_samples=0)
    with pytest.raises(ValueError, match="solver"):
        LevelParams(1, sigma=1.0, num_features=8, num_samples=1, solver="adam")
    with pytest.raises(ValueError, match="num_steps"):
        LevelParams(1, sigma=1.0, num_features=8, num_samples=1, solver="gd", num_steps=0)
    with pytest.raises(ValueError, match="lambda_w"):
        LevelParams(1, sigma=1.0, num_features=8, num_samples=1, lambda_w=-1.0)
    with pytest.raises(ValueError, match="levels"):
        LayerwiseRidge.for_grammar(grammar, [LevelParams(1, sigma=1.0, num_features=8, num_samples=1)])
    with pytest.raises(ValueError, match="max_features"):
        LayerwiseRidge.for_grammar(grammar, [LevelParams(l, sigma=1.0, num_features=10**6, num_samples=1)
                                             for l in (1, 2)])
    with pytest.raises(ValueError, match="delta_p"):
        lr.proof_parameters(grammar, delta_p=1.5)
    with pytest.raises(ValueError, match="C "):
        lr.proof_parameters(grammar, C=0)
    with pytest.raises(ValueError, match="Assumption 6"):
        # both labels' patches start with both tokens: equal columns of P_1, so K_rho = 0
        bad = rhm.Grammar.from_rules([np.array([[[0, 0], [1, 1]], [[0, 1], [1, 0]]]),
                                      np.array([[[0, 0], [0, 1]], [[1, 0], [1, 1]]])], 2, 2)
        lr.practical_parameters(bad, 100)


def test_default_levels_are_the_proofs_choices(grammar):
    with pytest.warns(UserWarning, match="capped"):
        model = LayerwiseRidge.for_grammar(grammar, max_features=256, proof_kwargs={"C": 2.0, "delta_p": 0.05})
    expected, _ = lr.proof_parameters(grammar, delta_p=0.05, C=2.0, max_features=256)
    assert [model.levels[l] for l in (1, 2)] == expected
    assert all(p.solver == "gd" and p.num_steps >= 1 for p in expected)
