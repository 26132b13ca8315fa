"""The fast paths of issue 15 against the straightforward computations they replace (each compared with a
direct, independent form: every sample's Gram row, every patch embedded, every level's chain rebuilt, the
convolution itself), and the reference sampler's stream left as it was."""
import dataclasses
import math

import numpy as np
import pytest
import torch
from scipy import stats

from verify import rhm, threads
from verify.learners import baselines
from verify.learners.layerwise_ridge import LayerwiseRidge, LevelParams, practical_parameters
from verify.rhm import assumptions, exact


# -- exact q in O(L) -------------------------------------------------------------------------------------
def _chain_by_hand(g, level, arith):
    """P_1 ... P_{l-1} rebuilt from scratch for this level alone (the pre-issue-15 computation)."""
    A = None
    for k in range(1, level):
        P = exact.transition_matrix(g, k, arith)
        A = P if A is None else A @ P
    return A


@pytest.mark.parametrize("arith", ["fraction", "float64"])
@pytest.mark.parametrize("params", [(4, 4, 2, 2, 4, "authors"), (6, 6, 3, 2, 3, "appendix_b"), (5, 3, 2, 3, 3, "authors")])
def test_first_patch_laws_equal_level_by_level(arith, params):
    V, n_c, m, s, L, sampler = params
    g = rhm.sample_grammar(V, n_c, m, s, L, seed=2, sampler=sampler)
    laws = exact.first_patch_laws(g, arith)
    assert [law.level for law in laws] == list(range(1, L + 1))
    for l, law in enumerate(laws, start=1):
        one = exact.first_patch_law(g, l, arith)
        assert (law.q == one.q).all() and (law.parent_prob == one.parent_prob).all()
        assert (law.reachable == one.reachable).all()
        if l >= 2:  # against the chain rebuilt by hand: q = A e_nu / 1^T A e_nu where reachable
            A = _chain_by_hand(g, l, arith)
            colsum = A.sum(axis=0)
            for nu in np.flatnonzero(law.reachable):
                assert (law.q[nu] == A[:, nu] / colsum[nu]).all()


def test_sparse_products_equal_dense(monkeypatch):
    g = rhm.sample_grammar(64, 64, 5, 2, 5, seed=0)  # m = 5: the 1/m are not dyadic, rounding differs
    dense = exact.first_patch_laws(g, "float64")
    monkeypatch.setattr(exact, "SPARSE_MIN_FEATURES", 2)
    sparse = exact.first_patch_laws(g, "float64")
    for a, b in zip(dense, sparse):
        np.testing.assert_allclose(b.q, a.q, rtol=0, atol=1e-14)
        np.testing.assert_allclose(b.parent_prob, a.parent_prob, rtol=1e-13, atol=0)
        assert (a.reachable == b.reachable).all()
    for l in range(1, g.num_layers + 1):
        P_t = exact._transition_transpose_csr(g, l).toarray()
        assert (P_t == exact.transition_matrix(g, l, "float64").T).all()


def test_kappa_and_gaps_with_shared_laws():
    for arith in ("fraction", "float64"):
        g = rhm.sample_grammar(6, 6, 3, 2, 3, seed=1, sampler="appendix_b")
        laws = exact.first_patch_laws(g, arith)
        assert assumptions.kappa(g, arith) == assumptions.kappa(g, arith, laws=laws)
        assert assumptions.signal_gaps(g, arith) == assumptions.signal_gaps(g, arith, laws=laws)
    with pytest.raises(ValueError, match="laws"):
        assumptions.signal_gaps(g, "float64", laws=laws[:-1])
    with pytest.raises(ValueError, match="arithmetic"):
        assumptions.kappa(g, "fraction", laws=laws)


# -- the learner on distinct patches ---------------------------------------------------------------------
def _learner(g, features="rff", M=48, solver="closed_form", N=600):
    levels = [dataclasses.replace(p, features=features, solver=solver, num_steps=50)
              for p in practical_parameters(g, N * g.num_layers, num_features=M)]
    return LayerwiseRidge.for_grammar(g, levels)


def _every_sample_moments(model, x, y, level):
    """C and B as sums over every sample's first patch, one patch at a time through the levels."""
    L, s = model.num_layers, model.tuple_size
    width = s ** (L - level + 1)
    h = torch.nn.functional.one_hot(x[:, :width], model.num_features).to(model.dtype)
    for l in range(L, level, -1):
        h = model.level_output(model.patch_features(h, l), l)
    X = model.patch_features(h, level)[:, 0]
    Y = torch.nn.functional.one_hot(y, model.num_classes).to(X.dtype)
    return X.T @ X / len(x), Y.T @ X / len(x), X


@pytest.mark.parametrize("features", ["rff", "tensor"])
def test_distinct_moments_equal_every_sample_sums(features):
    g = rhm.sample_grammar(4, 4, 2, 2, 3, seed=1, sampler="appendix_b")
    model = _learner(g, features)
    model.fit(g, seed=0, progress=False)
    x, y = rhm.sample(g, 700, torch.Generator().manual_seed(3))
    for level in (3, 2, 1):
        C, B = model.moments(x, y, level, batch_size=37)
        C0, B0, _ = _every_sample_moments(model, x, y, level)
        assert torch.equal(C, C.T)
        torch.testing.assert_close(C, C0, rtol=0, atol=1e-13)
        torch.testing.assert_close(B, B0, rtol=0, atol=1e-13)
        uniq, counts, label_counts = model.distinct_first_patches(x, y, level)
        assert int(counts.sum()) == len(x) and torch.equal(label_counts.sum(1), counts)
        assert len(uniq) <= (g.num_patches(level) if level == 3 else len(x))


@pytest.mark.parametrize("M", [4, 64])  # 2M below and above the number of distinct subtrees: primal and dual
def test_fit_equals_the_every_sample_closed_form(M):
    g = rhm.sample_grammar(4, 4, 2, 2, 3, seed=1, sampler="appendix_b")
    model = _learner(g, M=M)
    model.fit(g, seed=0, progress=False)
    x, y = rhm.sample(g, 500, torch.Generator().manual_seed(4))
    for level in (3, 2, 1):
        lam, _ = model.regularization(level, g.num_patches(level))
        C0, B0, X = _every_sample_moments(model, x, y, level)
        W_lu = torch.linalg.solve(C0 + lam * torch.eye(len(C0), dtype=C0.dtype), B0.T).T  # the former LU solve
        W = model.fit_level(level, x, y, g.num_patches(level))
        torch.testing.assert_close(W, W_lu, rtol=1e-9, atol=1e-11)
        torch.testing.assert_close(LayerwiseRidge.dual(X, y, 4, lam), W_lu, rtol=1e-9, atol=1e-11)


def test_embedding_of_distinct_patches_equals_every_patch():
    g = rhm.sample_grammar(4, 4, 2, 2, 3, seed=1, sampler="appendix_b")
    model = _learner(g)
    model.fit(g, seed=0, progress=False)
    x, _ = rhm.sample(g, 300, torch.Generator().manual_seed(5))
    for level in (2, 1, 0):
        h = torch.nn.functional.one_hot(x, 4).double()
        for l in range(3, level, -1):
            h = model.level_output(model.patch_features(h, l), l)
        torch.testing.assert_close(model.embed(x, level), h, rtol=0, atol=1e-12)


def test_gd_solver_and_singular_systems_still_solve():
    g = rhm.sample_grammar(4, 4, 2, 2, 2, seed=1, sampler="appendix_b")
    model = _learner(g, features="tensor", solver="gd")
    model.fit(g, seed=0, progress=False)
    assert model.accuracy(*rhm.sample(g, 200, torch.Generator().manual_seed(1))) == 1.0
    # symmetric, invertible, not positive definite: no Cholesky; the LU fallback answers as before
    C = torch.tensor([[1.0, 2.0], [2.0, 1.0]], dtype=torch.float64)
    B = torch.tensor([[1.0, 0.0], [0.0, 3.0]], dtype=torch.float64)
    torch.testing.assert_close(LayerwiseRidge.closed_form(C, B, 0.0), torch.linalg.solve(C, B.T).T)
    with pytest.raises(RuntimeError):  # singular with lambda = 0: refused as the LU solve always did
        LayerwiseRidge.closed_form(torch.zeros(2, 2, dtype=torch.float64), B, 0.0)


# -- the sampler -------------------------------------------------------------------------------------------
def test_reference_sampler_stream_unchanged():
    """sample() is sample_derivations + expand, batch by batch, from the same generator: the stream every
    recorded claim used."""
    g = rhm.sample_grammar(8, 8, 3, 2, 3, seed=0)
    x, y = rhm.sample(g, 300, torch.Generator().manual_seed(11), batch_size=128)
    gen = torch.Generator().manual_seed(11)
    xs, ys = [], []
    for start in range(0, 300, 128):
        yy, ch = rhm.sample_derivations(g, min(128, 300 - start), gen)
        xs.append(rhm.expand(g, yy, ch))
        ys.append(yy)
    assert torch.equal(x, torch.cat(xs)) and torch.equal(y, torch.cat(ys))


@pytest.mark.parametrize("m", [2, 3, 4, 5, 8, 16, 200, 256, 300])
def test_uniform_choices_are_uniform(m):
    k = max(200_000, 400 * m)
    r = rhm.uniform_choices(k, m, torch.Generator().manual_seed(m))
    c = torch.bincount(r, minlength=m)
    assert len(c) == m and int(c.sum()) == k and r.dtype == torch.long
    assert stats.chisquare(c.numpy()).pvalue > 1e-4
    if m <= 16:  # consecutive choices (bits of one byte, bytes of one word) independent: pairs uniform
        pairs = torch.bincount(r[:-1:2] * m + r[1::2], minlength=m * m)
        assert stats.chisquare(pairs.numpy()).pvalue > 1e-4


@pytest.mark.parametrize("params", [(8, 8, 3, 2, 3), (6, 6, 4, 3, 2), (4, 4, 2, 2, 4)])
def test_fast_sampler_law(params):
    """Every fast sample is in the language with its label (parse), and the first level-L patch follows the
    exact law p (Pearson, fixed seed)."""
    g = rhm.sample_grammar(*params, seed=0)
    x, y = rhm.sample_fast(g, 20000, torch.Generator().manual_seed(1), batch_size=3001)
    parsed = rhm.parse(g, x)
    assert torch.equal(parsed.labels, y)
    L = g.num_layers
    counts = np.bincount(parsed.patch_index[L][:, 0].numpy(), minlength=g.num_patches(L))
    p = np.asarray(exact.p_first_patch(g, L, "float64"), dtype=float)
    keep = p > 0
    assert counts[~keep].sum() == 0
    assert stats.chisquare(counts[keep], 20000 * p[keep]).pvalue > 1e-4


@pytest.mark.parametrize("channels_first", [False, True])
def test_sample_batches_one_hot(channels_first):
    g = rhm.sample_grammar(8, 8, 3, 2, 3, seed=0)
    tokens = [(x.clone(), y.clone()) for x, y in  # cloned as they come: the buffers are reused
              rhm.sample_batches(g, 2500, torch.Generator().manual_seed(2), batch_size=1000, one_hot=False)]
    assert len({x.data_ptr() for x, _ in tokens}) == 3
    seen = 0
    for (oh, y), (x, y0) in zip(rhm.sample_batches(g, 2500, torch.Generator().manual_seed(2), batch_size=1000,
                                                   channels_first=channels_first), tokens):
        want = rhm.one_hot(x, 8)
        assert oh.dtype == torch.float32 and torch.equal(oh, want.transpose(1, 2) if channels_first else want)
        assert torch.equal(y, y0)
        seen += len(y)
    assert seen == 2500


def test_fast_sampler_deep_and_wide_inputs():
    """s = 3, L = 4 (81 tokens) and L = 8: no index of the whole input, nothing overflows."""
    for s, L in [(3, 4), (2, 8)]:
        g = rhm.sample_grammar(16, 16, 8, s, L, seed=0)
        x, y = rhm.sample_fast(g, 500, torch.Generator().manual_seed(0))
        assert x.shape == (500, s**L) and torch.equal(rhm.parse(g, x).labels, y)


def test_one_hot_is_the_int64_one_hot():
    x = torch.randint(7, (5, 9), generator=torch.Generator().manual_seed(0))
    for dtype in (torch.float32, torch.float64, torch.int64):
        assert torch.equal(rhm.one_hot(x, 7, dtype), torch.nn.functional.one_hot(x, 7).to(dtype))


# -- threads and the CNN -------------------------------------------------------------------------------------
def test_threads_limit_restores():
    before = torch.get_num_threads()
    with threads.limit(1):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before
    with pytest.raises(RuntimeError):
        with threads.limit(1):
            raise RuntimeError("inside")
    assert torch.get_num_threads() == before
    for bad in (0, -1, 1.5, True, "2"):
        with pytest.raises(ValueError, match="num_threads"):
            with threads.limit(bad):
                pass


def test_patch_linear_is_the_strided_convolution():
    torch.manual_seed(0)  # (a test: the global RNG is this process's own)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(7)
        conv = torch.nn.Conv1d(5, 6, 3, stride=3)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(7)
        lin = baselines.PatchLinear(5, 6, 3)
    h = torch.randn(4, 27, 5)
    torch.testing.assert_close(lin(h), conv(h.transpose(1, 2)).transpose(1, 2), rtol=1e-6, atol=1e-6)


def test_sgd_nets_leave_the_thread_count_alone():
    g = rhm.sample_grammar(4, 4, 2, 2, 2, seed=1, sampler="appendix_b")
    x, y = rhm.sample(g, 64, torch.Generator().manual_seed(0))
    before = torch.get_num_threads()
    for name in ("cnn", "mlp2"):
        model = baselines.make_baseline(name, g, epochs=1)
        model.fit(x, y, torch.Generator().manual_seed(0))
        model.predict(x)
        assert torch.get_num_threads() == before
    with pytest.raises(ValueError, match="threads"):
        baselines.make_baseline("cnn", g, threads=0)


# -- this round: the same values, to the bit, with fewer buffers ----------------------------------------------------
def test_walsh_hadamard_equals_the_copying_butterfly_and_the_hadamard_matrix():
    from fractions import Fraction

    from verify.ptf.fourier import walsh_hadamard

    def copying(v):  # the pre-issue-15 loop: two copies and a write-back a stage
        v = np.array(v, copy=True)
        n, h = v.shape[0], 1
        while h < n:
            v = v.reshape(n // (2 * h), 2, h, *v.shape[1:])
            a, b = v[:, 0].copy(), v[:, 1].copy()
            v[:, 0], v[:, 1] = a + b, a - b
            v = v.reshape(n, *v.shape[3:])
            h *= 2
        return v

    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 37))
    assert np.array_equal(walsh_hadamard(x), copying(x))
    ints = rng.integers(-9, 9, (32, 3))
    H = np.array([[(-1) ** bin(s & t).count("1") for t in range(32)] for s in range(32)])
    assert np.array_equal(walsh_hadamard(ints), H @ ints)  # exact on integers, against the matrix itself
    fr = np.array([Fraction(i, 7) for i in range(16)], dtype=object)
    assert walsh_hadamard(fr).tolist() == copying(fr).tolist()
    before = x.copy()
    walsh_hadamard(x)
    assert np.array_equal(x, before)  # the input is not overwritten


@pytest.mark.parametrize("shapes", [((50, 6), (300, 6)), ((7, 50, 6), (7, 300, 6)), ((6,), (4, 300, 6))])
def test_random_fourier_features_and_gram_equal_their_formulas(shapes):
    from verify.features import rff
    g = torch.Generator().manual_seed(3)
    h = torch.randn(shapes[0], generator=g, dtype=torch.float64)
    w = torch.randn(shapes[1], generator=g, dtype=torch.float64)
    M = w.shape[-2]
    proj = h @ w.transpose(-1, -2)
    assert torch.equal(rff.random_fourier_features(h, w),
                       torch.cat([torch.cos(proj), torch.sin(proj)], dim=-1) / math.sqrt(M))
    if h.dim() == 2 and w.dim() == 2:
        full = rff.random_fourier_features(h, w)
        assert torch.allclose(rff.random_features_gram(h, w, chunk_size=64), full @ full.T, rtol=1e-12, atol=1e-14)


def test_beta_xavier_features_equal_their_formula_and_keep_autograd():
    from verify.features import random_neurons as rn
    g = torch.Generator().manual_seed(4)
    z = torch.randn(40, 9, generator=g, dtype=torch.float64)
    W, b = rn.beta_xavier(9, 25, 0.25, g)
    for act in ("relu", "abs", "tanh", "erf"):
        assert torch.equal(rn.random_features(z, W, b, act), rn.activation_fn(act)(z @ W.T + b) / np.sqrt(25))
    zg = z.clone().requires_grad_()
    rn.random_features(zg, W, b).sum().backward()
    assert zg.grad is not None and torch.isfinite(zg.grad).all()


def test_kernel_ridge_gram_in_place_equals_the_formula():
    g = rhm.sample_grammar(4, 4, 2, 2, 2, seed=1, sampler="appendix_b")
    x, _ = rhm.sample(g, 300, torch.Generator().manual_seed(0))
    for kernel in ("gaussian", "laplace"):
        kr = baselines.KernelRidge(4, 4, kernel=kernel)
        a, b = kr._u(x), kr._u(x[:120])
        d2 = (a.pow(2).sum(1)[:, None] + b.pow(2).sum(1)[None, :] - 2 * a @ b.T).clamp_min(0)
        bw = math.sqrt(a.shape[1] / 4)
        want = torch.exp(-d2 / (2 * bw**2)) if kernel == "gaussian" else torch.exp(-d2.sqrt() / bw)
        assert torch.equal(kr._k(a, b), want)


def test_multistep_all_pairs_law_equals_pair_by_pair_fractions():
    import sys
    from fractions import Fraction
    from pathlib import Path

    from verify.harness.discovery import load_claims
    from verify.rhm import balls_into_bins as bb
    load_claims(Path(__file__).resolve().parents[1] / "lemmas")
    ms = sys.modules["lemmas.appendix_b_multistep_contraction"]
    V, m = 3, 2
    p = dict(V=V, m=m, L=2, levels="all", pairs="all", measure="quantile", delta=0.1, c=20)
    law: dict = {}  # the pre-issue-15 loop: one pair of tables at a time, Fraction products
    tables = list(bb.enumerate_tables(V, m))
    for t1, p1 in tables:
        for t2, p2 in tables:
            C = ms._statistic(ms.chain_constants(np.stack([t1, t2])[None].astype(np.float64) / m, m, "all"), p)[0]
            key = round(float(C), 9) if np.isfinite(C) else float("inf")
            law[key] = law.get(key, Fraction(0)) + p1 * p2
    case = dataclasses.replace(ms.CLAIM.case("exact_V4_m2_L2_all_pairs"), params=p)
    meas = ms.exact(case)
    viol = sum((pr for c, pr in law.items() if c > 20), Fraction(0))
    assert meas.details["P_violates_bound"] == str(viol)
    assert meas.details["P_infinite"] == str(law.get(float("inf"), Fraction(0)))
