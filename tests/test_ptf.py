"""verify.ptf: hierarchies of PTFs, generators, exact Fourier expansions (vs brute force on the cube)."""
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from verify import ptf
from verify.strategies import ptf_hierarchies


def brute_fourier(values, d):
    X = ptf.all_points(d).astype(np.int64)
    out = {}
    for mask in range(2 ** d):
        S = tuple(i for i in range(d) if mask >> i & 1)
        chi = np.prod(X[:, list(S)], axis=1) if S else np.ones(2 ** d, dtype=np.int64)
        c = Fraction(int((np.asarray(values, dtype=np.int64) * chi).sum()), 2 ** d)
        if c:
            out[S] = c
    return out


@settings(max_examples=25, deadline=None)
@given(d=st.integers(1, 7), seed=st.integers(0, 2 ** 31))
def test_fourier_expansion_matches_brute_force_and_reconstructs(d, seed):
    rng = np.random.default_rng(seed)
    values = rng.integers(-3, 4, size=2 ** d)
    coefs = ptf.fourier_expansion(values)
    assert coefs == brute_fourier(values, d)
    assert np.allclose(ptf.evaluate_expansion(coefs, ptf.all_points(d)), values)
    # Parseval, exactly
    assert sum(c * c for c in coefs.values()) == Fraction(int((values ** 2).sum()), 2 ** d)


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2 ** 31), kind=st.sampled_from(ptf.KINDS), wiring=st.sampled_from(ptf.WIRINGS))
def test_hierarchy_labels_fourier_equals_brute_force(seed, kind, wiring):
    rng = np.random.default_rng(seed)
    sizes = [4, 2] if wiring == "tree" else [5, 3, 2]
    h = ptf.random_hierarchy(8, sizes, 2 if kind != "majority" else 1, kind, wiring, K=2, rng=rng) \
        if kind != "majority" else ptf.random_hierarchy(9, [3, 1] if wiring == "tree" else [5, 3], 3, kind, wiring, rng=rng)
    X = ptf.all_points(h.d)
    L = h.labels(X)
    assert set(np.unique(L)) <= {-1, 1}
    for i in range(h.num_labels):
        c = ptf.label_fourier(h, i)
        assert np.array_equal(ptf.evaluate_expansion(c, X), L[:, i])
        assert sum(v * v for v in c.values()) == 1  # Boolean: Parseval weight 1
    assert h.xi() >= 1 - 1e-12  # integer polynomials with odd values / majorities / parities
    assert h.margins().shape == (h.num_labels,)


@pytest.mark.parametrize("n", [1, 3, 5, 7, 9])
def test_majority_fourier_closed_form(n):
    vals = ptf.majority_label(range(n))(ptf.all_points(n)).astype(np.int64)
    coefs = ptf.fourier_expansion(vals)
    for mask in range(2 ** n):
        S = tuple(i for i in range(n) if mask >> i & 1)
        assert coefs.get(S, Fraction(0)) == ptf.majority_fourier(n, len(S))
    assert ptf.alpha_majority(n) == ptf.majority_fourier(n, 1)


def test_parity_has_degree_k_and_norms():
    lab = ptf.parity_label((0, 2, 4))
    assert lab.degree == 3 and lab.local_margin() == 1
    coefs = ptf.fourier_expansion(lab(ptf.all_points(5)[:, :5]).astype(np.int64)[: 2 ** 5])
    assert ptf.fourier_degree(coefs) == 3
    m = ptf.majority_label(range(5))
    assert m.poly.coefficient_norm(1) == 5 and np.isclose(m.poly.coefficient_norm(2), np.sqrt(5))


def test_junta_label_is_its_truth_table():
    rng = np.random.default_rng(0)
    lab = ptf.random_junta_label((0, 1, 2), rng)
    Z = ptf.all_points(3)
    assert np.array_equal(lab(Z), np.sign(lab.poly(Z)).astype(np.int8))
    assert np.allclose(np.abs(lab.poly(Z)), 1)


def test_polynomial_exact_evaluation():
    p = ptf.Polynomial.from_dict({(): Fraction(1, 3), (0, 1): 2, (1,): -1}, 2)
    Z = ptf.all_points(2)
    assert p(Z, exact=True) == [Fraction(1, 3) + 2 * int(a * b) - int(b) for a, b in Z]
    assert p.degree == 2


def test_brain_dump_is_a_degree_one_hierarchy():
    h = ptf.brain_dump_circuit(12, 6, 3, 3, rng=np.random.default_rng(1))
    assert h.r == 3 and h.K == 1 and h.level_sizes == (6, 6, 6)
    assert h.M(1) == 3 and h.xi() == 1


def test_generators_are_reproducible():
    a = ptf.random_hierarchy(10, [6, 3], 3, "ptf", rng=np.random.default_rng(5))
    b = ptf.random_hierarchy(10, [6, 3], 3, "ptf", rng=np.random.default_rng(5))
    assert a == b


@pytest.mark.parametrize("kwargs, match", [
    (dict(d=0, level_sizes=[2], fan_in=1), "d must be"),
    (dict(d=5, level_sizes=[], fan_in=1), "level_sizes"),
    (dict(d=5, level_sizes=[2], fan_in=6), r"fan_in must be in \[1, 5\]"),
    (dict(d=5, level_sizes=[3], fan_in=2, wiring="tree"), "tree wiring"),
    (dict(d=5, level_sizes=[2], fan_in=1, wiring="star"), "wiring must be one of"),
    (dict(d=5, level_sizes=[2], fan_in=1, kind="and"), "kind must be one of"),
    (dict(d=5, level_sizes=[2], fan_in=2, kind="majority"), "odd number"),
])
def test_validation_names_the_parameter(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ptf.random_hierarchy(rng=np.random.default_rng(0), **kwargs)


def test_validation_misc():
    with pytest.raises(ValueError, match="rng must be a numpy.random.Generator"):
        ptf.random_hierarchy(5, [2], 1, rng=0)
    with pytest.raises(ValueError, match="inputs must lie in"):
        ptf.Hierarchy(3, ((ptf.parity_label((0, 5)),),))
    with pytest.raises(ValueError, match="entries in"):
        ptf.Hierarchy(3, ((ptf.parity_label((0, 1)),),)).labels(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="repeats a variable"):
        ptf.Polynomial.from_dict({(0, 0): 1}, 2)


@settings(max_examples=40, deadline=None)
@given(ptf_hierarchies())
def test_strategy_hierarchies_match_their_fourier_expansion(h):
    """Every label of a drawn hierarchy equals its exact Fourier expansion on all of {±1}^d
    (brute-force evaluation of the circuit against the Walsh-Hadamard coefficients)."""
    x = ptf.all_points(h.d)
    labels = h.labels(x)
    assert set(np.unique(labels)) <= {-1, 1}
    for j in range(labels.shape[1]):
        coeffs = ptf.fourier_expansion(labels[:, j].tolist())
        np.testing.assert_allclose(ptf.evaluate_expansion(coeffs, x), labels[:, j], atol=1e-12)
