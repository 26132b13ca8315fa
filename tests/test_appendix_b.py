"""Tests of verify.rhm.balls_into_bins (Paper A, App. B: Lemmas 20, 21, 26) and of the Appendix B
sampler's first-token matrices: exact laws against enumeration, sympy identities, hypothesis
properties (double stochasticity, 1^T P z = 0 when 1^T z = 0)."""
from __future__ import annotations

import itertools
from fractions import Fraction

import numpy as np
import pytest
import sympy
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from verify import rhm
from verify.rhm import balls_into_bins as bb
from verify.rhm.exact import transition_matrices

SETTINGS = settings(max_examples=40, deadline=None)


# -- Lemma 20: the law -------------------------------------------------------------------------------
@pytest.mark.parametrize("V,m", [(2, 2), (2, 4), (3, 2), (3, 3), (4, 2)])
def test_enumerated_tables_form_a_probability_law(V, m):
    tables = list(bb.enumerate_tables(V, m))
    assert sum(p for _, p in tables) == 1
    for t, p in tables:
        assert (t.sum(0) == m).all() and (t.sum(1) == m).all()
        assert p == bb.table_probability(t) > 0


@pytest.mark.parametrize("V,m", [(2, 3), (3, 2)])
def test_table_law_matches_enumerated_placements(V, m):
    counts: dict = {}
    seqs = list(bb.enumerate_placements(V, m))
    for seq in seqs:
        key = bb.placement_table(seq, V, m).tobytes()
        counts[key] = counts.get(key, 0) + 1
    for t, p in bb.enumerate_tables(V, m):
        assert Fraction(counts[t.tobytes()], len(seqs)) == p


def test_sequential_probability_is_zero_off_support():
    t = np.array([[2, 0], [0, 2]])
    assert bb.sequential_hypergeometric_probability(t, [3, 1]) == 0
    assert bb.sequential_hypergeometric_probability(t, [1, 1]) == 0


@SETTINGS
@given(V=st.integers(2, 12), m=st.integers(1, 12), seed=st.integers(0, 2**31 - 1))
def test_sampled_tables_are_doubly_stochastic(V, m, seed):
    N = bb.sample_tables(V, m, 8, torch.Generator().manual_seed(seed))
    assert (N.sum(1) == m).all() and (N.sum(2) == m).all()
    assert bb.is_doubly_stochastic(N.double() / m)


@SETTINGS
@given(V=st.integers(2, 8), m=st.integers(1, 8), seed=st.integers(0, 2**31 - 1))
def test_numpy_and_torch_samplers_give_doubly_stochastic_tables(V, m, seed):
    N = bb.sample_tables_numpy(V, m, 5, np.random.default_rng(seed))
    assert (N.sum(1) == m).all() and (N.sum(2) == m).all()


@SETTINGS
@given(V=st.integers(2, 10), m=st.integers(1, 6), seed=st.integers(0, 10_000))
def test_appendix_b_grammar_first_token_matrices_are_doubly_stochastic(V, m, seed):
    if m > V:  # appendix_b needs m <= V^(s-1) with s = 2
        m = V
    g = rhm.sample_grammar(V, V, m, 2, 3, seed=seed, sampler="appendix_b")
    for P in transition_matrices(g, "fraction"):
        assert all(sum(row) == 1 for row in P) and all(sum(col) == 1 for col in P.T)


def test_authors_sampler_is_not_always_column_stochastic():
    gs = [rhm.sample_grammar(8, 8, 4, 2, 2, seed=s, sampler="authors") for s in range(20)]
    assert not all(bb.is_doubly_stochastic(P) for g in gs for P in transition_matrices(g, "float64"))


@SETTINGS
@given(V=st.integers(2, 10), m=st.integers(1, 8), seed=st.integers(0, 2**31 - 1),
       z=st.lists(st.integers(-50, 50), min_size=10, max_size=10))
def test_centred_vectors_stay_centred(V, m, seed, z):
    z = np.array(z[:V], dtype=np.int64)
    z = z * V - z.sum()  # integer, 1^T z = 0
    N = bb.sample_tables(V, m, 4, torch.Generator().manual_seed(seed)).numpy()
    assert ((N @ z).sum(-1) == 0).all()  # 1^T (N z) = m 1^T z = 0 exactly


# -- Lemmas 21, 26: moments of draws without replacement --------------------------------------------
def test_draw_moments_reduce_to_lemma_26_symbolically():
    T1, T2, T3, T4, M, m = sympy.symbols("T1 T2 T3 T4 M m", positive=True)
    d = bb.draw_moments(T1, T2, T3, T4, M, m)
    assert sympy.simplify(d["cov"] + d["var"] / (M - 1)) == 0
    assert sympy.simplify(d["tau2"] - (d["var"] / m * (1 - (m - 1) / (M - 1)) + d["mean"] ** 2)) == 0
    # with replacement the second moment would be var/m + mean^2: not the same expression
    assert sympy.simplify(d["tau2"] - (d["var"] / m + d["mean"] ** 2)) != 0


@SETTINGS
@given(values=st.lists(st.integers(-4, 4), min_size=2, max_size=6), m=st.integers(1, 4))
def test_draw_moments_match_enumeration(values, m):
    m = min(m, len(values))
    vals = [Fraction(v) for v in values]
    taus = [sum(vals[i] for i in idx) / m for idx in itertools.permutations(range(len(vals)), m)]
    T = [sum(v**k for v in vals) for k in range(1, 5)]
    d = bb.draw_moments(*T, len(vals), m)
    assert d["tau2"] == sum(t**2 for t in taus) / len(taus)
    assert d["tau4"] == sum(t**4 for t in taus) / len(taus)
    assert d["mean"] == sum(taus) / len(taus)


@SETTINGS
@given(seed=st.integers(0, 2**31 - 1))
def test_conditional_moments_float_matches_fraction(seed):
    rng = np.random.default_rng(seed)
    V, m = 5, 4
    rem = rng.integers(0, m + 1, V)
    if rem.sum() < m:
        rem[0] += m
    z = rng.integers(-3, 4, V)
    f = bb.conditional_moments(rem, z, m)
    T = [sum(Fraction(int(r)) * Fraction(int(x)) ** k for r, x in zip(rem, z)) for k in range(1, 5)]
    d = bb.draw_moments(*T, int(rem.sum()), m)
    for key in ("tau2", "tau4", "mean"):
        assert float(f[key]) == pytest.approx(float(d[key]), rel=1e-12, abs=1e-12)


# -- helpers -----------------------------------------------------------------------------------------
def test_quantile_upper_bound_is_an_upper_bound():
    x = np.arange(1000, dtype=float)
    q, hi = bb.quantile_with_upper_bound(x, 0.9, 0.95)
    assert q <= hi < 1000
    _, hi_small = bb.quantile_with_upper_bound(np.arange(10.0), 0.99, 0.95)
    assert hi_small == float("inf")


def test_samplers_are_deterministic_in_the_generator():
    a = bb.sample_tables(6, 3, 5, torch.Generator().manual_seed(3))
    b = bb.sample_tables(6, 3, 5, torch.Generator().manual_seed(3))
    assert torch.equal(a, b)


@pytest.mark.parametrize("V,m,n", [(30, 64, 600), (32, 8, 2000), (8, 4, 5000), (45, 45, 300), (2, 1, 50), (1, 3, 7)])
def test_placements_are_the_argsort_of_their_keys(V, m, n):
    # the CPU fast path (numpy's sort of the keys' bits, torch.argsort again where tied keys of two colours meet)
    # against the definition: the slots' colours in the order of the same uniform float32 keys
    keys = torch.rand(n, m * V, generator=torch.Generator().manual_seed(V + m))
    want = torch.argsort(keys, dim=1) // m
    got = bb.sample_placements(V, m, n, torch.Generator().manual_seed(V + m))
    assert got.dtype == torch.int64 and torch.equal(got, want)
    if m * V >= 256:  # rows where keys of two colours tie: the path that re-sorts them is exercised
        s = keys.sort(dim=1).values
        assert bool((s[:, 1:] == s[:, :-1]).any())


def test_placements_under_a_float64_default_dtype():
    # torch.rand draws the keys in the default dtype: float64 keys take torch.argsort, never a float32 bit view
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        keys = torch.rand(50, 40, generator=torch.Generator().manual_seed(1))
        got = bb.sample_placements(8, 5, 50, torch.Generator().manual_seed(1))
    finally:
        torch.set_default_dtype(old)
    assert keys.dtype == torch.float64 and got.shape == (50, 40) and torch.equal(got, torch.argsort(keys, dim=1) // 5)


# -- the finite-size maps of the large cases (helpers in the lemma modules) -------------------------------
def _lemma(name):
    import sys
    from pathlib import Path
    from verify.harness.discovery import load_claims
    load_claims(Path(__file__).resolve().parents[1] / "lemmas")
    return sys.modules[f"lemmas.{name}"]


def test_map_cells_keep_m_at_most_v_and_end_at_the_largest_point():
    sb = _lemma("appendix_b_signal_lower_bound")
    cells = sb.map_cells(dict(grid_V=(8, 4), grid_m=(8, 2, 4)))
    assert cells == [(4, 2), (4, 4), (8, 2), (8, 4), (8, 8)]
    with pytest.raises(ValueError, match="grid_V"):
        sb.map_cells(dict(grid_V=(2,), grid_m=(4,)))


def test_crossover_is_where_every_larger_point_holds():
    sb = _lemma("appendix_b_signal_lower_bound")
    rows = [dict(V=V, m=m, status=s) for V, m, s in [
        (4, 2, "fails"), (4, 4, "holds"),
        (8, 2, "holds"), (8, 4, "inconclusive"), (8, 8, "holds"),
        (16, 2, "holds"), (16, 4, "holds"), (16, 8, "holds"), (16, 16, "fails")]]
    out = sb.crossovers(rows)
    assert out["per_V"] == [{"V": 4, "m_from": 4}, {"V": 8, "m_from": 8}, {"V": 16, "m_from": None}]
    assert out["min_mV_from"] is None                      # (16, 16) fails
    rows[-1]["status"] = "holds"
    assert sb.crossovers(rows)["min_mV_from"] == 8         # m >= 8: (8, 8), (16, 8), (16, 16)


def test_map_share_counts_grammars_against_the_bound_directly():
    """The map's count at a point equals the count of grammars whose every level-l gap reaches
    (20m)^(-(l-1)/2), recomputed from the per-level gaps (not from C)."""
    from verify.rhm import assumptions
    sb = _lemma("appendix_b_signal_lower_bound")
    p = dict(L=3, delta=0.05, sampler="appendix_b")
    row = sb._cell(p, 8, 4, range(30))
    meets = 0
    for seed in range(30):
        g = rhm.sample_grammar(8, 8, 4, 2, 3, seed=seed, sampler="appendix_b")
        gaps = assumptions.signal_gaps(g, "float64")[1:]
        meets += all(gl.gap_sq is not None and gl.gap >= float(assumptions.prop19_bound(4, gl.level)) * (1 - 1e-12)
                     for gl in gaps)
    assert row["meeting"] == meets and row["grammars"] == 30
    lo, hi = row["share_meeting_limits_99"]
    assert lo <= meets / 30 <= hi


def test_sweeps_sample_in_chunks_like_one_batch():
    """A sample of at most one chunk is drawn exactly as one batch (small cases unchanged); more is split."""
    one = _lemma("appendix_b_one_step_contraction")
    z = bb.probe_vector("pair", 8)
    a, _ = one.sampled_constants(8, 4, z, 300, torch.Generator().manual_seed(1), "cpu")
    P = bb.sample_transition_matrices(8, 4, 300, torch.Generator().manual_seed(1)).numpy()
    assert np.array_equal(a, one.constants(P, z) / 4)
    multi = _lemma("appendix_b_multistep_contraction")
    b = multi.sampled_chain_constants(8, 4, 2, 50, torch.Generator().manual_seed(2), "cpu")
    c = multi.chain_constants(multi.sample_chains(8, 4, 2, 50, torch.Generator().manual_seed(2), "cpu"), 4)
    assert np.array_equal(b, c)
