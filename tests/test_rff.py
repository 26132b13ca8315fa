"""verify.features.rff: eq. (6) random Fourier features, the Gaussian kernel, the symbolic limit."""
import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from verify.features import rff

CUDA = torch.cuda.is_available()


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


def test_shapes_and_dtype():
    phi = rff.RandomFourierFeatures.draw(input_dim=6, num_features=50, sigma=0.7, generator=gen())
    assert phi.frequencies.shape == (50, 6) and phi.frequencies.dtype == torch.float64
    assert (phi.num_features, phi.input_dim, phi.output_dim) == (50, 6, 100)
    h = torch.randn(3, 4, 6, dtype=torch.float64)
    assert phi(h).shape == (3, 4, 100)
    assert phi(h[0, 0]).shape == (100,)
    assert phi.gram(h[0]).shape == (4, 4)
    assert rff.rbf_kernel(h[0], h[1], sigma=1.0).shape == (4, 4)
    batched = rff.sample_frequencies(6, 50, 0.7, gen(), batch_shape=(5,))
    assert rff.random_fourier_features(h[0], batched).shape == (5, 4, 100)
    assert rff.random_features_gram(h[0], batched).shape == (5, 4, 4)


def test_unit_norm_exact_float64():
    h = 10 * torch.randn(64, 12, dtype=torch.float64, generator=gen(1))
    phi = rff.RandomFourierFeatures.draw(12, 1000, 0.3, gen(2))
    norms = phi(h).norm(dim=-1)
    assert float((norms - 1).abs().max()) <= 1e-12
    assert float((torch.diagonal(phi.gram(h, chunk_size=77)) - 1).abs().max()) <= 1e-12


def test_frequency_law():
    """omega ~ N(0, sigma^-2 I): sample variance sigma^-2 within 5 standard errors."""
    sigma, M, d = 0.5, 200_000, 3
    w = rff.sample_frequencies(d, M, sigma, gen(3))
    var = w.var(dim=0)
    se = math.sqrt(2 / M) / sigma**2
    assert float((var - 1 / sigma**2).abs().max()) < 5 * se
    assert float(w.mean(0).abs().max()) < 5 / (sigma * math.sqrt(M))


def test_determinism_under_seed():
    a = rff.sample_frequencies(4, 100, 1.3, gen(7))
    b = rff.sample_frequencies(4, 100, 1.3, gen(7))
    c = rff.sample_frequencies(4, 100, 1.3, gen(8))
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_gram_chunks_equal_feature_products():
    h = torch.randn(9, 5, dtype=torch.float64, generator=gen(4))
    w = rff.sample_frequencies(5, 1001, 0.8, gen(5))
    full = rff.random_fourier_features(h, w)
    torch.testing.assert_close(rff.random_features_gram(h, w, chunk_size=100), full @ full.T, rtol=0, atol=1e-13)
    # <Phi(h), Phi(h')> = (1/M) sum_k cos(omega_k . (h - h'))
    direct = torch.cos((h[:, None, :] - h[None, :, :]) @ w.T).mean(-1)
    torch.testing.assert_close(full @ full.T, direct, rtol=0, atol=1e-12)


def test_rbf_kernel_and_product_form():
    tokens = torch.randn(7, 3, 4, dtype=torch.float64, generator=gen(6))
    other = torch.randn(5, 3, 4, dtype=torch.float64, generator=gen(7))
    k = rff.rbf_kernel(rff.concatenate_tokens(tokens), rff.concatenate_tokens(other), sigma=1.7)
    torch.testing.assert_close(rff.rbf_kernel_tokenwise(tokens, other, sigma=1.7), k, rtol=1e-14, atol=0)
    a, b = rff.concatenate_tokens(tokens)[2], rff.concatenate_tokens(other)[3]
    assert float(k[2, 3]) == pytest.approx(math.exp(-float(((a - b) ** 2).sum()) / (2 * 1.7**2)), rel=1e-14)
    torch.testing.assert_close(torch.diagonal(rff.rbf_kernel(tokens[:, 0], sigma=0.1)), torch.ones(7, dtype=torch.float64))


def test_monte_carlo_matches_kernel():
    """Mean of the RF kernel = psi within 5 standard errors of (1/M) sum cos (variance <= 1/(2M)... <= 1/M)."""
    h = torch.randn(6, 4, dtype=torch.float64, generator=gen(8)) / 2
    M = 200_000
    phi = rff.RandomFourierFeatures.draw(4, M, 1.0, gen(9))
    err = (phi.gram(h) - rff.rbf_kernel(h, sigma=1.0)).abs().max()
    assert float(err) < 5 / math.sqrt(M)


def test_symbolic_kernel_limit_is_exact():
    """E<Phi(h),Phi(h')> = psi_sigma(h,h') from the Gaussian frequency law: every difference is exactly 0."""
    d = rff.kernel_limit_derivation(dim=2, tokens=2)
    for key in ("pair_identity_difference", "unit_norm_difference", "cos_integral_difference",
                "characteristic_function_difference", "expectation_difference", "product_form_difference"):
        assert d[key] == 0, (key, d[key])
    assert d["sin_integral"] == 0 and d["total_mass"] == 1


@pytest.mark.parametrize("bad", [0, -1.0, float("nan"), float("inf"), True, "1"])
def test_bad_sigma(bad):
    with pytest.raises(ValueError, match="sigma"):
        rff.sample_frequencies(3, 10, bad, gen())
    with pytest.raises(ValueError, match="sigma"):
        rff.rbf_kernel(torch.zeros(2, 3, dtype=torch.float64), sigma=bad)


@pytest.mark.parametrize("bad", [0, -3, 2.5, True])
def test_bad_width(bad):
    with pytest.raises(ValueError, match=r"num_features \(M"):
        rff.sample_frequencies(3, bad, 1.0, gen())


def test_bad_inputs():
    with pytest.raises(ValueError, match="input_dim"):
        rff.sample_frequencies(0, 10, 1.0, gen())
    with pytest.raises(ValueError, match="generator"):
        rff.sample_frequencies(3, 10, 1.0, 0)
    w = rff.sample_frequencies(3, 10, 1.0, gen())
    with pytest.raises(ValueError, match="last dimension"):
        rff.random_fourier_features(torch.zeros(2, 4, dtype=torch.float64), w)
    with pytest.raises(ValueError, match="floating-point"):
        rff.random_fourier_features(torch.zeros(2, 3, dtype=torch.long), w)


@pytest.mark.skipif(not CUDA, reason="needs CUDA")
def test_cpu_cuda_agree():
    g = gen(11)
    h = torch.randn(16, 8, dtype=torch.float64, generator=g)
    w_cpu = rff.sample_frequencies(8, 4096, 0.9, gen(12))
    w_cuda = rff.sample_frequencies(8, 4096, 0.9, gen(12), device="cuda")
    assert torch.equal(w_cpu, w_cuda.cpu())  # drawn on the generator's device, then moved
    a = rff.random_features_gram(h, w_cpu)
    b = rff.random_features_gram(h.cuda(), w_cuda).cpu()
    torch.testing.assert_close(a, b, rtol=0, atol=1e-10)
    torch.testing.assert_close(rff.rbf_kernel(h, sigma=0.9), rff.rbf_kernel(h.cuda(), sigma=0.9).cpu(),
                               rtol=1e-12, atol=0)
    f32 = rff.random_features_gram(h.float().cuda(), w_cuda.float()).double().cpu()
    torch.testing.assert_close(a, f32, rtol=0, atol=1e-4)


def _mean_sup_error(h, sigma, M, seed, draws=4):
    psi = rff.rbf_kernel(h, sigma=sigma)
    w = rff.sample_frequencies(h.shape[1], M, sigma, gen(seed), batch_shape=(draws,))
    return float((rff.random_features_gram(h, w) - psi).abs().amax(dim=(-1, -2)).mean())


@settings(max_examples=15, deadline=None)
@given(d=st.integers(1, 6), n=st.integers(2, 8), sigma=st.floats(0.3, 3.0), M=st.integers(4, 64),
       seed=st.integers(0, 2**31 - 1))
def test_error_shrinks_with_width(d, n, sigma, M, seed):
    """Averaged over 4 draws, the sup error with 64 M features is below that with M (its expectation is
    8 times smaller; fixed seeds make the comparison reproducible)."""
    h = torch.randn(n, d, dtype=torch.float64, generator=gen(seed)) / math.sqrt(d)
    small = _mean_sup_error(h, sigma, M, seed + 1)
    large = _mean_sup_error(h, sigma, 64 * M, seed + 2)
    assert large < small or small == 0
