"""verify.features.random_neurons: closed-form kernels vs Monte Carlo, Hermite coefficients vs
integration/quadrature, cube eigenvalues vs brute-force Rayleigh quotients."""
import numpy as np
import pytest
import sympy
import torch
from hypothesis import given, settings, strategies as st

from verify import ptf
from verify.features import random_neurons as rn


@pytest.mark.parametrize("activation", ["relu", "abs"])
def test_hermite_closed_form_matches_integration_and_quadrature(activation):
    quad = rn.hermite_coefficients_float(activation, 6, nodes=200)
    for n in range(7):
        exact = rn.hermite_coefficient(activation, n)
        assert sympy.simplify(exact - rn.hermite_coefficient_by_integration(activation, n)) == 0
        assert abs(float(exact) - quad[n]) < 5e-3  # quadrature of a kink converges slowly


def test_relu_odd_hermite_coefficients_vanish_and_dual_series():
    a = rn.hermite_coefficients("relu", 41)
    assert all(a[n] == 0 for n in range(3, 42, 2))
    t = np.array([-0.5, 0.3, 0.9])
    series = sum(float(a[n]) ** 2 * t ** n for n in range(42))
    assert np.allclose(series, rn.dual_activation(t), atol=2e-4)  # 42-term truncation (a_n^2 ~ n^-5/2)


@pytest.mark.parametrize("beta", [0, sympy.Rational(1, 10), sympy.Rational(1, 4), sympy.Rational(1, 2)])
def test_kernel_coefficients_exact_vs_series(beta):
    exact = [float(c) for c in rn.kernel_coefficients(beta, 6)]
    series = rn.kernel_coefficients(float(beta), 6, exact=False)
    assert np.allclose(exact, series, rtol=1e-6, atol=1e-9)
    if beta == 0:
        assert all(c == 0 for c in rn.kernel_coefficients(0, 7)[3::2])
    else:
        assert all(float(c) > 0 for c in rn.kernel_coefficients(beta, 7))


@pytest.mark.parametrize("activation, beta", [("relu", 0.0), ("relu", 0.3), ("abs", 0.2), ("erf", 0.25), ("tanh", 0.25)])
def test_closed_form_kernel_vs_monte_carlo(activation, beta):
    gen = torch.Generator().manual_seed(0)
    X = torch.from_numpy(ptf.all_points(6)[::5].astype(np.float64))
    q = 200_000
    K_mc = rn.mc_kernel(X, X, q, beta, gen, activation).numpy()
    K = rn.kernel(X.numpy(), X.numpy(), beta, activation)
    # each entry is a mean of q i.i.d. products with E[s(u)^2 s(v)^2] <= E[u^4] = 3 (|s(u)| <= |u| or <= 1):
    # 6 standard errors
    assert np.abs(K_mc - K).max() <= 6 * np.sqrt(3 / q), np.abs(K_mc - K).max()
    assert np.abs(K_mc - K).max() > 0


def test_cube_eigenvalues_vs_brute_force_rayleigh():
    d = 6
    X = ptf.all_points(d).astype(float)
    for beta in (0.0, 0.25):
        K = rn.kernel(X, X, beta)
        lam = rn.cube_eigenvalues(d, beta)
        for k in range(d + 1):
            chi = np.prod(X[:, :k], axis=1)
            assert np.isclose(chi @ K @ chi / 4 ** d, lam[k], atol=1e-14)
    exact0 = rn.cube_eigenvalues(d, 0, exact=True)
    assert exact0[3] == 0 and exact0[5] == 0  # beta = 0: odd degrees >= 3 vanish exactly
    assert all(sympy.N(l) > 0 for l in rn.cube_eigenvalues(d, sympy.Rational(1, 4), exact=True))


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 2 ** 31), beta=st.floats(0.05, 0.6))
def test_rkhs_norm_reproduces_the_kernel_interpolant(seed, beta):
    """For p in the span, ||p||_H^2 = p^T K^+ p / ... on the cube: check via the Gram matrix."""
    d = 5
    rng = np.random.default_rng(seed)
    vals = rng.integers(-2, 3, size=2 ** d)
    coefs = ptf.fourier_expansion(vals)
    X = ptf.all_points(d).astype(float)
    K = rn.kernel(X, X, beta) / 2 ** d  # integral operator on the uniform measure
    f = vals.astype(float)
    direct = f @ np.linalg.solve(K, f) / 2 ** d  # = f^T G^{-1} f with G = K(X, X)
    assert np.isclose(rn.rkhs_norm_sq(coefs, rn.cube_eigenvalues(d, beta)), direct, rtol=1e-6)


def test_beta_zero_relu_features_have_no_odd_cubic_fourier_mass():
    gen = torch.Generator().manual_seed(3)
    d = 7
    X = torch.from_numpy(ptf.all_points(d).astype(np.float64))
    for beta, expect_zero in ((0.0, True), (0.3, False)):
        W, b = rn.beta_xavier(d, 32, beta, gen)
        F = rn.random_features(X, W, b).numpy()
        coef = ptf.fourier_coefficients(F)
        odd = [s for s in range(2 ** d) if bin(s).count("1") in (3, 5)]
        m = np.abs(coef[odd]).max()
        assert (m < 1e-12) == expect_zero, m


def test_validation():
    gen = torch.Generator().manual_seed(0)
    with pytest.raises(ValueError, match="beta"):
        rn.beta_xavier(3, 4, 1.5, gen)
    with pytest.raises(ValueError, match="width"):
        rn.beta_xavier(3, 0, 0.1, gen)
    with pytest.raises(ValueError, match="activation must be one of"):
        rn.activation_fn("gelu")
    with pytest.raises(ValueError, match="squared norm"):
        rn.kernel(np.ones((2, 3)) * 2, np.ones((2, 3)), 0.1)
