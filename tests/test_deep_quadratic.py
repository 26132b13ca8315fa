"""Tests of verify.boolean (Paper A, Appendix C): Definition 31, Remark 32, eq. (14), the population
least-squares solution and the layerwise learner, against independent brute force (Fourier
coefficients, Gram matrices and splits by plain enumeration), hypothesis properties, bad inputs."""
from __future__ import annotations

import itertools
import math
from fractions import Fraction

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from verify.boolean import deep_quadratic as dq
from verify.boolean import layerwise as lw
from verify.boolean import network as nw

SETTINGS = settings(max_examples=30, deadline=None)


# -- independent brute force -------------------------------------------------------------------------
def points(d):
    """{±1}^d in itertools order (independent of dq.all_inputs)."""
    return [tuple(p) for p in itertools.product((1, -1), repeat=d)]


def value_brute(f, x):
    """f(x) = sum_S f_S prod_{i in S} x_i, one point, Fractions."""
    total = Fraction(0)
    for S, c in f.coefficients.items():
        prod = 1
        for i in S:
            prod *= x[i - 1]
        total += Fraction(c) * prod
    return total


def fourier_brute(values_by_point, d):
    """f_S = 2^-d sum_x f(x) chi_S(x) for every S subset [d], nonzero ones only."""
    pts = points(d)
    out = {}
    for r in range(d + 1):
        for S in itertools.combinations(range(1, d + 1), r):
            acc = Fraction(0)
            for x in pts:
                chi = 1
                for i in S:
                    chi *= x[i - 1]
                acc += values_by_point[x] * chi
            acc /= 2 ** d
            if acc:
                out[frozenset(S)] = acc
    return out


def definition_31_brute(support):
    """(a), (b), (c) by plain loops over all pairs."""
    support = [frozenset(S) for S in support]
    a = [S for S in support if not (len(S) >= 2 and (len(S) & (len(S) - 1)) == 0)]
    b = [(S, T) for S, T in itertools.combinations(support, 2) if len(S) == len(T) and S & T]
    c = []
    for S in support:
        if len(S) > 2:
            ok = any(len(A) == len(B) == len(S) / 2 and A | B == S for A in support for B in support)
            if not ok:
                c.append(S)
    return a, b, c


def splits_brute(support, S, d):
    """Unordered pairs {A, B} of subsets of [d], both in the support, |A| = |B| = |S|/2, A | B = S."""
    sup = {frozenset(T) for T in support}
    half = len(S) // 2
    found = set()
    subsets = [frozenset(T) for T in itertools.combinations(range(1, d + 1), half)]
    for A in subsets:
        for B in subsets:
            if A in sup and B in sup and A | B == S and A != B:
                found.add(frozenset((A, B)))
    return found


def sampled(d, depth, seed, c=Fraction(1, 2)):
    return dq.sample_deep_quadratic(d, depth, torch.Generator().manual_seed(seed), min_coefficient=c)


@st.composite
def deep_quadratics(draw, max_d=10):
    d = draw(st.integers(2, max_d))
    depth = draw(st.integers(1, int(math.log2(d))))
    return sampled(d, depth, draw(st.integers(0, 2 ** 31 - 1)))


@st.composite
def random_supports(draw, max_d=6):
    d = draw(st.integers(2, max_d))
    all_sets = [frozenset(S) for r in range(1, d + 1) for S in itertools.combinations(range(1, d + 1), r)]
    chosen = draw(st.lists(st.sampled_from(all_sets), max_size=8, unique=True))
    return d, chosen


# -- Fourier representation against enumeration --------------------------------------------------------
@pytest.mark.parametrize("make", [dq.text_example, lambda: sampled(8, 3, 1), lambda: sampled(7, 2, 2),
                                  lambda: sampled(6, 1, 3)])
def test_coefficients_equal_the_fourier_transform_of_the_values(make):
    """Brute force over all 2^d subsets and 2^d points (Figure 3, d = 12, in the next test)."""
    f = make()
    values = {x: value_brute(f, x) for x in points(f.d)}
    assert fourier_brute(values, f.d) == dict(f.coefficients)


def test_figure3_fourier_by_walsh_hadamard_matches():
    from verify.ptf.fourier import walsh_hadamard
    f = dq.figure3_example()
    X = dq.all_inputs(f.d)
    spec = walsh_hadamard(np.array([int(value_brute(f, tuple(x))) for x in X]))
    got = {frozenset(i + 1 for i in range(f.d) if m >> i & 1): Fraction(int(spec[m]), 2 ** f.d)
           for m in np.flatnonzero(spec)}
    assert got == dict(f.coefficients)
    assert len(f.support) == 10 and f.depth == 3


@SETTINGS
@given(deep_quadratics(max_d=8))
def test_evaluate_matches_brute_force(f):
    X = dq.all_inputs(f.d)
    got = dq.evaluate(f, X).tolist()
    assert got == [value_brute(f, tuple(int(v) for v in x)) for x in X]
    assert np.allclose(dq.evaluate(f, X, exact=False), [float(v) for v in got])


def test_all_inputs_is_every_point_once():
    X = dq.all_inputs(5)
    assert X.shape == (32, 5) and len({tuple(r) for r in X}) == 32 and set(np.unique(X)) == {-1, 1}


def test_rationals_arithmetic():
    a = dq.Rationals(np.array([1, -3]), 2)
    b = dq.Rationals(np.array([1, 1]), 3)
    assert (a - b).tolist() == [Fraction(1, 2) - Fraction(1, 3), Fraction(-3, 2) - Fraction(1, 3)]
    assert (a + b).max_abs() == Fraction(7, 6)


# -- Definition 31 ------------------------------------------------------------------------------------
@SETTINGS
@given(deep_quadratics(max_d=12))
def test_sampler_output_is_deep_quadratic(f):
    rep = dq.validate_definition_31(f)
    assert rep["holds"] and rep["violations"] == 0
    assert definition_31_brute(f.support) == ([], [], [])
    assert all(len(S) >= 2 for S in f.support)                     # no constant or degree-1 term
    assert all(abs(v) >= Fraction(1, 2) and abs(v) <= 1 for v in f.coefficients.values())


@pytest.mark.parametrize("d,depth", [(16, 4), (64, 5), (100, 6)])
def test_sampler_reaches_its_depth(d, depth):
    for seed in range(5):
        f = sampled(d, depth, seed)
        assert f.depth == depth and dq.is_deep_quadratic(f)


@SETTINGS
@given(random_supports())
def test_validator_matches_brute_force(ds):
    d, support = ds
    rep = dq.validate_definition_31(support)
    a, b, c = definition_31_brute(support)
    assert set(rep["a"]) == set(a)
    assert {frozenset(p) for p in rep["b"]} == {frozenset(p) for p in b}
    assert set(rep["c"]) == set(c)
    assert rep["holds"] == (not a and not b and not c)


def test_validator_names_each_violation():
    assert dq.validate_definition_31([{1, 2}, {2, 3}])["b"] == [(frozenset({1, 2}), frozenset({2, 3}))]
    rep6 = dq.validate_definition_31([{1, 2}, {3, 4}, {5, 6}, {1, 2, 3, 4, 5, 6}])
    assert rep6["a"] == [frozenset(range(1, 7))] and rep6["c"] == [frozenset(range(1, 7))]
    assert dq.validate_definition_31([{1, 2}, {1, 2, 3, 4}])["c"] == [frozenset({1, 2, 3, 4})]
    assert dq.validate_definition_31([{1}])["a"] == [frozenset({1})]


# -- Remark 32 ----------------------------------------------------------------------------------------
@SETTINGS
@given(random_supports())
def test_splits_match_brute_force_over_all_pairs_of_subsets(ds):
    d, support = ds
    for S in support:
        if len(S) > 2:
            got = {frozenset(p) for p in dq.splits(support, S)}
            assert got == splits_brute(support, S, d)


@SETTINGS
@given(deep_quadratics(max_d=16))
def test_remark_32_split_unique_and_support_at_most_d(f):
    for S in f.support:
        if len(S) > 2:
            S1, S2 = dq.split(f, S)
            assert S1 | S2 == S and not S1 & S2 and len(splits_brute(f.support, S, f.d)) == 1
    for k, n in dq.level_counts(f).items():
        assert n * 2 ** k <= f.d
    assert len(f.support) < f.d


def test_split_raises_when_not_unique_or_absent():
    sup = [{1, 2}, {3, 4}, {1, 3}, {2, 4}, {1, 2, 3, 4}]
    assert len(dq.splits(sup, {1, 2, 3, 4})) == 2
    with pytest.raises(ValueError, match="2 splits"):
        dq.split(sup, {1, 2, 3, 4})
    with pytest.raises(ValueError, match="0 splits"):
        dq.split([{1, 2}, {1, 2, 3, 4}], {1, 2, 3, 4})
    with pytest.raises(ValueError, match="not in the support"):
        dq.split([{1, 2}], {3, 4})
    assert dq.split([{1, 2}], {1, 2}) == (frozenset({1}), frozenset({2}))


# -- eq. (14) -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("D", [2, 3, 5, 8])
def test_pair_features_and_pair_index_agree_with_loops(D):
    x = np.arange(1, D + 1)
    phi = nw.pair_features(x)
    assert len(phi) == nw.num_pairs(D) == D * (D - 1) // 2
    for i in range(D):
        for j in range(i + 1, D):
            assert phi[nw.pair_index(i, j, D)] == (i + 1) * (j + 1)


@SETTINGS
@given(deep_quadratics(max_d=10))
def test_network_reproduces_f_and_its_levels(f):
    net = nw.represent(f)
    X = dq.all_inputs(f.d)
    outs = net.forward(X)
    brute = [value_brute(f, tuple(int(v) for v in x)) for x in X]
    assert net(X).tolist() == brute
    for out, lev in zip(outs, net.levels):
        for k, S in enumerate(lev.outputs):
            chi = [math.prod(int(x[i - 1]) for i in S) for x in X]
            assert out.y[:, k].tolist() == chi
        E = lev.selection_matrix()
        assert (nw.pair_features(out.x.astype(np.int64)) @ E == out.y).all()
        part = [sum((Fraction(c) * math.prod(int(x[i - 1]) for i in S) for S, c in f.coefficients.items()
                     if len(S) == 2 ** lev.level), Fraction(0)) for x in X]
        assert out.f.tolist() == part


def test_represent_strict_refuses_and_lenient_reports_unrepresented():
    f = dq.DeepQuadratic(4, {frozenset({1, 2}): 1, frozenset({1, 2, 3, 4}): 1})
    with pytest.raises(ValueError, match="Definition 31"):
        nw.represent(f)
    net = nw.represent(f, strict=False)
    assert net.unrepresented == (frozenset({1, 2, 3, 4}),)
    X = dq.all_inputs(4)
    assert (net(X) - dq.evaluate(f, X)).max_abs() == 1


# -- population least squares (clean signal) ----------------------------------------------------------
def population_brute(f, level):
    """G and b by loops over {±1}^d, with x^(level) = (chi_S)_{S in S_{2^(level-1)}} (level 1: x)."""
    prev = [frozenset({i}) for i in range(1, f.d + 1)] if level == 1 else list(f.level_sets(level - 1))
    pairs = list(itertools.combinations(range(len(prev)), 2))
    pts = points(f.d)
    G = [[Fraction(0)] * len(pairs) for _ in pairs]
    b = [Fraction(0)] * len(pairs)
    for x in pts:
        chi = [math.prod(x[i - 1] for i in S) for S in prev]
        phi = [chi[a] * chi[c] for a, c in pairs]
        r = sum((Fraction(v) * math.prod(x[i - 1] for i in S) for S, v in f.coefficients.items()
                 if len(S) >= 2 ** level), Fraction(0))
        for u in range(len(pairs)):
            b[u] += phi[u] * r / len(pts)
            for v in range(len(pairs)):
                G[u][v] += Fraction(phi[u] * phi[v], len(pts))
    return G, b


@pytest.mark.parametrize("make", [dq.text_example, lambda: sampled(8, 3, 5), lambda: sampled(7, 2, 6)])
def test_population_solution_matches_brute_force(make):
    f = make()
    for level in range(1, f.depth + 1):
        sol = lw.population_least_squares(f, level)
        G, b = population_brute(f, level)
        assert sol.gram.tolist() == G and sol.cross.tolist() == b
        assert sol.unique and sol.gram_deviation == 0 and sol.minimizer_deviation == 0
        assert sol.joint_law_deviation == 0
        assert sum(1 for v in sol.w_star if v) == len(f.level_sets(level))


def test_population_solution_of_overlapping_supports():
    f = dq.DeepQuadratic(4, {frozenset({1, 2}): 1, frozenset({3, 4}): 1, frozenset({1, 3}): 1,
                             frozenset({2, 4}): 1, frozenset({1, 2, 3, 4}): Fraction(1, 2)})
    sol = lw.population_least_squares(f, 2, strict=False)
    assert not sol.unique and sol.gram_deviation == 1 and sol.minimizer_deviation == Fraction(1, 4)
    assert sol.joint_law_deviation == Fraction(1, 16)   # 8 of 16 patterns, each of probability 1/8 or 0


def test_joint_law_deviation_brute():
    x = dq.all_inputs(3).astype(np.int64)
    dep = np.stack([x[:, 0] * x[:, 1], x[:, 1] * x[:, 2], x[:, 0] * x[:, 2]], axis=1)
    assert lw.joint_law_deviation(x) == 0
    assert lw.joint_law_deviation(dep) == Fraction(1, 8)   # 4 patterns of 1/4 against 1/8 each


@SETTINGS
@given(deep_quadratics(max_d=9))
def test_conditions_i_and_iii(f):
    cond = lw.principle_conditions(f)
    assert cond["correlation_deviation"] == 0 and cond["orthonormality_deviation"] == 0
    assert cond["min_correlation"] == f.min_coefficient and cond["features"] == len(f.support)


def test_residual_subtracts_only_lower_levels():
    f = dq.figure3_example()
    X = dq.all_inputs(12)
    outs = nw.represent(f).forward(X)
    r2 = lw.residual(dq.evaluate(f, X), outs, 2)
    want = dq.evaluate(dq.DeepQuadratic(12, {S: c for S, c in f.coefficients.items() if len(S) >= 4}), X)
    assert (r2 - want).max_abs() == 0


# -- the learner -------------------------------------------------------------------------------------
def test_learner_recovers_from_many_samples_and_reports_levels():
    f = sampled(10, 3, 11)
    rng = np.random.default_rng(0)
    x = lw.sample_inputs(3000, 10, rng)
    fit = lw.learn_layerwise(x, dq.evaluate(f, x, exact=False), threshold=0.25)
    assert fit.support == frozenset(f.support)
    by_level = fit.support_by_level()
    for l in range(1, f.depth + 1):
        assert by_level[l - 1] == sorted(sorted(S) for S in f.level_sets(l))


def test_learner_weights_are_least_squares():
    f = sampled(6, 1, 2)
    x = lw.sample_inputs(200, 6, np.random.default_rng(1))
    y = dq.evaluate(f, x, exact=False)
    fit = lw.learn_layerwise(x, y, threshold=0.25, max_levels=1)
    phi = nw.pair_features(x.astype(np.float64))
    w = np.linalg.lstsq(phi, y, rcond=None)[0]
    assert np.allclose(fit.levels[0].weights, w, atol=1e-9)
    assert np.allclose(w[nw.pair_index(*[i - 1 for i in sorted(f.support[0])], 6)], float(f.coefficients[f.support[0]]))


def test_select_support_keeps_both_signs():
    assert lw.select_support(np.array([0.3, -0.3, 0.1, -0.05]), 0.2).tolist() == [0, 1]


def test_underdetermined_learner_fails_and_recovery_is_seeded():
    f = sampled(12, 2, 3)
    assert not lw.recovers_support(f, 20, np.random.default_rng(0))
    a = lw.recovery_failures([f] * 5, 400, seed=7)
    assert a == lw.recovery_failures([f] * 5, 400, seed=7)


def test_sample_complexity_brackets_n_star():
    targets = [sampled(8, 2, s) for s in range(10)]
    sc = lw.sample_complexity(targets, 0.1, seed=0, threshold=0.25)
    assert sc.n_star is not None and sc.n_below < sc.n_star
    assert sc.n_star - sc.n_below <= max(1, sc.n_star / 32)
    passed = {n: ok for n, _, _, ok in sc.trace}
    assert passed[sc.n_star] and (sc.n_below == 0 or not passed[sc.n_below])
    assert lw.sample_complexity(targets, 0.1, seed=0, threshold=0.25, n_max=16).n_star is None


# -- bad inputs ---------------------------------------------------------------------------------------
G0 = torch.Generator().manual_seed(0)


@pytest.mark.parametrize("call,match", [
    (lambda: dq.DeepQuadratic(0, {}), "d must be"),
    (lambda: dq.DeepQuadratic(3, {frozenset({4}): 1}), r"\[1, 3\]"),
    (lambda: dq.DeepQuadratic(3, {frozenset({1}): float("nan")}), "finite real"),
    (lambda: dq.DeepQuadratic(3, {frozenset({1}): True}), "finite real"),
    (lambda: dq.DeepQuadratic(3, [1, 2]), "mapping"),
    (lambda: dq.sample_deep_quadratic(8, 4, G0), "depth must be"),
    (lambda: dq.sample_deep_quadratic(1, 1, G0), "d must be"),
    (lambda: dq.sample_deep_quadratic(8, 2, G0, min_coefficient=0), "min_coefficient"),
    (lambda: dq.sample_deep_quadratic(8, 2, G0, min_coefficient=2, max_coefficient=1), "min_coefficient"),
    (lambda: dq.sample_deep_quadratic(8, 2, G0, max_coefficient=-1), "max_coefficient"),
    (lambda: dq.sample_deep_quadratic(8, 2, 0), "generator"),
    (lambda: dq.all_inputs(21), "d must be"),
    (lambda: dq.evaluate(dq.text_example(), np.ones((2, 5))), "shape"),
    (lambda: dq.evaluate(dq.text_example(), np.zeros((2, 6))), "-1 and \\+1"),
    (lambda: dq.evaluate({}, np.ones((2, 6))), "DeepQuadratic"),
    (lambda: dq.evaluate(dq.text_example().as_float(), np.ones((1, 6)), exact=True), "exact=True"),
    (lambda: dq.validate_definition_31(5), "support"),
    (lambda: dq.validate_definition_31([{0, 1}]), r"\[1,"),
    (lambda: nw.pair_index(2, 1, 4), "0 <= i < j"),
    (lambda: nw.pair_index(0, 1, 1), "D must be"),
    (lambda: nw.represent("f"), "DeepQuadratic"),
    (lambda: lw.population_least_squares(dq.text_example().as_float(), 1), "rational"),
    (lambda: lw.population_least_squares(dq.text_example(), 3), "level must be"),
    (lambda: lw.select_support(np.ones(3), 0), "threshold"),
    (lambda: lw.learn_layerwise(np.ones((4, 3)), np.ones(5), 0.1), "y must hold"),
    (lambda: lw.learn_layerwise(np.ones((4, 3)), np.ones(4), 0.1, max_levels=0), "max_levels"),
    (lambda: lw.learn_layerwise(np.ones(3), np.ones(3), 0.1), "shape"),
    (lambda: lw.sample_inputs(0, 3, np.random.default_rng(0)), "n must be"),
    (lambda: lw.sample_inputs(3, 3, 0), "rng"),
    (lambda: lw.recovery_failures([], 10, 0), "targets"),
    (lambda: lw.recovery_failures([dq.text_example()], 10, -1), "seed"),
    (lambda: lw.sample_complexity([dq.text_example()], 1.0, 0), "delta"),
    (lambda: lw.sample_complexity([dq.text_example()], 0.1, 0, rel_tol=1.5), "rel_tol"),
    (lambda: lw.residual(dq.zeros(2), [], 3), "level must be"),
])
def test_bad_inputs_raise_value_error(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_from_params_builds_each_kind_and_refuses_an_unknown_one():
    from fractions import Fraction
    from verify.boolean import deep_quadratic as dqm
    assert dqm.from_params({"kind": "figure3"})[0].coefficients == dqm.figure3_example().coefficients
    ones = dqm.from_params({"kind": "support", "d": 4, "support": [[1, 2], [3, 4]]})[0]
    assert ones.coefficients == {frozenset({1, 2}): 1, frozenset({3, 4}): 1}
    pairs = dqm.from_params({"kind": "support", "d": 4, "support": [([1, 2], "1/3")]})[0]
    assert pairs.coefficients == {frozenset({1, 2}): Fraction(1, 3)}
    assert len(dqm.from_params({"kind": "sampled", "d": 8, "depth": 2, "seed": 0})) == 1
    assert len(dqm.from_params({"kind": "sampled", "d_values": [4, 8], "per_shape": 2, "seed": 0})) == 2 * (2 + 3)
    with pytest.raises(ValueError, match="kind"):
        dqm.from_params({"kind": "forest"})
