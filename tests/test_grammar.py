"""Grammars of both samplers: properties (hypothesis) and parameter validation."""
import numpy as np
import pytest
from hypothesis import given, settings

from verify import rhm
from verify.rhm import exact
from verify.strategies import grammars

SETTINGS = settings(max_examples=60, deadline=None)


@SETTINGS
@given(grammars())
def test_shapes_ranges_and_m_rules_per_symbol(g):
    assert g.rules[0].shape == (g.num_classes, g.num_synonyms, g.tuple_size)
    for r in g.rules[1:]:
        assert r.shape == (g.num_features, g.num_synonyms, g.tuple_size)
    for r in g.rules:
        assert r.min() >= 0 and r.max() < g.num_features
    assert g.input_length == g.tuple_size**g.num_layers


@SETTINGS
@given(grammars())
def test_non_ambiguous(g):
    for l, r in enumerate(g.rules):
        patches = [tuple(p) for p in r.reshape(-1, g.tuple_size).tolist()]
        assert len(set(patches)) == len(patches), f"level {l} has a patch with two parents"
        assert len(patches) == g.num_patches(l + 1)


@SETTINGS
@given(grammars(sampler="appendix_b"))
def test_appendix_b_uniform_first_token_and_doubly_stochastic(g):
    for l in range(1, g.num_layers + 1):
        first = g.rules[l - 1][:, :, 0].ravel()
        counts = np.bincount(first, minlength=g.num_features)
        assert (counts == counts[0]).all(), "every token starts the same number of patches"
        P = exact.transition_matrix(g, l, "fraction")
        assert all(sum(row) == 1 for row in P)
        col = P.sum(axis=0)
        assert all(c == col[0] for c in col)  # = n_c / V at level 1, 1 below
        if g.vocabulary_size(l - 1) == g.num_features:
            assert all(c == 1 for c in col)


@SETTINGS
@given(grammars(sampler="authors"))
def test_transition_matrices_row_stochastic(g):
    for P in exact.transition_matrices(g, "fraction"):
        assert all(sum(row) == 1 for row in P)


def test_seed_determinism_and_difference():
    a = rhm.sample_grammar(8, 8, 4, 2, 3, seed=5)
    b = rhm.sample_grammar(8, 8, 4, 2, 3, seed=5)
    c = rhm.sample_grammar(8, 8, 4, 2, 3, seed=6)
    assert all((x == y).all() for x, y in zip(a.rules, b.rules))
    assert any((x != y).any() for x, y in zip(a.rules, c.rules))


def test_rules_are_read_only():
    g = rhm.sample_grammar(4, 4, 2, 2, 2, seed=0)
    with pytest.raises(ValueError):
        g.rules[0][0, 0, 0] = 1


@pytest.mark.parametrize("kwargs, name", [
    (dict(num_features=1), "num_features"),
    (dict(num_features=2.5), "num_features"),
    (dict(num_classes=1), "num_classes"),
    (dict(num_synonyms=0), "num_synonyms"),
    (dict(num_synonyms=-3), "num_synonyms"),
    (dict(tuple_size=1), "tuple_size"),
    (dict(num_layers=0), "num_layers"),
    (dict(num_layers=True), "num_layers"),
    (dict(num_classes=2, num_synonyms=5), "num_synonyms * num_features"),  # m V > V^s (V=4, s=2)
    (dict(num_classes=9, num_synonyms=2), "num_synonyms * num_classes"),  # m n_c > V^s
    (dict(sampler="cagnetta"), "sampler"),
    (dict(num_classes=3, num_synonyms=3, sampler="appendix_b"), "appendix_b"),  # n_c m not a multiple of V
    (dict(seed=-1), "seed"),
])
def test_impossible_parameters_raise_naming_the_parameter(kwargs, name):
    params = dict(num_features=4, num_classes=4, num_synonyms=2, tuple_size=2, num_layers=2, seed=0)
    params.update(kwargs)
    with pytest.raises(ValueError, match=name.replace("*", r"\*")):
        rhm.sample_grammar(**params)


def test_from_rules_validates():
    ok = [np.array([[[0, 0], [1, 0]], [[0, 1], [1, 1]]]), np.array([[[0, 0], [0, 1]], [[1, 0], [1, 1]]])]
    g = rhm.Grammar.from_rules(ok, num_features=2, num_classes=2)
    assert (g.num_synonyms, g.tuple_size, g.num_layers) == (2, 2, 2)
    ambiguous = [ok[0], np.array([[[0, 0], [0, 1]], [[0, 0], [1, 1]]])]
    with pytest.raises(ValueError, match="ambiguous"):
        rhm.Grammar.from_rules(ambiguous, num_features=2, num_classes=2)
    with pytest.raises(ValueError, match="outside"):
        rhm.Grammar.from_rules([ok[0], ok[1] + 5], num_features=2, num_classes=2)
    with pytest.raises(ValueError, match="shape"):
        rhm.Grammar.from_rules([ok[0], ok[1][:1]], num_features=2, num_classes=2)
    with pytest.raises(ValueError, match="integers"):
        rhm.Grammar.from_rules([ok[0], ok[1].astype(float)], num_features=2, num_classes=2)
    with pytest.raises(ValueError, match="level"):
        g.patches(3)
