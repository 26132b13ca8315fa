r"""RBF random Fourier features (Paper A, eq. 6) and their kernel limit.

Eq. (6) of Paper A (Rahimi and Recht 2007) maps a concatenated patch
:math:`h=h_1\circ\cdots\circ h_s\in\mathbb R^{d_h}`, :math:`d_h=s\,d_e`, to

.. math:: \Phi_{\sigma,M}(h)=M^{-1/2}\big(\cos(\omega_k\cdot h),\ \sin(\omega_k\cdot h)\big)_{k\in[M]}
          \in\mathbb R^{2M},\qquad \omega_k\overset{iid}{\sim}\mathcal N(0,\sigma^{-2}I_{d_h}),

so that :math:`\|\Phi_{\sigma,M}(h)\|=1` exactly and

.. math:: \langle\Phi_{\sigma,M}(h),\Phi_{\sigma,M}(h')\rangle=\frac1M\sum_{k=1}^M\cos(\omega_k\cdot(h-h'))
          \xrightarrow[M\to\infty]{}\psi_\sigma(h,h')=\exp\Big(-\frac{\|h-h'\|^2}{2\sigma^2}\Big)
          =\prod_{i=1}^s\exp\Big(-\frac{\|h_i-h'_i\|^2}{2\sigma^2}\Big).

The limit is the characteristic function of :math:`\mathcal N(0,\sigma^{-2}I)` at :math:`h-h'`;
:func:`kernel_limit_derivation` derives it symbolically (sympy). Everything here runs on any torch
device, batched, with explicit ``torch.Generator`` seeds (no global RNG), in float64 by default.
"""
from __future__ import annotations

import dataclasses
import math
import numbers

import sympy
import torch

from ..validate import (check_memory, device as _check_device, finite as _finite, float_dtype,
                        generator as _check_generator, int_in)

__all__ = ["RandomFourierFeatures", "check_sigma", "check_width", "concatenate_tokens",
           "kernel_limit_derivation", "random_features_gram", "random_fourier_features", "rbf_kernel",
           "rbf_kernel_tokenwise", "sample_frequencies"]


# -- validation --------------------------------------------------------------------------------
def check_sigma(sigma) -> float:
    r"""The bandwidth :math:`\sigma` of eq. (6): a finite real number :math:`>0`."""
    if isinstance(sigma, bool) or not isinstance(sigma, numbers.Real) or not math.isfinite(sigma) or sigma <= 0:
        raise ValueError(f"sigma (the RBF bandwidth of eq. 6) must be a finite real number > 0; got {sigma!r}")
    return float(sigma)


def check_width(num_features) -> int:
    r"""The number of frequencies :math:`M` of eq. (6) (:math:`d_x=2M`): an integer :math:`\ge1`."""
    if isinstance(num_features, bool) or not isinstance(num_features, numbers.Integral) or num_features < 1:
        raise ValueError(f"num_features (M, the number of random frequencies of eq. 6) must be an integer >= 1; "
                         f"got {num_features!r}")
    return int(num_features)


def _check_dim(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name} must be an integer >= 1; got {value!r}")
    return int(value)


def _check_float_tensor(name: str, h) -> torch.Tensor:
    if not isinstance(h, torch.Tensor):
        raise ValueError(f"{name} must be a torch.Tensor; got {type(h).__name__}")
    if not h.is_floating_point() or h.dtype not in (torch.float32, torch.float64, torch.float16, torch.bfloat16):
        raise ValueError(f"{name} must be a floating-point tensor (float32/float64); got dtype {h.dtype}")
    if h.dim() < 1:
        raise ValueError(f"{name} must have at least one dimension (the last one is d_h); got a scalar")
    return _finite(name, h)


# -- random features ---------------------------------------------------------------------------
def sample_frequencies(input_dim: int, num_features: int, sigma: float, generator: torch.Generator,
                       device=None, dtype: torch.dtype = torch.float64, batch_shape: tuple = ()) -> torch.Tensor:
    r"""Draw the frequencies :math:`\omega_1,\dots,\omega_M\overset{iid}{\sim}\mathcal N(0,\sigma^{-2}I_{d_h})`
    of eq. (6), shape ``(*batch_shape, M, d_h)``.

    The normal draws are made on ``generator``'s device and then moved to ``device`` (default: the
    generator's), so a CPU generator gives the same frequencies on every device.
    """
    d = _check_dim("input_dim (d_h = s d_e)", input_dim)
    M = check_width(num_features)
    sigma = check_sigma(sigma)
    _check_generator("generator", generator)
    float_dtype("dtype", dtype)
    device = _check_device("device", device, default=generator.device)
    if not isinstance(batch_shape, (tuple, list)):
        raise ValueError(f"batch_shape must be a tuple of integers >= 1; got {batch_shape!r}")
    shape = tuple(_check_dim(f"batch_shape[{i}]", b) for i, b in enumerate(batch_shape)) + (M, d)
    check_memory(f"sample_frequencies(batch_shape={tuple(batch_shape)}, num_features={M}, input_dim={d})",
                 2 * math.prod(shape) * (4 if dtype == torch.float32 else 8))
    z = torch.randn(shape, generator=generator, device=generator.device, dtype=dtype)
    return z.div_(sigma).to(device)  # in place: at M = 10^6 a second buffer is most of the cost


def random_fourier_features(h: torch.Tensor, frequencies: torch.Tensor) -> torch.Tensor:
    r"""Eq. (6): :math:`\Phi_{\sigma,M}(h)=M^{-1/2}(\cos(\omega_k\cdot h),\sin(\omega_k\cdot h))_{k\in[M]}`.

    ``h``: ``(..., d_h)`` (any batch shape, or ``(..., n, d_h)`` against batched frequencies);
    ``frequencies``: ``(M, d_h)`` or ``(B, M, d_h)`` from :func:`sample_frequencies`. Returns
    ``(..., 2M)`` (cosines first, then sines), on the frequencies' device and in their dtype.
    """
    h = _check_float_tensor("h", h)
    frequencies = _check_float_tensor("frequencies", frequencies)
    if frequencies.dim() < 2:
        raise ValueError(f"frequencies must have shape (M, d_h) or (B, M, d_h); got {tuple(frequencies.shape)}")
    if h.shape[-1] != frequencies.shape[-1]:
        raise ValueError(f"h has last dimension {h.shape[-1]} but the frequencies have d_h = {frequencies.shape[-1]}")
    M = frequencies.shape[-2]
    if M < 1:
        raise ValueError("frequencies must hold at least one frequency (M >= 1)")
    if frequencies.dim() == 2:
        out_shape = tuple(h.shape[:-1]) + (2 * M,)
    elif h.dim() == 1:
        out_shape = tuple(frequencies.shape[:-2]) + (2 * M,)
    else:
        try:
            batch = torch.broadcast_shapes(tuple(h.shape[:-2]), tuple(frequencies.shape[:-2]))
        except RuntimeError:
            raise ValueError(f"h {tuple(h.shape)} and frequencies {tuple(frequencies.shape)} have batch shapes "
                             f"that do not broadcast") from None
        out_shape = tuple(batch) + (h.shape[-2], 2 * M)
    check_memory(f"random_fourier_features(h of shape {tuple(h.shape)}, M={M})",
                 3 * math.prod(out_shape) * frequencies.element_size())
    h = h.to(device=frequencies.device, dtype=frequencies.dtype)
    if frequencies.dim() == 2:
        proj = h @ frequencies.T                          # (..., M)
    else:
        proj = torch.matmul(h, frequencies.transpose(-1, -2))  # broadcast (B, n, M)
    # cosines and sines written straight into the output, scaled in place: the values of
    # cat([cos, sin]) / sqrt(M) without two intermediate copies (issue 15)
    out = torch.empty(out_shape, dtype=proj.dtype, device=proj.device)
    torch.cos(proj, out=out[..., :M])
    torch.sin(proj, out=out[..., M:])
    return out.div_(math.sqrt(M))


def random_features_gram(h: torch.Tensor, frequencies: torch.Tensor, h_prime: torch.Tensor | None = None,
                         chunk_size: int = 1 << 15) -> torch.Tensor:
    r""":math:`\langle\Phi_{\sigma,M}(h_i),\Phi_{\sigma,M}(h'_j)\rangle` for all pairs, shape ``(..., n, n')``,
    accumulated over chunks of frequencies so that the ``(n, 2M)`` feature matrix is never stored
    whole (:math:`M=10^6` fits). ``h``: ``(n, d_h)`` or ``(B, n, d_h)``; ``frequencies``: ``(M, d_h)``
    or ``(B, M, d_h)``; ``h_prime`` defaults to ``h``."""
    h = _check_float_tensor("h", h)
    frequencies = _check_float_tensor("frequencies", frequencies)
    if h.dim() < 2:
        raise ValueError(f"h must have shape (n, d_h) or (B, n, d_h); got {tuple(h.shape)}")
    chunk_size = _check_dim("chunk_size", chunk_size)
    if frequencies.dim() not in (2, 3):
        raise ValueError(f"frequencies must have shape (M, d_h) or (B, M, d_h); got {tuple(frequencies.shape)}")
    M = frequencies.shape[-2]
    if M < 1:
        raise ValueError(f"frequencies must hold M >= 1 frequencies; got shape {tuple(frequencies.shape)}")
    if frequencies.shape[-1] != h.shape[-1]:
        raise ValueError(f"h has last dimension {h.shape[-1]} but the frequencies have d_h = {frequencies.shape[-1]}")
    if h_prime is not None:
        _check_float_tensor("h_prime", h_prime)
        if h_prime.dim() < 2 or h_prime.shape[-1] != h.shape[-1]:
            raise ValueError(f"h_prime must have shape (n', d_h) or (B, n', d_h) with the d_h = {h.shape[-1]} of h; "
                             f"got {tuple(h_prime.shape)}")
    n2 = h.shape[-2] if h_prime is None else h_prime.shape[-2]
    batch = max(math.prod(h.shape[:-2]), math.prod(frequencies.shape[:-2]))
    check_memory(f"random_features_gram(h: n={h.shape[-2]}, h_prime: n'={n2}, chunk_size={min(chunk_size, M)})",
                 8 * batch * (2 * h.shape[-2] * n2 + 6 * (h.shape[-2] + n2) * min(chunk_size, M)))
    out = None
    for start in range(0, M, chunk_size):
        w = frequencies[..., start:start + chunk_size, :]
        # Phi restricted to a chunk, rescaled so that the chunks' Grams add up to the full one
        fa = random_fourier_features(h, w).mul_(math.sqrt(w.shape[-2] / M))
        fb = fa if h_prime is None else random_fourier_features(h_prime, w).mul_(math.sqrt(w.shape[-2] / M))
        g = fa @ fb.transpose(-1, -2)
        out = g if out is None else out.add_(g)
    return out


@dataclasses.dataclass(frozen=True, eq=False)
class RandomFourierFeatures:
    r"""One draw of the map :math:`\Phi_{\sigma,M}` of eq. (6): its frequencies and bandwidth.

    >>> gen = torch.Generator().manual_seed(0)
    >>> phi = RandomFourierFeatures.draw(input_dim=4, num_features=128, sigma=1.0, generator=gen)
    >>> phi(torch.zeros(3, 4, dtype=torch.float64)).shape
    torch.Size([3, 256])
    """
    frequencies: torch.Tensor
    sigma: float

    def __post_init__(self):
        check_sigma(self.sigma)
        _check_float_tensor("frequencies", self.frequencies)
        if self.frequencies.dim() not in (2, 3) or self.frequencies.shape[-2] < 1:
            raise ValueError(f"frequencies must have shape (M, d_h) or (B, M, d_h) with M >= 1; got "
                             f"{tuple(self.frequencies.shape)}")

    @classmethod
    def draw(cls, input_dim: int, num_features: int, sigma: float, generator: torch.Generator, device=None,
             dtype: torch.dtype = torch.float64, batch_shape: tuple = ()) -> "RandomFourierFeatures":
        """Draw :math:`\\omega_k` with :func:`sample_frequencies` (``batch_shape``: at most one entry, B)."""
        if not isinstance(batch_shape, (tuple, list)) or len(batch_shape) > 1:
            raise ValueError(f"batch_shape must be () or (B,) for RandomFourierFeatures (frequencies (M, d_h) or "
                             f"(B, M, d_h)); got {batch_shape!r}")
        return cls(sample_frequencies(input_dim, num_features, sigma, generator, device, dtype, batch_shape),
                   check_sigma(sigma))

    @property
    def num_features(self) -> int:
        """:math:`M` (the feature dimension is :math:`d_x=2M`)."""
        return self.frequencies.shape[-2]

    @property
    def input_dim(self) -> int:
        """:math:`d_h=s\\,d_e`."""
        return self.frequencies.shape[-1]

    @property
    def output_dim(self) -> int:
        """:math:`d_x=2M`."""
        return 2 * self.num_features

    def __call__(self, h: torch.Tensor) -> torch.Tensor:
        return random_fourier_features(h, self.frequencies)

    def gram(self, h: torch.Tensor, h_prime: torch.Tensor | None = None, chunk_size: int = 1 << 15) -> torch.Tensor:
        """:func:`random_features_gram` with these frequencies."""
        return random_features_gram(h, self.frequencies, h_prime, chunk_size)

    def to(self, device) -> "RandomFourierFeatures":
        return RandomFourierFeatures(self.frequencies.to(_check_device("device", device)), self.sigma)


# -- the kernel limit --------------------------------------------------------------------------
def rbf_kernel(h: torch.Tensor, h_prime: torch.Tensor | None = None, sigma: float = 1.0) -> torch.Tensor:
    r"""The Gaussian (RBF) kernel :math:`\psi_\sigma(h,h')=\exp(-\|h-h'\|^2/(2\sigma^2))`, the
    :math:`M\to\infty` limit of :math:`\langle\Phi_{\sigma,M}(h),\Phi_{\sigma,M}(h')\rangle`, for all pairs:
    ``h`` ``(..., n, d_h)``, ``h_prime`` ``(..., n', d_h)`` (default ``h``) give ``(..., n, n')``.
    Squared distances are summed from differences (no Gram-matrix cancellation)."""
    sigma = check_sigma(sigma)
    h = _check_float_tensor("h", h)
    hp = h if h_prime is None else _check_float_tensor("h_prime", h_prime).to(device=h.device, dtype=h.dtype)
    if h.dim() < 2 or hp.dim() < 2:
        raise ValueError("h and h_prime must have shape (..., n, d_h)")
    if h.shape[-1] != hp.shape[-1]:
        raise ValueError(f"h has d_h = {h.shape[-1]} but h_prime has d_h = {hp.shape[-1]}")
    try:
        batch = torch.broadcast_shapes(tuple(h.shape[:-2]), tuple(hp.shape[:-2]))
    except RuntimeError:
        raise ValueError(f"h {tuple(h.shape)} and h_prime {tuple(hp.shape)} have batch shapes that do not "
                         f"broadcast") from None
    check_memory(f"rbf_kernel(h: n={h.shape[-2]}, h_prime: n'={hp.shape[-2]}, d_h={h.shape[-1]})",
                 2 * math.prod(batch) * h.shape[-2] * hp.shape[-2] * max(h.shape[-1], 1) * h.element_size())
    d2 = ((h.unsqueeze(-2) - hp.unsqueeze(-3)) ** 2).sum(-1)
    return torch.exp(-d2 / (2 * sigma**2))


def rbf_kernel_tokenwise(tokens: torch.Tensor, tokens_prime: torch.Tensor | None = None,
                         sigma: float = 1.0) -> torch.Tensor:
    r"""The product form of :math:`\psi_\sigma` over the :math:`s` tokens of a patch,
    :math:`\prod_{i=1}^s\exp(-\|h_i-h'_i\|^2/(2\sigma^2))`: ``tokens`` ``(..., n, s, d_e)``,
    ``tokens_prime`` ``(..., n', s, d_e)`` give ``(..., n, n')``. Equal to :func:`rbf_kernel` of the
    concatenations (:func:`concatenate_tokens`)."""
    sigma = check_sigma(sigma)
    t = _check_float_tensor("tokens", tokens)
    tp = t if tokens_prime is None else _check_float_tensor("tokens_prime", tokens_prime).to(t.device, t.dtype)
    if t.dim() < 3 or tp.dim() < 3:
        raise ValueError("tokens must have shape (..., n, s, d_e)")
    if t.shape[-2:] != tp.shape[-2:]:
        raise ValueError(f"tokens have (s, d_e) = {tuple(t.shape[-2:])} but tokens_prime {tuple(tp.shape[-2:])}")
    out = None
    for i in range(t.shape[-2]):
        k = rbf_kernel(t[..., i, :], tp[..., i, :], sigma)
        out = k if out is None else out * k
    return out


def concatenate_tokens(tokens: torch.Tensor) -> torch.Tensor:
    r"""Eq. (1)'s :math:`h_1\circ\cdots\circ h_s`: ``(..., s, d_e)`` → ``(..., s d_e)``."""
    tokens = _check_float_tensor("tokens", tokens)
    if tokens.dim() < 2:
        raise ValueError("tokens must have shape (..., s, d_e)")
    return tokens.reshape(*tokens.shape[:-2], tokens.shape[-2] * tokens.shape[-1])


# -- symbolic derivation -----------------------------------------------------------------------
def kernel_limit_derivation(dim: int = 2, tokens: int = 2) -> dict:
    r"""Derive :math:`E\langle\Phi_{\sigma,M}(h),\Phi_{\sigma,M}(h')\rangle=\psi_\sigma(h,h')` in sympy.

    Steps (each a sympy expression; every ``*_difference`` entry simplifies to exactly 0):

    1. per frequency, :math:`\cos a\cos b+\sin a\sin b=\cos(a-b)`, so
       :math:`\langle\Phi(h),\Phi(h')\rangle=\frac1M\sum_k\cos(\omega_k\cdot\Delta)`, :math:`\Delta=h-h'`
       (``pair_identity_difference``); and :math:`\cos^2+\sin^2=1` gives :math:`\|\Phi(h)\|=1`
       (``unit_norm_difference``);
    2. for :math:`\omega\sim\mathcal N(0,\sigma^{-2})` in one dimension,
       :math:`\int\cos(\omega\delta)\,\frac{\sigma}{\sqrt{2\pi}}e^{-\sigma^2\omega^2/2}d\omega=e^{-\delta^2/(2\sigma^2)}`
       and :math:`\int\sin(\omega\delta)\cdots=0` (``cos_integral``, ``sin_integral``), which is the
       characteristic function of the law (``characteristic_function``, from ``sympy.stats``);
    3. in ``dim`` dimensions, :math:`\cos(\omega\cdot\Delta)` is expanded into products of one-dimensional
       cosines and sines and integrated coordinate by coordinate against the product density
       (``expectation``), giving :math:`\exp(-\|\Delta\|^2/(2\sigma^2))` (``expectation_difference``);
    4. the product form over ``tokens`` tokens of a patch (``product_form_difference``).
    """
    dim = int_in("dim", dim, 1, 4)  # symbolic integration: seconds per dimension, minutes beyond 4
    tokens = int_in("tokens", tokens, 1, 8)
    from sympy.stats import Normal, characteristic_function

    sigma = sympy.Symbol("sigma", positive=True)
    w, delta, a, b = sympy.symbols("omega delta a b", real=True)
    density = sigma / sympy.sqrt(2 * sympy.pi) * sympy.exp(-sigma**2 * w**2 / 2)
    target_1d = sympy.exp(-delta**2 / (2 * sigma**2))

    pair = sympy.cos(a) * sympy.cos(b) + sympy.sin(a) * sympy.sin(b)
    pair_difference = sympy.simplify(sympy.expand_trig(pair - sympy.cos(a - b)))
    unit_norm_difference = sympy.simplify(sympy.cos(a) ** 2 + sympy.sin(a) ** 2 - 1)

    total_mass = sympy.integrate(density, (w, -sympy.oo, sympy.oo))
    cos_integral = sympy.integrate(sympy.cos(w * delta) * density, (w, -sympy.oo, sympy.oo))
    sin_integral = sympy.integrate(sympy.sin(w * delta) * density, (w, -sympy.oo, sympy.oo))
    cf = sympy.simplify(characteristic_function(Normal("W", 0, 1 / sigma))(delta))

    ws = sympy.symbols(f"omega1:{dim + 1}", real=True)
    ds = sympy.symbols(f"delta1:{dim + 1}", real=True)
    integrand = sympy.expand(sympy.expand_trig(sympy.cos(sum(wi * di for wi, di in zip(ws, ds)))))
    for wi in ws:
        integrand = sympy.integrate(integrand * density.subs(w, wi), (wi, -sympy.oo, sympy.oo))
    expectation = sympy.simplify(integrand)
    target = sympy.exp(-sum(di**2 for di in ds) / (2 * sigma**2))

    # product form: h = h_1 o ... o h_s with d_e = dim coordinates per token
    hs = [sympy.symbols(f"h{i}_1:{dim + 1}", real=True) for i in range(1, tokens + 1)]
    hps = [sympy.symbols(f"hp{i}_1:{dim + 1}", real=True) for i in range(1, tokens + 1)]
    full = sympy.exp(-sum((x - y) ** 2 for hi, hpi in zip(hs, hps) for x, y in zip(hi, hpi)) / (2 * sigma**2))
    product = sympy.Mul(*[sympy.exp(-sum((x - y) ** 2 for x, y in zip(hi, hpi)) / (2 * sigma**2))
                          for hi, hpi in zip(hs, hps)])
    product_difference = sympy.simplify(sympy.powsimp(full - product, force=True))

    return {
        "sigma": sigma, "density": density,
        "pair_identity_difference": pair_difference,
        "unit_norm_difference": unit_norm_difference,
        "total_mass": total_mass,
        "cos_integral": cos_integral, "cos_integral_difference": sympy.simplify(cos_integral - target_1d),
        "sin_integral": sin_integral,
        "characteristic_function": cf, "characteristic_function_difference": sympy.simplify(cf - target_1d),
        "expectation": expectation, "target": target,
        "expectation_difference": sympy.simplify(expectation - target),
        "product_form": product, "product_form_difference": product_difference,
    }
