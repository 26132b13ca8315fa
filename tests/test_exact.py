"""Exact first-patch law (verify.rhm.exact) against an independent brute force: every derivation of
tiny grammars is enumerated, each input parsed, and P[label | first level-l patch] counted in
rationals. The two share no code beyond the grammar."""
from collections import Counter, defaultdict
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import assume, given, settings

from verify import rhm
from verify.rhm import exact
from verify.strategies import grammars


def brute_force_law(g, level):
    d = rhm.enumerate_derivations(g)
    parsed = rhm.parse(g, d.x)
    mu = parsed.patch_index[level][:, 0].tolist()
    zeta = parsed.labels.tolist()
    assert zeta == d.labels.tolist()  # parsing recovers the label: non-ambiguity
    joint = Counter(zip(mu, zeta))
    p = defaultdict(Fraction)
    for (a, _), c in joint.items():
        p[a] += c * d.probability
    q = {(a, z): c * d.probability / p[a] for (a, z), c in joint.items()}
    return p, q


TINY = settings(max_examples=40, deadline=None)


@TINY
@given(grammars(max_features=4, max_synonyms=3, max_tuple_size=3, max_layers=3))
def test_conditional_q_and_p_match_enumeration(g):
    assume(rhm.num_derivations(g) <= 20_000)
    for level in range(1, g.num_layers + 1):
        law = exact.conditional_q(g, level, "fraction")
        p_bf, q_bf = brute_force_law(g, level)
        for mu in range(g.num_patches(level)):
            assert law.p[mu] == p_bf.get(mu, 0)
            if law.p[mu] == 0:
                assert law.patch_q(mu) is None
                continue
            q = law.patch_q(mu)
            for z in range(g.num_classes):
                assert q[z] == q_bf.get((mu, z), 0), (level, mu, z)


@TINY
@given(grammars(max_features=6, max_synonyms=3, max_layers=4))
def test_float64_agrees_with_fractions(g):
    for level in range(1, g.num_layers + 1):
        a = exact.conditional_q(g, level, "fraction")
        b = exact.conditional_q(g, level, "float64")
        assert (a.reachable == b.reachable).all()
        np.testing.assert_allclose(b.q, a.q.astype(float), rtol=0, atol=1e-12)
        np.testing.assert_allclose(b.p, a.p.astype(float), rtol=0, atol=1e-15)


@TINY
@given(grammars(max_features=6, max_synonyms=3, max_layers=4))
def test_synonyms_have_identical_q_and_q_is_a_distribution(g):
    for level in range(1, g.num_layers + 1):
        law = exact.conditional_q(g, level, "fraction")
        for mu in range(g.num_patches(level)):
            q = law.patch_q(mu)
            if q is not None:
                assert sum(q) == 1 and min(q) >= 0
                first_synonym = (mu // g.num_synonyms) * g.num_synonyms
                assert (q == law.patch_q(first_synonym)).all()


@TINY
@given(grammars(sampler="appendix_b", max_features=6, max_synonyms=3, max_layers=4))
def test_appendix_b_identity_and_the_printed_factor_m(g):
    """Under Appendix B with n_c = V: q_mu = P_1...P_{l-1} e_nu(mu) (the corrected identity); the proof's
    printed m P_1...P_{l-1} Q_l e_mu, read with Q_l e_mu = e_nu/m, is that; the later line
    m e^T P_1...P_{l-1} e_nu is off by the factor m whenever m > 1."""
    assume(g.num_classes == g.num_features)
    Ps = exact.transition_matrices(g, "fraction")
    for level in range(1, g.num_layers + 1):
        A = np.eye(g.num_classes, dtype=object) * Fraction(1)
        for P in Ps[: level - 1]:
            A = A @ P
        law = exact.conditional_q(g, level, "fraction")
        assert law.reachable.all()
        for nu in range(g.num_features if level > 1 else g.num_classes):
            assert (law.q[nu] == A[:, nu]).all()
            if g.num_synonyms > 1:
                assert not (law.q[nu] == g.num_synonyms * A[:, nu]).all()
        assert all(p == Fraction(1, g.num_patches(level)) for p in law.p)  # kappa = 1


def test_never_first_patch_is_reported_not_nan():
    rules0 = np.array([[[0, 0], [1, 2]], [[0, 1], [1, 0]]])
    rules1 = np.array([[[0, 0], [0, 1]], [[1, 1], [1, 2]], [[2, 2], [2, 0]]])
    g = rhm.Grammar.from_rules([rules0, rules1], num_features=3, num_classes=2)
    for arith in ("fraction", "float64"):
        law = exact.conditional_q(g, 2, arith)
        assert list(law.unreachable_patches) == [4, 5]
        assert law.patch_q(4) is None and law.p[4] == 0
        assert not np.isnan(np.asarray(law.q, dtype=float)).any()


def test_bad_arguments():
    g = rhm.sample_grammar(4, 4, 2, 2, 2, seed=0)
    with pytest.raises(ValueError, match="arithmetic"):
        exact.conditional_q(g, 1, "decimal")
    with pytest.raises(ValueError, match="level"):
        exact.conditional_q(g, 0)
    with pytest.raises(ValueError, match="limit"):
        rhm.enumerate_derivations(rhm.sample_grammar(8, 8, 4, 2, 4, seed=0))
