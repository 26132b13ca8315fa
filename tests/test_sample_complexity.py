"""verify.experiments.sample_complexity: the P* search against a brute-force scan, the exponent fit on exact power
laws, the distinct-input count against enumeration, and the learners' shared data."""
import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from verify import rhm
from verify.experiments import sample_complexity as sc
from verify.learners.layerwise_ridge import LayerwiseRidge, practical_parameters, training_samples


@settings(max_examples=200, deadline=None)
@given(threshold=st.integers(1, 5000), start=st.integers(1, 64), budget=st.integers(64, 4096),
       refine=st.integers(0, 4))
def test_find_p_star_on_a_step_function(threshold, start, budget, refine):
    """accuracy(P) = 1{P >= threshold}: the search returns a P that reaches the target, within the
    promised resolution of the true threshold, or inf exactly when a brute-force scan of the doubling
    lattice up to the budget finds none."""
    calls = []

    def acc(P):
        calls.append(P)
        return float(P >= threshold)

    P_star, curve = sc.find_p_star(acc, start, budget, target=0.9, refine=refine)
    reachable = max(start, budget) >= threshold  # the doubling stops at the budget, which is evaluated
    if not reachable:
        assert P_star == math.inf and all(a == 0 for _, a in curve)
        return
    assert P_star >= threshold and acc(P_star) == 1.0
    # the last doubling interval (ratio <= 2) is bisected geometrically `refine` times: the ratio to the
    # threshold is at most 2^(2^-refine), up to integer rounding
    if P_star != start:
        assert P_star <= threshold * 2 ** (2.0**-refine) + 2
    assert [P for P, _ in curve] == sorted(set(calls))


def test_find_p_star_validates():
    with pytest.raises(ValueError, match="budget"):
        sc.find_p_star(lambda P: 1.0, 10, 5)
    with pytest.raises(ValueError, match="target"):
        sc.find_p_star(lambda P: 1.0, 1, 5, target=1.5)


def test_fit_exponent_recovers_an_exact_power_law():
    pts = [(m, L, 7.0 * m ** (1.5 * L)) for m in (2, 3, 4) for L in (2, 3)]
    fit = sc.fit_exponent(pts)
    assert fit["slope"] == pytest.approx(1.5, abs=1e-12) and fit["intercept"] == pytest.approx(math.log(7.0))
    assert fit["half_width"] == pytest.approx(0.0, abs=1e-9) and fit["num_censored"] == 0
    fit = sc.fit_exponent(pts + [(5, 3, math.inf)])
    assert fit["num_censored"] == 1 and fit["num_points"] == 6 and fit["slope"] == pytest.approx(1.5)
    assert math.isnan(sc.fit_exponent([(2, 2, 10.0), (2, 3, math.inf)])["slope"])


@pytest.mark.parametrize("V,m,L", [(3, 2, 2), (4, 2, 3), (3, 3, 2)])
def test_distinct_inputs_by_enumeration(V, m, L):
    g = rhm.sample_grammar(V, V, m, 2, L, seed=0, sampler="appendix_b")
    d = rhm.enumerate_derivations(g)
    assert sc.distinct_inputs(g) == len(torch.unique(d.x, dim=0))


def test_baselines_see_exactly_the_layerwise_samples():
    g = sc.grammar_with_signal(4, 2, 3)
    seen = []

    def capture(x, y, gen):
        seen.append((x, y))
        return x, y

    LayerwiseRidge.for_grammar(g, practical_parameters(g, 300, num_features=32)).fit(g, seed=5, progress=False,
                                                                                    transform=capture)
    x, y = training_samples(g, 300, 5)
    assert torch.equal(x, torch.cat([a for a, _ in seen])) and torch.equal(y, torch.cat([b for _, b in seen]))
    assert len(x) <= 300 and len(x) >= 300 - g.num_layers
    # the samples do not depend on the width of the random features
    seen.clear()
    LayerwiseRidge.for_grammar(g, practical_parameters(g, 300, num_features=64)).fit(g, seed=5, progress=False,
                                                                                    transform=capture)
    assert torch.equal(x, torch.cat([a for a, _ in seen]))


def test_grammar_with_signal_satisfies_assumption_6():
    g = sc.grammar_with_signal(4, 2, 3)
    from verify.rhm import assumptions
    assert math.isfinite(float(assumptions.kappa(g, "float64")[0]))
    assert float(assumptions.instance_k_rho(assumptions.signal_gaps(g, "float64"), 2)) > 0


@pytest.mark.parametrize("name", sc.LEARNERS)
def test_fit_learner_learns_and_shuffled_labels_do_not(name):
    g = sc.grammar_with_signal(4, 2, 2)
    test = rhm.sample(g, 1000, torch.Generator().manual_seed(99))
    hyper = {"min_steps": 300} if name in ("cnn", "mlp2") else {}
    assert sc.fit_learner(name, g, 400, seed=1, **hyper).accuracy(*test) >= 0.9
    assert sc.fit_learner(name, g, 400, seed=1, shuffled=True, **hyper).accuracy(*test) < 0.6


def test_fit_learner_value_errors():
    g = sc.grammar_with_signal(4, 2, 2)
    with pytest.raises(ValueError, match="learner must be one of"):
        sc.fit_learner("svm", g, 100, 0)
    with pytest.raises(ValueError, match="total must be <="):
        sc.fit_learner("kernel_gaussian", g, sc.MAX_SAMPLES["kernel_gaussian"] + 1, 0)
    with pytest.raises(ValueError, match="checkpoint"):
        sc.fit_learner("cnn", g, 100, 0, checkpoint="x.pt")
    with pytest.raises(ValueError, match="num_features and sigma_scale"):
        sc.fit_learner("layerwise_ridge", g, 100, 0, epochs=3)
    with pytest.raises(ValueError, match="total"):
        sc.fit_learner("cnn", g, 0, 0)


def test_grid_reports_every_learner_on_one_test_set():
    res = sc.sample_complexity_grid(4, [(2, 2)], ["layerwise_ridge", "kernel_laplace"], budget=1 << 11,
                                    hyper={"layerwise_ridge": {"num_features": 64}}, progress=False)
    (pt,) = res["points"]
    assert set(pt["learners"]) == {"layerwise_ridge", "kernel_laplace"}
    assert pt["distinct_inputs"] == 4 * 2**3 and pt["n_c_m_to_L"] == 16
    for rec in pt["learners"].values():
        assert math.isfinite(rec["P_star"]) and dict(rec["curve"])[rec["P_star"]] >= 0.9
    assert set(res["exponents"]) == {"layerwise_ridge", "kernel_laplace"}
    assert np.isnan(res["exponents"]["kernel_laplace"]["slope"])  # one point: no slope


def test_verify_train_refuses_a_kernel_gram_too_large(tmp_path, capsys):
    from verify.experiments import train
    assert train.main(["--learner", "kernel_laplace", "--P", str(sc.MAX_SAMPLES["kernel_laplace"] + 1),
                       "--device", "cpu", "--out", str(tmp_path), "--no-progress"]) == 2
    assert "P must be <=" in capsys.readouterr().err and not list(tmp_path.iterdir())


def test_slope_with_censored_points_at_their_budgets_is_a_lower_bound():
    """Exact power law with slope 2; the two largest points censored at budgets below their true P*: the
    imputed slope is at most the true one (both censored points lie right of the mean)."""
    truth = [(m, L, 3.0 * m ** (2 * L)) for m in (2, 3) for L in (2, 3, 4)]
    cut = sorted(truth, key=lambda t: t[1] * math.log(t[0]))[-2:]
    budgets = [p / 10 if (m, L, p) in cut else 1e12 for m, L, p in truth]
    observed = [(m, L, math.inf if (m, L, p) in cut else p) for m, L, p in truth]
    fit = sc.fit_exponent(observed, budgets=budgets)
    assert fit["num_censored"] == 2 and fit["censored_right_of_mean"]
    assert fit["slope"] == pytest.approx(2.0) and fit["slope_censored_at_budget"] < 2.0
    # a censored point left of the mean gives no such guarantee, and the fit says so
    observed[0] = (truth[0][0], truth[0][1], math.inf)
    assert not sc.fit_exponent(observed, budgets=budgets)["censored_right_of_mean"]
