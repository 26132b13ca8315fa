"""Paper B issue 16: the nested Def. 3.1, the brain-dump votes (Thm 3.4 as reconstructed), the summary's
read-out and proximity mapping (Alg. 4.2), and the summary's depth formula (Thm 4.3)."""
import itertools
import math

import numpy as np
import pytest
import torch

from verify import ptf
from verify.learners.layerwise_resnet import (LayerwiseResNet, ResNetConfig, orthogonal_rows, proximity_map,
                                              train_readout)


def _brute_labels(h, x):
    """Every label at one point, by direct recursion over the levels (no vectorised forward)."""
    x = [int(v) for v in x]
    levels = []
    for i, level in enumerate(h.levels):
        if i == 0:
            z = x
        elif h.reads == "previous":
            z = levels[-1]
        elif h.reads == "lower":
            z = [v for lv in levels for v in lv]
        else:
            z = x + [v for lv in levels for v in lv]
        vals = []
        for lab in level:
            u = [z[k] for k in lab.inputs]
            p = sum(float(c) * math.prod(u[t] for t in mono) for mono, c in lab.poly.terms)
            vals.append(1 if p >= 0 else -1)
        levels.append(vals)
    return [v for lv in levels for v in lv]


@pytest.mark.parametrize("reads", ["previous", "lower", "lower_and_input"])
@pytest.mark.parametrize("kind", ["majority", "ptf", "junta"])
def test_nested_hierarchy_matches_brute_force(reads, kind):
    rng = np.random.default_rng(3)
    h = ptf.random_hierarchy(7, [4, 3, 2], 3, kind, "random", K=2, rng=rng, reads=reads)
    assert h.reads == reads
    X = ptf.all_points(7)
    L = h.labels(X)
    for t in range(0, 128, 9):
        assert L[t].tolist() == _brute_labels(h, X[t])
    if reads != "previous":  # a level-3 label may read level-1 labels
        assert h.variables_of_level(3) == (4 + 3 if reads == "lower" else 7 + 4 + 3)


def test_previous_level_form_is_a_special_case_of_the_nested_form():
    h = ptf.random_hierarchy(9, [5, 3, 1], 3, "majority", "random", rng=np.random.default_rng(0))
    X = ptf.all_points(9)
    for reads in ("lower", "lower_and_input"):
        n = h.as_nested(reads)
        assert n.reads == reads and np.array_equal(n.labels(X), h.labels(X))
        assert n.xi() == h.xi() and n.M(1) == h.M(1)


def test_nested_validation():
    a = ptf.parity_label((0, 1))
    with pytest.raises(ValueError, match="reads must be one of"):
        ptf.Hierarchy(3, ((a,),), reads="all")
    with pytest.raises(ValueError, match=r"inputs must lie in \[0, 1\]"):  # level 3 reads 2 lower labels
        ptf.Hierarchy(3, ((a,), (ptf.parity_label((0,)),), (ptf.parity_label((0, 2)),)), reads="lower")
    h = ptf.Hierarchy(3, ((a,), (ptf.parity_label((0,)),), (ptf.parity_label((0, 1)),)), reads="lower")
    assert h.fan_in() == 2 and h.summary()["reads"] == "lower"
    with pytest.raises(ValueError, match="reads must be one of"):
        ptf.random_hierarchy(5, [2], 1, rng=np.random.default_rng(0), reads="x")


def test_brain_dump_votes_are_majorities_of_hidden_gates():
    b = ptf.brain_dump_votes(8, 6, 3, 5, vote_size=3, gate_fan_in=2, rng=np.random.default_rng(2))
    X = ptf.all_points(8)
    L = b.labels(X)
    assert L.shape == (256, 15) and b.r == 3 and b.label_levels().tolist() == [1] * 5 + [2] * 5 + [3] * 5
    G = b.gates(X)
    for layer, votes in enumerate(b.votes):
        for j, lab in enumerate(votes):
            s = np.array([float(c) for _, c in lab.poly.terms])
            brute = np.sign(G[layer][:, list(lab.inputs)] @ s)  # odd number of +-1 terms: never 0
            assert np.array_equal(L[:, 5 * layer + j], brute)
    with pytest.raises(ValueError, match="vote_size must be odd"):
        ptf.brain_dump_votes(8, 6, 2, 5, vote_size=2, rng=np.random.default_rng(0))


def test_best_ptf_margin_known_values():
    Z = ptf.all_points(3)
    maj = np.sign(Z.sum(1))
    assert ptf.best_ptf_margin(Z, maj, 1) == pytest.approx(1 / 3, abs=1e-9)  # sign(z1+z2+z3), l1 norm 3
    par = Z[:, 0] * Z[:, 1]
    assert ptf.best_ptf_margin(Z, par, 1) <= 1e-9  # parity of 2 is no degree-1 PTF
    assert ptf.best_ptf_margin(Z, par, 2) == pytest.approx(1.0, abs=1e-9)


def test_proximity_map_and_orthogonal_rows():
    z = torch.tensor([-2.0, -0.6, 0.0, 0.3, 0.6, 1.5], dtype=torch.float64)
    assert proximity_map(z).tolist() == [-1.0, -0.6, 0.0, 0.3, 0.6, 1.0]
    assert proximity_map(z, 0.5).tolist() == [-1.0, -1.0, 0.0, 0.6, 1.0, 1.0]
    with pytest.raises(ValueError, match="width"):
        proximity_map(z, 1.0)
    W = orthogonal_rows(4, 11, torch.Generator().manual_seed(0))
    assert torch.allclose(W @ W.T, torch.eye(4, dtype=torch.float64), atol=1e-12)


def test_orthogonal_readout_block_adds_the_per_label_readout():
    rng = np.random.default_rng(0)
    h = ptf.random_hierarchy(9, [3, 1], 3, "majority", "tree", rng=rng)
    X = rng.choice(np.array([-1, 1]), size=(200, 9))
    Y = h.labels(X).astype(float)
    cfg = ResNetConfig(width=32, loss="logistic", reg=1e-3, eps_opt=1e-3)
    assert cfg.readout == "orthogonal" and cfg.input_map == "input"  # the summary's form is the default
    net = LayerwiseResNet(9, 4, cfg, torch.Generator().manual_seed(1))
    G0 = net.stream0(X)
    assert torch.allclose(net.predict(X), G0 @ net.WD.T)  # yhat = W^D Gamma_0, not 0
    W, b = net.new_block()
    Phi = net.features(G0, W, b)
    V, _ = train_readout(Phi, net.estimates(G0), torch.as_tensor(Y), cfg.loss, cfg.reg, cfg.eps_opt)
    G1 = net.apply_block(G0, (W, b, V))
    assert torch.allclose(net.estimates(G1), net.estimates(G0) + Phi @ V, atol=1e-12)
    hist = net.fit(X, Y, 2)
    assert (np.diff(hist["train_loss"], axis=0) <= 1e-12).all()


def test_summary_depth_is_the_least_k_times_r_plus_r():
    import sys
    from pathlib import Path
    from verify.harness.discovery import load_claims
    load_claims(Path(__file__).resolve().parents[1] / "lemmas")
    dr = sys.modules["lemmas.depth_requirement"]
    for r, m, G, xi, gamma in itertools.product((1, 3), (50, 1000), (4, 9), (1 / 3, 1.0), (0.7, 0.001)):
        k = 0
        while 8 * m * G * math.exp(-gamma * m * k) > xi:  # least k with 8 m |G| exp(-gamma m k) <= xi
            k += 1
        assert dr.summary_depth(r, m, G, xi, gamma) == r * (k + 1)
    assert dr.summary_depth(2, 10, 3, 0.0, 1.0) == math.inf
