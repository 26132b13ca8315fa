"""verify.learners.layerwise_resnet (Algorithm 4.2, reconstructed) and the end-to-end baseline."""
import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st

from verify import ptf
from verify.learners import end_to_end_mlp
from verify.learners.layerwise_resnet import (LayerwiseResNet, ResNetConfig, blocks_until_margin, gradient, hessian,
                                              objective, train_readout)


def _problem(seed, m=120, q=24, n=3):
    g = torch.Generator().manual_seed(seed)
    Phi = torch.relu(torch.randn(m, q, generator=g, dtype=torch.float64)) / np.sqrt(q)
    Y = torch.sign(torch.randn(m, n, generator=g, dtype=torch.float64))
    Yhat = 0.3 * torch.randn(m, n, generator=g, dtype=torch.float64)
    return Phi, Yhat, Y


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 10 ** 6), loss=st.sampled_from(["square", "logistic"]),
       eps=st.sampled_from([1e-2, 1e-3, 1e-5]))
def test_stopping_rule_and_its_guarantee(seed, loss, eps):
    Phi, Yhat, Y = _problem(seed)
    reg = 1e-2
    V, info = train_readout(Phi, Yhat, Y, loss, reg, eps, max_iter=20000)
    assert info["converged"] and max(info["grad_norm"]) <= eps
    F = objective(V, Phi, Yhat, Y, loss, reg)
    for j in range(Y.shape[1]):  # F* by Newton
        v = torch.zeros(Phi.shape[1], dtype=torch.float64)
        for _ in range(60):
            gr = gradient(v[:, None], Phi, Yhat[:, j:j + 1], Y[:, j:j + 1], loss, reg)[:, 0]
            v = v - torch.linalg.solve(hessian(v, Phi, Yhat[:, j], Y[:, j], loss, reg), gr)
        Fstar = objective(v[:, None], Phi, Yhat[:, j:j + 1], Y[:, j:j + 1], loss, reg)[0]
        assert -1e-12 <= float(F[j] - Fstar) <= eps ** 2 / (2 * reg) + 1e-15


def _train_readout_every_label(Phi, Yhat, Y, loss, reg, eps_opt, max_iter):
    """The read-out's accelerated GD written out plainly: every label's gradient computed at every iteration,
    a stopped label's columns frozen (the form before issue 15 computed only the running labels)."""
    L = (1.0 if loss == "square" else 0.25) * torch.linalg.matrix_norm(Phi, ord=2).item() ** 2 / Phi.shape[0] + reg
    mom = (np.sqrt(L / reg) - 1) / (np.sqrt(L / reg) + 1)
    V = torch.zeros(Phi.shape[1], Y.shape[1], dtype=Phi.dtype)
    Z, active, iters = V.clone(), torch.ones(Y.shape[1], dtype=torch.bool), torch.zeros(Y.shape[1], dtype=torch.long)
    for _ in range(max_iter):
        active = active & (gradient(V, Phi, Yhat, Y, loss, reg).norm(dim=0) > eps_opt)
        if not active.any():
            break
        iters += active
        V_new = Z - gradient(Z, Phi, Yhat, Y, loss, reg) / L
        Z_new = V_new + mom * (V_new - V)
        V, Z = torch.where(active[None], V_new, V), torch.where(active[None], Z_new, Z)
    return V, iters.tolist()


@pytest.mark.parametrize("loss", ["square", "logistic"])
@pytest.mark.parametrize("n", [1, 5])
def test_readout_on_running_labels_equals_every_label_computed(loss, n):
    # labels with different targets stop hundreds of iterations apart; computing only the running ones must give
    # the same iterates (up to the GEMM's summation order) and the same iteration counts
    Phi, Yhat, Y = _problem(7, n=n)
    Yhat[:, 0] = 5 * Y[:, 0]  # one label far from the others' starting point
    V, info = train_readout(Phi, Yhat, Y, loss, 1e-3, 1e-6, max_iter=5000)
    V_ref, iters_ref = _train_readout_every_label(Phi, Yhat, Y, loss, 1e-3, 1e-6, 5000)
    assert info["iterations"] == iters_ref and (n == 1 or len(set(iters_ref)) > 1)  # labels stopped apart
    assert torch.allclose(V, V_ref, rtol=1e-10, atol=1e-12)


def test_gradient_matches_autograd():
    Phi, Yhat, Y = _problem(1)
    V = torch.randn(Phi.shape[1], Y.shape[1], dtype=torch.float64, requires_grad=True)
    for loss in ("square", "logistic"):
        F = objective(V, Phi, Yhat, Y, loss, 0.1).sum()
        (g,) = torch.autograd.grad(F, V)
        assert torch.allclose(g, gradient(V.detach(), Phi, Yhat, Y, loss, 0.1))
        H = torch.autograd.functional.hessian(lambda v: objective(v[:, None], Phi, Yhat[:, :1], Y[:, :1], loss, 0.1)[0],
                                              V.detach()[:, 0])
        assert torch.allclose(H, hessian(V.detach()[:, 0], Phi, Yhat[:, 0], Y[:, 0], loss, 0.1))


def _data(seed=0, m=300):
    rng = np.random.default_rng(seed)
    h = ptf.random_hierarchy(9, [3, 1], 3, "majority", "tree", rng=rng)
    X = rng.choice(np.array([-1, 1]), size=(m, 9))
    return h, X, h.labels(X).astype(float)


def test_residual_structure_and_history():
    h, X, Y = _data()
    cfg = ResNetConfig(width=64, loss="logistic", reg=1e-3, eps_opt=1e-3, readout="identity", input_map="every_block")
    net = LayerwiseResNet(9, h.num_labels, cfg, torch.Generator().manual_seed(0))
    assert torch.all(net.predict(X) == 0)  # W^2 = 0 before training: the stream carries zeros
    hist = net.fit(X, Y, 3, X, Y)
    assert hist["train_loss"].shape == (4, h.num_labels)  # every label of every level supervised
    G = net.forward(X)
    assert torch.equal(G[:, :9], torch.as_tensor(X, dtype=torch.float64))  # blocks write only label coordinates
    assert torch.allclose(net.predict(X, 3), G[:, 9:])
    assert (np.diff(hist["train_loss"], axis=0) <= 1e-12).all()  # W^2 = 0 is feasible: no block increases F
    assert np.all(np.asarray(hist["grad_norm"]) <= cfg.eps_opt)


def test_learns_a_two_level_majority_hierarchy_and_is_reproducible():
    h, X, Y = _data(1, 600)
    cfg = ResNetConfig(width=128, loss="logistic", reg=1e-4, eps_opt=1e-4, readout="identity", input_map="every_block")
    runs = []
    for _ in range(2):
        net = LayerwiseResNet(9, h.num_labels, cfg, torch.Generator().manual_seed(3))
        runs.append(net.fit(X, Y, 4))
    assert np.array_equal(runs[0]["train_loss"], runs[1]["train_loss"])
    k0 = blocks_until_margin(runs[0]["train_margin"], 0.5)
    assert (k0 >= 1).all() and k0[0] <= k0[-1]  # level 2 gets margin no earlier than its inputs


def test_blocks_until_margin():
    m = np.array([[0, 0], [0.6, 0.1], [0.2, 0.7], [0.8, 0.9]])
    assert blocks_until_margin(m, 0.5).tolist() == [3, 2]
    assert blocks_until_margin(np.zeros((3, 1)), 0.5).tolist() == [-1]


def test_end_to_end_baseline_learns():
    h, X, Y = _data(2, 400)
    out = end_to_end_mlp.train_mlp_endtoend(X, Y, hidden=64, depth=2, epochs=30, generator=torch.Generator().manual_seed(0),
                                            x_test=X, y_test=Y)
    hist = out["history"]
    assert hist["train_loss"][-1] < 0.5 * hist["train_loss"][0]


@pytest.mark.parametrize("kwargs, match", [(dict(width=0), "width"), (dict(beta=1.0), "beta"),
                                           (dict(loss="hinge"), "loss"), (dict(reg=0.0), "reg"),
                                           (dict(eps_opt=0), "eps_opt"), (dict(input_map="tanh"), "input_map"),
                                           (dict(readout="eye"), "readout"), (dict(proximity_width=1.0), "proximity_width")])
def test_config_validation(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ResNetConfig(**kwargs)
