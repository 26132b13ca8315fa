"""Bad inputs at the library API give a ValueError that names the parameter: never a silent wrong
answer, never a raw torch/numpy error ("No silent wrong answer, no traceback")."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings, strategies as st

from verify import rhm
from verify.features import random_neurons as rn, rff
from verify.learners.layerwise_ridge import LayerwiseRidge, LevelParams
from verify.ptf.hierarchy import PTFLabel
from verify.ptf.polynomial import Polynomial
from verify.strategies import grammars

G = rhm.sample_grammar(4, 4, 2, 2, 2, seed=0)


def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _ridge():
    levels = [LevelParams(level=l, sigma=1.0, num_features=8, num_samples=8) for l in (1, 2)]
    return LayerwiseRidge(4, 4, 2, 2, levels)


def _trained_ridge():
    model = _ridge()
    x, y = rhm.sample(G, 32, gen())
    for l in (2, 1):
        model.fit_level(l, x, y, G.num_patches(l), generator=gen(l))
    return model


def _grammar(**change):
    kw = dict(num_features=4, num_classes=4, num_synonyms=2, tuple_size=2, num_layers=2, rules=G.rules)
    return rhm.Grammar(**{**kw, **change})


X4 = torch.tensor([[1.0, -1, 1, -1], [1, 1, -1, -1]], dtype=torch.float64)
NAN4 = X4.clone()
NAN4[0, 0] = float("nan")
W8, B8 = rn.beta_xavier(4, 8, 0.2, gen())

# (parameter named in the message, bad call). Each one was a silent wrong answer or a raw error before.
CASES = [
    ("x", lambda: rhm.parse(G, torch.tensor([[1, 7, 3, 0]]))),            # token >= V aliasing a valid patch
    ("x", lambda: rhm.parse(G, torch.tensor([[1, -1, 3, 0]]))),
    ("x", lambda: rhm.parse(G, torch.tensor([[1.0, 0, 3, 0]]))),
    ("num_synonyms", lambda: _grammar(num_synonyms=3)),
    ("tuple_size", lambda: _grammar(tuple_size=3)),
    ("num_layers", lambda: _grammar(num_layers=3)),
    ("num_features", lambda: _grammar(num_features=3)),
    ("num_classes", lambda: _grammar(num_classes=3)),
    ("batch_size", lambda: rhm.sample(G, 10, gen(), batch_size=-1)),
    ("batch_size", lambda: rhm.sample(G, 10, gen(), batch_size=0)),
    ("n", lambda: rhm.sample(G, -1, gen())),
    ("generator", lambda: rhm.sample(G, 10, None)),
    ("generator", lambda: rhm.sample_derivations(G, 10, None)),
    ("generator", lambda: rhm.sample_spine(G, 10, None)),
    ("generator", lambda: rn.beta_xavier(4, 8, 0.2, None)),
    ("generator", lambda: rn.mc_kernel(X4, X4, 8, 0.2, None)),
    ("generator", lambda: rff.sample_frequencies(4, 8, 1.0, None)),
    ("width", lambda: rn.mc_kernel(X4, X4, 0, 0.2, gen())),
    ("width", lambda: rn.mc_kernel(X4, X4, 2.5, 0.2, gen())),
    ("x", lambda: rn.mc_kernel(NAN4, X4, 8, 0.2, gen())),
    ("n", lambda: rn.hermite_coefficient("relu", 2.5)),
    ("n", lambda: rn.hermite_coefficient("relu", -1)),
    ("t", lambda: rn.dual_activation(5)),
    ("t", lambda: rn.dual_activation(float("nan"))),
    ("beta", lambda: rn.beta_xavier(4, 8, float("nan"), gen())),
    ("weight_var", lambda: rn.beta_xavier(4, 8, 0.2, gen(), weight_var=float("nan"))),
    ("weight_var", lambda: rn.beta_xavier(4, 8, 0.2, gen(), weight_var=float("inf"))),
    ("weight_var", lambda: rn.beta_xavier(4, 8, 0.2, gen(), weight_var=0.0)),
    ("z", lambda: rn.random_features(NAN4, W8, B8)),
    ("x", lambda: rn.kernel(NAN4.numpy(), X4.numpy(), 0.2)),
    ("frequencies", lambda: rff.RandomFourierFeatures(torch.full((8, 4), float("nan"), dtype=torch.float64), 1.0)),
    ("h", lambda: rff.random_fourier_features(NAN4, torch.ones(8, 4, dtype=torch.float64))),
    ("h", lambda: rff.rbf_kernel(NAN4)),
    ("sigma", lambda: rff.sample_frequencies(4, 8, float("nan"), gen())),
    ("inputs", lambda: PTFLabel(inputs=(-1,), poly=Polynomial.from_dict({(0,): 1.0}, 1))),
    ("y", lambda: _ridge().fit_level(2, rhm.sample(G, 64, gen())[0], torch.tensor([1]), 4, generator=gen())),
    ("y", lambda: _ridge().fit_level(2, rhm.sample(G, 4, gen())[0], torch.zeros(8, dtype=torch.long), 4,
                                     generator=gen())),
    ("y", lambda: _ridge().fit_level(2, rhm.sample(G, 4, gen())[0], torch.full((4,), 9), 4, generator=gen())),
    ("n", lambda: _ridge().fit_level(2, torch.zeros(0, 4, dtype=torch.long), torch.zeros(0, dtype=torch.long), 4,
                                     generator=gen())),
    ("x", lambda: _ridge().fit_level(2, torch.full((4, 4), 7), torch.zeros(4, dtype=torch.long), 4, generator=gen())),
    ("x", lambda: _trained_ridge().predict(torch.zeros(3, 8, dtype=torch.long))),
    ("x", lambda: _trained_ridge().predict(torch.zeros(3, 4))),
]


@pytest.mark.parametrize("param, call", CASES, ids=[f"{i}-{p}" for i, (p, _) in enumerate(CASES)])
def test_bad_input_raises_value_error_naming_parameter(param, call):
    with pytest.raises(ValueError, match=param):
        call()


def test_good_inputs_still_work():
    x, y = rhm.sample(G, 50, gen(), batch_size=7)
    assert torch.equal(rhm.parse(G, x).labels, y)
    assert float(rn.dual_activation(1.0 + 1e-15)) == pytest.approx(float(rn.dual_activation(1.0)))
    assert rn.hermite_coefficient("relu", np.int64(2)) == rn.hermite_coefficient("relu", 2)
    assert _trained_ridge().predict(x).shape == (50,)


FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(g=grammars(), seed=st.integers(0, 2**31), n=st.integers(-3, 20), batch=st.integers(-3, 8),
       bump=st.integers(-10, 10), where=st.integers(0, 10**6))
def test_fuzz_sample_and_parse(g, seed, n, batch, bump, where):
    try:
        x, y = rhm.sample(g, n, gen(seed), batch_size=batch)
    except ValueError:
        assert n < 0 or batch < 1
        return
    assert n >= 0 and batch >= 1 and x.shape == (n, g.input_length) and y.shape == (n,)
    if n == 0:
        return
    assert torch.equal(rhm.parse(g, x).labels, y)  # the oracle: parsing recovers the sampled label
    x = x.clone()
    x.view(-1)[where % x.numel()] += bump
    try:
        labels = rhm.parse(g, x).labels
    except ValueError:
        return
    # a valid parse: the input is in the language, its tokens are in range and re-parse is consistent
    assert int(x.min()) >= 0 and int(x.max()) < g.num_features
    if bump == 0:
        assert torch.equal(labels, y)


finite_or_not = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-5, 5))


@FUZZ
@given(t=finite_or_not, beta=finite_or_not, width=st.one_of(st.integers(-2, 40), st.floats(-1, 5)),
       n=st.one_of(st.integers(-3, 8), st.floats(-1, 8)), weight_var=st.one_of(st.none(), finite_or_not),
       sigma=finite_or_not, activation=st.sampled_from(["relu", "abs", "erf", "bogus"]))
def test_fuzz_feature_maps(t, beta, width, n, weight_var, sigma, activation):
    def check(f, oracle):
        try:
            out = f()
        except ValueError:
            return
        assert oracle(out)

    check(lambda: rn.dual_activation(t, activation),
          lambda v: -1 <= t <= 1 and np.isfinite(v).all())
    check(lambda: rn.hermite_coefficient("relu", n), lambda a: float(n).is_integer() and n >= 0 and math.isfinite(float(a)))
    check(lambda: rn.beta_xavier(4, 3, beta, gen(), weight_var=weight_var),
          lambda Wb: 0 <= beta < 1 and all(torch.isfinite(v).all() for v in Wb))
    check(lambda: rn.mc_kernel(X4, X4, width, 0.3, gen(), activation if activation != "bogus" else "relu"),
          lambda K: isinstance(width, int) and width >= 1 and torch.isfinite(K).all())
    check(lambda: rff.RandomFourierFeatures.draw(4, 3, sigma, gen())(X4),
          lambda F: 0 < sigma and torch.allclose(F.norm(dim=-1), torch.ones(2, dtype=torch.float64)))
