"""verify.learners.baselines: shapes, determinism, learning a small RHM, chance level on shuffled labels."""
import pytest
import torch

from verify import rhm
from verify.learners.baselines import BASELINES, DeepCNN, KernelRidge, PatchLinear, make_baseline


@pytest.fixture(scope="module")
def data():
    g = rhm.sample_grammar(4, 4, 2, 2, 2, seed=1, sampler="appendix_b")
    train = rhm.sample(g, 600, torch.Generator().manual_seed(0))
    test = rhm.sample(g, 1000, torch.Generator().manual_seed(1))
    return g, train, test


@pytest.mark.parametrize("name", BASELINES)
def test_learns_and_is_deterministic(data, name):
    g, (x, y), test = data
    kw = {"epochs": 20} if name in ("cnn", "mlp2") else {}
    a = make_baseline(name, g, **kw).fit(x, y, torch.Generator().manual_seed(5))
    b = make_baseline(name, g, **kw).fit(x, y, torch.Generator().manual_seed(5))
    assert torch.equal(a.predict(test[0]), b.predict(test[0]))
    assert a.accuracy(*test) >= 0.9


def test_cnn_architecture(data):
    g, (x, y), _ = data
    cnn = DeepCNN(4, 4, 2, 2, width=8, epochs=1).fit(x[:10], y[:10], torch.Generator().manual_seed(0))
    convs = [m for m in cnn.net if isinstance(m, PatchLinear)]  # Conv1d(filter = stride = s) as patch-Linear
    assert len(convs) == g.num_layers and all(c.s == 2 for c in convs)
    assert [tuple(c.weight.shape) for c in convs] == [(8, 2 * 4), (8, 2 * 8)]  # (width, s * channels in)


def test_shuffled_labels_stay_near_chance(data):
    g, (x, y), test = data
    y_shuffled = y[torch.randperm(len(y), generator=torch.Generator().manual_seed(3))]
    k = KernelRidge(4, 4).fit(x, y_shuffled)
    assert k.accuracy(*test) < 0.5


def test_value_errors(data):
    g = data[0]
    with pytest.raises(ValueError, match="baseline"):
        make_baseline("svm", g)
    with pytest.raises(ValueError, match="kernel"):
        KernelRidge(4, 4, kernel="poly")
    with pytest.raises(ValueError, match="epochs"):
        DeepCNN(4, 4, 2, 2, epochs=0)
    with pytest.raises(ValueError, match="lr"):
        DeepCNN(4, 4, 2, 2, lr=-1.0)


@pytest.mark.parametrize("learner", ["layerwise_ridge", "kernel_gaussian"])
def test_verify_train_writes_record_and_curve(tmp_path, learner):
    import json

    from verify.experiments import train
    rc = train.main(["--learner", learner, "--V", "4", "--m", "2", "--L", "2", "--grammar-seed", "1", "--P", "400",
                     "--curve-points", "2", "--num-features", "64", "--device", "cpu", "--out", str(tmp_path),
                     "--no-progress"])
    assert rc == 0
    (rec,) = tmp_path.glob("*.json")
    data = json.loads(rec.read_text())
    assert [c["P"] for c in data["curve"]] == [200, 400] and data["provenance"]["seed"] == 0
    assert rec.with_suffix(".png").exists()
    assert train.main(["--V", "4", "--m", "2", "--L", "3", "--grammar-seed", "0", "--P", "100", "--device", "cpu",
                       "--out", str(tmp_path)]) == 2  # K_rho = 0 grammar: a ValueError, reported


def test_kernel_ridge_cholesky_solve_and_its_lu_fallback(data):
    g, (x, y), test = data
    kr = KernelRidge(4, 4).fit(x, y)
    K = kr._k(kr.u, kr.u)
    n = x.shape[0]
    Y = torch.nn.functional.one_hot(y, 4).double()
    ref = torch.linalg.solve(K + kr.ridge * n * torch.eye(n, dtype=K.dtype), Y)  # LU, the form before issue 15
    assert torch.allclose(kr.alpha, ref, rtol=1e-8, atol=1e-10)
    # ridge 0 on repeated inputs: the Gram is singular, Cholesky reports it, and LU (the fallback) refuses the
    # system as it did before, instead of a solve from a failed factorisation
    xx, yy = torch.cat([x[:5], x[:5]]), torch.cat([y[:5], y[:5]])
    with pytest.raises(torch.linalg.LinAlgError, match="singular"):
        KernelRidge(4, 4, ridge=0.0).fit(xx, yy)
