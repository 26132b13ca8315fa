"""Bad inputs at the learners' public entry points (``verify.learners``) give a ``ValueError`` that names the
parameter: never a silent wrong answer (a broadcast label, NaN weights, a global-RNG fallback), never a raw
torch/numpy error (issue 13, part A, item 6).

``CASES`` is a list of ``(what the message must name, bad call)``; ``GOOD`` the calls that must keep working.
"""
from __future__ import annotations

import math
import tempfile
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
import torch

from verify import rhm
from verify.experiments import sample_complexity as sc
from verify.learners import baselines as bl, end_to_end_mlp as e2e, layerwise_resnet as lres
from verify.learners import layerwise_ridge as lr
from verify.learners.layerwise_ridge import LayerwiseRidge, LevelParams

G = sc.grammar_with_signal(4, 2, 2)  # V = n_c = 4, m = 2, s = 2, L = 2 (input width 4), K_rho > 0
G_OTHER = rhm.sample_grammar(4, 4, 2, 2, 2, seed=G.seed + 1, sampler=G.sampler)  # the same shapes, other rules


def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


X, Y = rhm.sample(G, 64, gen())
LEVELS = [LevelParams(level=l, sigma=1.0, num_features=8, num_samples=32) for l in (1, 2)]


def ridge(**kw):
    return LayerwiseRidge(4, 4, 2, 2, LEVELS, **kw)


def trained_ridge():
    return ridge().fit(G, seed=1, progress=False)


def moments():
    m = trained_ridge()
    return m.moments(X, Y, 2)


def tmpdir() -> Path:
    return Path(tempfile.mkdtemp(prefix="bad_inputs_learners_"))


def checkpoint_of(grammar=G, seed=1, levels=LEVELS, extra=None) -> Path:
    """A checkpoint of a fully trained model (``extra``: keys added to the saved state)."""
    path = tmpdir() / "ckpt.pt"
    m = LayerwiseRidge(4, 4, 2, 2, levels).fit(grammar, seed=seed, progress=False)
    state = m.state()
    state.update(extra or {})
    torch.save(state, path)
    return path


def resume(path, grammar=G, seed=1, levels=LEVELS, **kw):
    return LayerwiseRidge(4, 4, 2, 2, levels).fit(grammar, seed=seed, progress=False, checkpoint=path, **kw)


def garbage_checkpoint() -> Path:
    path = tmpdir() / "garbage.pt"
    path.write_bytes(b"not a checkpoint\x00\x01")
    return path


def cnn(**kw):
    return bl.DeepCNN(4, 4, 2, 2, **{"width": 8, "epochs": 1, **kw})


def mlp(**kw):
    return bl.TwoLayerNet(4, 4, 4, **{"width": 8, "epochs": 1, **kw})


def trained(model):
    return model.fit(X, Y, gen())


# Paper B's learners: +-1 inputs (16, 4), 3 labels of +-1
XR = torch.as_tensor(np.random.default_rng(0).choice([-1.0, 1.0], size=(16, 4)))
YR = torch.as_tensor(np.random.default_rng(1).choice([-1.0, 1.0], size=(16, 3)))
XR_NAN = XR.clone()
XR_NAN[0, 0] = math.nan
CFG = lres.ResNetConfig(width=8, max_iter=50, readout="identity", input_map="every_block")  # predictions start at 0


def resnet(config=CFG, generator="default"):
    return lres.LayerwiseResNet(4, 3, config, gen() if generator == "default" else generator)


def trained_resnet():
    net = resnet()
    net.fit(XR, YR, 1)
    return net


PHI = torch.randn(16, 8, generator=gen(), dtype=torch.float64)
MARGINS = np.ones((3, 5))

CASES = [
    # -- LayerwiseRidge: construction -------------------------------------------------------------------
    ("num_features", lambda: LayerwiseRidge(4.0, 4, 2, 2, LEVELS)),
    ("levels", lambda: LayerwiseRidge(4, 4, 2, 2, [{"level": 1}, {"level": 2}])),
    ("levels", lambda: LayerwiseRidge(4, 4, 2, 2, None)),
    ("levels", lambda: LayerwiseRidge(4, 4, 2, 2, LEVELS[:1])),
    ("dtype", lambda: ridge(dtype="float64")),
    ("device", lambda: ridge(device="gpu0")),
    ("max_features", lambda: ridge(max_features=-1)),
    ("centres", lambda: LayerwiseRidge(4, 4, 2, 2, [LevelParams(1, 1.0, 8, 8),
                                                    LevelParams(2, 1.0, 8, 8, features="cluster")],
                                       centres={2: torch.full((2, 4), math.nan, dtype=torch.float64)})),
    ("centres", lambda: LayerwiseRidge(4, 4, 2, 2, [LevelParams(1, 1.0, 8, 8),
                                                    LevelParams(2, 1.0, 8, 8, features="cluster")],
                                       centres={2: "centres"})),
    ("grammar", lambda: LayerwiseRidge.for_grammar("grammar", LEVELS)),
    ("level", lambda: LevelParams(level=True, sigma=1.0, num_features=8, num_samples=8)),
    # -- LayerwiseRidge.fit ------------------------------------------------------------------------------
    ("grammar", lambda: ridge().fit("grammar", progress=False)),
    ("grammar", lambda: ridge().fit(rhm.sample_grammar(4, 4, 2, 2, 3, seed=0), progress=False)),
    ("seed", lambda: ridge().fit(G, seed=-1, progress=False)),
    ("seed", lambda: ridge().fit(G, seed=1.5, progress=False)),
    ("seed", lambda: ridge().fit(G, seed=None, progress=False)),
    ("batch_size", lambda: ridge().fit(G, batch_size=0, progress=False)),
    ("test", lambda: ridge().fit(G, progress=False, test=(X[:, :2], Y))),
    ("test", lambda: ridge().fit(G, progress=False, test=X)),
    ("callback", lambda: ridge().fit(G, progress=False, callback=5)),
    ("transform", lambda: ridge().fit(G, progress=False, transform="shuffle")),
    ("checkpoint", lambda: ridge().fit(G, progress=False, checkpoint=tmpdir())),
    ("checkpoint", lambda: ridge().fit(G, progress=False, checkpoint=garbage_checkpoint())),
    ("checkpoint", lambda: resume(checkpoint_of(extra={"note": Fraction(1, 3)}))),  # a pickled object
    ("grammar", lambda: resume(checkpoint_of(grammar=G_OTHER))),                  # trained on other rules
    ("seed", lambda: resume(checkpoint_of(seed=2))),                              # trained with other seed
    ("num_features", lambda: resume(checkpoint_of(levels=[LevelParams(l, 1.0, 16, 32) for l in (1, 2)]))),
    ("num_samples", lambda: resume(checkpoint_of(levels=[LevelParams(l, 1.0, 8, 16) for l in (1, 2)]))),
    ("transform", lambda: resume(checkpoint_of(), transform=sc.shuffle_labels)),   # trained on true labels
    ("checkpoint", lambda: sc.fit_learner("layerwise_ridge", G, 64, 0, checkpoint=tmpdir(),
                                          num_features=8)),
    # -- LayerwiseRidge.fit_level and the solvers -------------------------------------------------------
    ("level", lambda: ridge().fit_level(0, X, Y, 4, generator=gen())),
    ("level", lambda: ridge().fit_level(True, X, Y, 4, generator=gen())),
    ("level", lambda: ridge().fit_level("2", X, Y, 4, generator=gen())),
    ("num_patches", lambda: ridge().fit_level(2, X, Y, 0, generator=gen())),
    ("num_patches", lambda: ridge().fit_level(2, X, Y, -3, generator=gen())),
    ("num_patches", lambda: ridge().fit_level(2, X, Y, 2.5, generator=gen())),
    ("generator", lambda: ridge().fit_level(2, X, Y, 4, generator=5)),
    ("x", lambda: ridge().fit_level(2, X.double(), Y, 4, generator=gen())),
    ("x", lambda: ridge().fit_level(2, X.numpy(), Y, 4, generator=gen())),
    ("y", lambda: ridge().fit_level(2, X, Y.double(), 4, generator=gen())),
    ("y", lambda: ridge().fit_level(2, X, Y[:1], 4, generator=gen())),
    ("x", lambda: ridge().fit_level(2, X[:1], Y, 4, generator=gen())),
    ("lambda_w", lambda: LayerwiseRidge.closed_form(*moments(), -1.0)),
    ("lambda_w", lambda: LayerwiseRidge.closed_form(*moments(), math.nan)),
    ("C", lambda: LayerwiseRidge.closed_form(torch.eye(3, dtype=torch.float64), torch.ones(4, 5), 0.1)),
    ("C", lambda: LayerwiseRidge.closed_form(torch.full((2, 2), math.nan, dtype=torch.float64),
                                             torch.ones(4, 2, dtype=torch.float64), 0.1)),
    ("num_steps", lambda: LayerwiseRidge.gradient_descent(*moments(), 0.1, 1.0, -1)),
    ("step_size", lambda: LayerwiseRidge.gradient_descent(*moments(), 0.1, math.nan, 3)),
    ("y", lambda: LayerwiseRidge.dual(torch.ones(4, 3, dtype=torch.float64), torch.tensor([0, 1, 2, 9]), 4, 0.1)),
    ("y", lambda: LayerwiseRidge.dual(torch.ones(4, 3, dtype=torch.float64), torch.tensor([0, 1]), 4, 0.1)),
    ("X", lambda: LayerwiseRidge.dual(torch.full((2, 3), math.nan, dtype=torch.float64), torch.tensor([0, 1]),
                                      4, 0.1)),
    ("num_classes", lambda: LayerwiseRidge.dual(torch.ones(2, 3, dtype=torch.float64), torch.tensor([0, 1]), 0, 0.1)),
    ("num_patches", lambda: ridge().regularization(2, 0)),
    ("level", lambda: ridge().regularization(7, 4)),
    ("y", lambda: trained_ridge().moments(X, Y[:3], 2)),
    ("level", lambda: trained_ridge().moments(X, Y, 0)),
    # -- LayerwiseRidge: forward, predict, accuracy, embed ------------------------------------------------
    ("x", lambda: trained_ridge().predict(X[:, :2])),
    ("x", lambda: trained_ridge().predict(torch.zeros(0, 4, dtype=torch.long))),
    ("x", lambda: trained_ridge().predict(X.double())),
    ("batch_size", lambda: trained_ridge().predict(X, batch_size=0)),
    ("y", lambda: trained_ridge().accuracy(X, Y[:1])),
    ("trained", lambda: ridge().predict(X)),
    ("level", lambda: trained_ridge().embed(X, 5)),
    ("level", lambda: trained_ridge().embed(X, -1)),
    ("x", lambda: trained_ridge().embed(X.double(), 0)),
    ("x", lambda: trained_ridge().embed(torch.full((2, 4), 9), 0)),
    ("level", lambda: trained_ridge().first_patch_features(X, 7)),
    ("x", lambda: trained_ridge().first_patch_features(X[:, :1], 1)),
    ("h", lambda: trained_ridge().patch_features(torch.ones(2, 3, 4, dtype=torch.float64), 2)),
    # -- LayerwiseRidge: checkpoints in memory ------------------------------------------------------------
    ("state", lambda: ridge().load_state({})),
    ("state", lambda: ridge().load_state("state")),
    ("state", lambda: ridge().load_state({**trained_ridge().state(), "trained": {2: {"W": "weights"}}})),
    ("W", lambda: ridge().load_state({**trained_ridge().state(),
                                      "trained": {l: {**r, "W": r["W"][:, :3]}
                                                  for l, r in trained_ridge().state()["trained"].items()}})),
    ("path", lambda: trained_ridge().save(tmpdir())),
    # -- module functions ----------------------------------------------------------------------------------
    ("level", lambda: lr.level_generator(0, -1)),
    ("level", lambda: lr.level_generator(0, 1.5)),
    ("stream", lambda: lr.level_generator(0, 1, stream="x")),
    ("level", lambda: lr.stage_samples(G, 0, 10, 0)),
    ("num_samples", lambda: lr.stage_samples(G, 1, -1, 0)),
    ("total", lambda: lr.training_samples(G, 1, 0)),
    ("h", lambda: lr.tensor_features(torch.ones(4))),
    ("h", lambda: lr.tensor_features("h")),
    ("grammar", lambda: lr.sample_allocation(10, "grammar")),
    ("num_features", lambda: lr.practical_parameters(G, 100, num_features=0)),
    ("solver", lambda: lr.practical_parameters(G, 100, solver="lbfgs")),
    ("lambda_w", lambda: lr.practical_parameters(G, 100, lambda_w=-1.0)),
    ("num_steps", lambda: lr.practical_parameters(G, 100, solver="gd", num_steps=0)),
    ("delta_p", lambda: lr.proof_parameters(G, delta_p=2.0)),
    ("solver", lambda: lr.proof_parameters(G, solver="x")),
    # -- baselines: DeepCNN, TwoLayerNet, KernelRidge -------------------------------------------------------
    ("y", lambda: cnn().fit(X, Y[:1], gen())),                    # 1 label for 64 inputs
    ("y", lambda: cnn().fit(X[:1], Y, gen())),                    # more labels than inputs
    ("x", lambda: cnn().fit(X[:0], Y[:0], gen())),                # empty data
    ("x", lambda: cnn().fit(X.double(), Y, gen())),
    ("x", lambda: cnn().fit(X + 10, Y, gen())),
    ("x", lambda: cnn().fit(X[:, :2], Y, gen())),
    ("y", lambda: cnn().fit(X, Y + 10, gen())),
    ("generator", lambda: cnn().fit(X, Y, None)),                 # the global RNG
    ("trained", lambda: cnn().predict(X)),
    ("y", lambda: trained(cnn()).accuracy(X, Y[:1])),             # one label broadcast over 64 predictions
    ("x", lambda: trained(cnn()).predict(X[:, :2])),
    ("weight_decay", lambda: cnn(weight_decay=-1.0)),
    ("weight_decay", lambda: cnn(weight_decay=math.nan)),
    ("momentum", lambda: cnn(momentum="0.5")),
    ("device", lambda: cnn(device="gpu0")),
    ("x", lambda: mlp().fit(X[:, :2], Y, gen())),
    ("input_length", lambda: bl.TwoLayerNet(4, 4, 2.5)),
    ("generator", lambda: mlp().fit(X, Y, None)),
    ("y", lambda: mlp().fit(X, Y[:1], gen())),
    ("ridge", lambda: bl.KernelRidge(4, 4, ridge=math.nan)),
    ("ridge", lambda: bl.KernelRidge(4, 4, ridge=math.inf)),
    ("y", lambda: bl.KernelRidge(4, 4).fit(X, Y[:1])),
    ("x", lambda: bl.KernelRidge(4, 4).fit(X[:0], Y[:0]).predict(X)),
    ("x", lambda: bl.KernelRidge(4, 4).fit(X.double(), Y)),
    ("x", lambda: bl.KernelRidge(4, 4).fit(X + 10, Y)),
    ("y", lambda: bl.KernelRidge(4, 4).fit(X, Y + 10)),
    ("x", lambda: bl.KernelRidge(4, 4).fit(X, Y).predict(X[:, :2])),
    ("trained", lambda: bl.KernelRidge(4, 4).predict(X)),
    ("y", lambda: bl.KernelRidge(4, 4).fit(X, Y).accuracy(X, Y[:1])),
    ("grammar", lambda: bl.make_baseline("cnn", "grammar")),
    ("baseline", lambda: bl.make_baseline("svm", G)),
    ("kernel", lambda: bl.KernelRidge(4, 4, kernel="poly")),
    # -- Paper B's layerwise ResNet ---------------------------------------------------------------------------
    ("width", lambda: lres.ResNetConfig(width=2.5)),
    ("width", lambda: lres.ResNetConfig(width="8")),
    ("reg", lambda: lres.ResNetConfig(reg=math.nan)),
    ("eps_opt", lambda: lres.ResNetConfig(eps_opt=math.nan)),
    ("max_iter", lambda: lres.ResNetConfig(max_iter=-1)),
    ("max_iter", lambda: lres.ResNetConfig(max_iter=2.5)),
    ("beta", lambda: lres.ResNetConfig(beta=math.nan)),
    ("activation", lambda: lres.ResNetConfig(activation="bogus")),
    ("in_dim", lambda: lres.LayerwiseResNet(2.5, 3, CFG, gen())),
    ("generator", lambda: resnet(generator=None)),
    ("config", lambda: resnet(config={"width": 8}).fit(XR, YR, 1)),
    ("x", lambda: resnet().fit(XR[:, :3], YR, 1)),
    ("y", lambda: resnet().fit(XR, YR[:, :1], 1)),               # one label column broadcast over 3
    ("y", lambda: resnet().fit(XR, YR[:5], 1)),
    ("y", lambda: resnet().fit(XR, YR * 0.5, 1)),                  # labels not +-1
    ("x", lambda: resnet().fit(XR_NAN, YR, 1)),
    ("blocks", lambda: resnet().fit(XR, YR, -1)),
    ("y_test", lambda: resnet().fit(XR, YR, 1, x_test=XR)),
    ("blocks", lambda: trained_resnet().predict(XR, blocks=-1)),
    ("blocks", lambda: trained_resnet().predict(XR, blocks=5)),
    ("x", lambda: trained_resnet().predict(XR[:, :3])),
    ("loss", lambda: lres.train_readout(PHI, torch.zeros(16, 3, dtype=torch.float64), YR, loss="bogus")),
    ("reg", lambda: lres.train_readout(PHI, torch.zeros(16, 3, dtype=torch.float64), YR, reg=0.0)),
    ("Yhat", lambda: lres.train_readout(PHI, torch.zeros(16, 2, dtype=torch.float64), YR)),
    ("loss", lambda: lres.loss_values(torch.zeros(3), "bogus")),
    ("train_margin", lambda: lres.blocks_until_margin(np.ones(3), 0.5)),
    ("theta", lambda: lres.blocks_until_margin(MARGINS, math.nan)),
    ("m", lambda: lres.hierarchy_experiment(m=0, blocks=1)),
    ("blocks", lambda: lres.hierarchy_experiment(m=20, m_test=10, blocks=-1)),
    ("net_seed", lambda: lres.hierarchy_experiment(m=20, m_test=10, blocks=1, net_seed=-1)),
    # -- the end-to-end MLP ------------------------------------------------------------------------------------
    ("generator", lambda: e2e.train_mlp_endtoend(XR, YR, hidden=8, epochs=1)),
    ("hidden", lambda: e2e.train_mlp_endtoend(XR, YR, hidden=2.5, epochs=1, generator=gen())),
    ("y", lambda: e2e.train_mlp_endtoend(XR, YR[:, 0], hidden=8, epochs=1, generator=gen())),
    ("y", lambda: e2e.train_mlp_endtoend(XR, YR[:5], hidden=8, epochs=1, generator=gen())),
    ("x", lambda: e2e.train_mlp_endtoend(XR_NAN, YR, hidden=8, epochs=1, generator=gen())),
    ("lr", lambda: e2e.train_mlp_endtoend(XR, YR, hidden=8, epochs=1, lr=math.nan, generator=gen())),
    ("batch", lambda: e2e.train_mlp_endtoend(XR, YR, hidden=8, epochs=1, batch=0, generator=gen())),
    ("x_test", lambda: e2e.train_mlp_endtoend(XR, YR, hidden=8, epochs=1, x_test=XR[:, :3], y_test=YR,
                                              generator=gen())),
]


@pytest.mark.parametrize("param, call", CASES, ids=[f"{i}-{p}" for i, (p, _) in enumerate(CASES)])
def test_bad_input_raises_value_error_naming_parameter(param, call):
    with pytest.raises(ValueError, match=param):
        call()


def test_good_inputs_still_work(tmp_path):
    model = trained_ridge()
    assert model.predict(X).shape == (64,) and 0 <= model.accuracy(X, Y) <= 1
    assert model.accuracy(X.int(), Y.int()) == model.accuracy(X, Y)  # any integer dtype
    # a checkpoint of the same configuration resumes to the same model as a fresh run
    path = checkpoint_of()
    assert torch.equal(resume(path).forward(X), model.forward(X))
    for m in (cnn(), mlp(), bl.KernelRidge(4, 4)):
        assert trained(m).predict(X).shape == (64,) and 0 <= m.accuracy(X, Y) <= 1
    net = trained_resnet()
    assert net.predict(XR).shape == (16, 3) and net.predict(XR, blocks=0).abs().sum() == 0
    out = e2e.train_mlp_endtoend(XR, YR, hidden=8, epochs=2, generator=gen(), x_test=XR, y_test=YR)
    assert out["history"]["train_loss"].shape == (2,)
    assert lres.blocks_until_margin(MARGINS, 0.5).tolist() == [0] * 5
