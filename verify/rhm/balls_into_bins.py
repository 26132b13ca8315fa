r"""The law of the first-token transition matrix under Appendix B's rule sampler (Paper A, Lemma 20).

Balls into bins: :math:`V` colours (level-:math:`l` tokens :math:`\mu`) with :math:`m` balls each are
placed uniformly at random into :math:`V` bins (level-:math:`(l-1)` tokens :math:`\nu`) of :math:`m`
slots each. :math:`N_{\nu\mu}` = number of colour-:math:`\mu` balls in bin :math:`\nu` and
:math:`P_{\nu\mu}=N_{\nu\mu}/m`; every row and column of :math:`N` sums to :math:`m`, so :math:`P` is
doubly stochastic. This is exactly the law of ``verify.rhm.exact.transition_matrix`` for
``sampler="appendix_b"`` (a uniform permutation of the :math:`mV` candidate patches dealt :math:`m`
to each parent).

The law of a table :math:`n` (row sums :math:`a_\nu`, column sums :math:`b_\mu`, total :math:`n`):

.. math:: \Pr[N=n]=\frac{\prod_\nu a_\nu!\,\prod_\mu b_\mu!}{n!\,\prod_{\nu\mu} n_{\nu\mu}!}
          =\prod_\nu \frac{\prod_\mu\binom{r^{(\nu)}_\mu}{n_{\nu\mu}}}{\binom{R^{(\nu)}}{a_\nu}},

the second form row by row: bin :math:`\nu` draws :math:`a_\nu` balls without replacement from the
remaining :math:`r^{(\nu)}_\mu=b_\mu-\sum_{\nu'<\nu}n_{\nu'\mu}` (multivariate hypergeometric).

Draws without replacement (Lemmas 21, 26): given the first :math:`\nu-1` bins
(:math:`\mathcal F_{\nu-1}`), the :math:`m` values :math:`Z_{\nu,s}=z_{\text{colour}}` in bin
:math:`\nu` are exchangeable draws from the remaining multiset of :math:`M` balls, and every mixed
moment follows from the power sums :math:`T_k=\sum_\mu r_\mu z_\mu^k` (:func:`draw_moments`).

Pure functions; randomness only through an explicit ``torch.Generator`` or ``numpy.random.Generator``.
"""
from __future__ import annotations

import math
import numbers
from fractions import Fraction
from typing import Iterator

import numpy as np
import torch

from ..validate import (check_memory, device as _check_device, generator as _check_generator, int_at_least, int_in,
                        numpy_generator, real_array, real_in)

__all__ = ["conditional_moments", "distinct_sums", "draw_moments", "enumerate_placements", "enumerate_tables",
           "falling", "is_doubly_stochastic", "numpy_rng", "placement_table", "probe_vector",
           "quantile_with_upper_bound", "sample_placements", "sample_tables", "sample_tables_numpy",
           "sample_transition_matrices", "sequential_hypergeometric_probability", "table_probability"]

MAX_BALLS = 100_000
"""The most balls an exact table probability handles (factorials of the total)."""
MAX_FALLING_ORDER = 10_000
"""The largest order ``k`` of :func:`falling` (a loop of ``k`` products)."""


def _table(name: str, table) -> np.ndarray:
    t = real_array(name, table, ndim=2, lo=0, integer=True)
    if t.sum() > MAX_BALLS:
        raise ValueError(f"{name} must hold at most {MAX_BALLS} balls in total (factorials of the total); "
                         f"got {t.sum()}")
    return t


def _check_vm(V, m):
    return int_at_least("V (colours and bins)", V, 1), int_at_least("m (balls per colour and slots per bin)", m, 1)


# -- exact law -------------------------------------------------------------------------------------
def table_probability(table) -> Fraction:
    r""":math:`\Pr[N=n]` by the closed form :math:`\prod a_\nu!\prod b_\mu!/(n!\prod n_{\nu\mu}!)`."""
    t = _table("table", table)
    num = math.prod(math.factorial(int(a)) for a in t.sum(1)) * math.prod(math.factorial(int(b)) for b in t.sum(0))
    den = math.factorial(int(t.sum())) * math.prod(math.factorial(int(x)) for x in t.ravel())
    return Fraction(num, den)


def sequential_hypergeometric_probability(table, column_sums=None) -> Fraction:
    r""":math:`\Pr[N=n]` as a product of multivariate hypergeometric laws, one bin (row) at a time.

    ``column_sums`` (default: those of ``table``) are the colour counts before the first bin; a
    table whose columns do not use them up exactly has probability 0."""
    t = _table("table", table)
    if column_sums is None:
        remaining = t.sum(0)
    else:
        remaining = real_array("column_sums", column_sums, ndim=1, lo=0, integer=True)
        if remaining.shape != (t.shape[1],):
            raise ValueError(f"column_sums must hold one count per column of table ({t.shape[1]}); "
                             f"got {remaining.shape[0]}")
    if remaining.sum() != t.sum():
        return Fraction(0)
    p = Fraction(1)
    for row in t:
        if (row > remaining).any():
            return Fraction(0)
        p *= Fraction(math.prod(math.comb(int(r), int(k)) for r, k in zip(remaining, row)),
                      math.comb(int(remaining.sum()), int(row.sum())))
        remaining = remaining - row
    return p


def _compositions(total: int, caps: tuple) -> Iterator[tuple]:
    """Non-negative integer vectors with sum ``total`` and entry ``i`` at most ``caps[i]``."""
    if len(caps) == 1:
        if total <= caps[0]:
            yield (total,)
        return
    for k in range(min(total, caps[0]) + 1):
        if total - k <= sum(caps[1:]):
            for rest in _compositions(total - k, caps[1:]):
                yield (k,) + rest


def enumerate_tables(num_bins: int, m: int, num_colours: int | None = None):
    r"""Every table :math:`N` (``num_bins`` rows of sum :math:`m`, ``num_colours`` columns of sum
    :math:`m\cdot` ``num_bins``/``num_colours``; default square) with its exact probability
    (:func:`sequential_hypergeometric_probability`). Yields ``(table, Fraction)``; the arguments are checked
    when it is called, the tables made one at a time (``num_bins`` and ``num_colours`` at most 200)."""
    num_bins = int_in("num_bins", num_bins, 1, 200)
    m = int_at_least("m (balls per bin)", m, 1)
    num_colours = num_bins if num_colours is None else int_in("num_colours", num_colours, 1, 200)
    if (m * num_bins) % num_colours:
        raise ValueError(f"m * num_bins must be divisible by num_colours; got m={m}, num_bins={num_bins}, "
                         f"num_colours={num_colours}")
    if m * num_bins > MAX_BALLS:
        raise ValueError(f"m * num_bins must be at most {MAX_BALLS} (exact probabilities); got {m * num_bins}")
    return _tables(num_bins, m, num_colours)


def _tables(num_bins: int, m: int, num_colours: int):
    col = m * num_bins // num_colours

    def rec(rows, remaining):
        if len(rows) == num_bins:
            t = np.array(rows, dtype=np.int64)
            yield t, sequential_hypergeometric_probability(t, [col] * num_colours)
            return
        for row in _compositions(m, tuple(remaining)):
            yield from rec(rows + [row], tuple(r - k for r, k in zip(remaining, row)))

    yield from rec([], tuple([col] * num_colours))


def enumerate_placements(V: int, m: int) -> Iterator[tuple]:
    r"""Every distinct colour sequence of the :math:`mV` slots (slot :math:`i` is in bin
    :math:`\lfloor i/m\rfloor`): the :math:`(mV)!/(m!)^V` multiset permutations, each equally likely
    under a uniform placement. Checked when called, made one at a time."""
    V, m = _check_vm(V, m)
    return _placements(V, m)


def _placements(V: int, m: int):
    from sympy.utilities.iterables import multiset_permutations
    for seq in multiset_permutations([c for c in range(V) for _ in range(m)]):
        yield tuple(seq)


def placement_table(seq, V: int, m: int) -> np.ndarray:
    """:math:`N_{\\nu\\mu}` of one colour sequence (``m V`` colours in :math:`[0, V)`)."""
    V, m = _check_vm(V, m)
    seq = real_array("seq (colour of each slot)", seq, ndim=1, lo=0, integer=True)
    if seq.shape != (m * V,) or (seq.size and seq.max() >= V):
        raise ValueError(f"seq must hold m*V = {m * V} colours in [0, {V - 1}]; got {seq.size} entries"
                         + (f", max {seq.max()}" if seq.size else ""))
    check_memory(f"placement_table(V={V})", 8 * V * V)
    t = np.zeros((V, V), dtype=np.int64)
    for i, c in enumerate(seq):
        t[i // m, c] += 1
    return t


# -- sampling --------------------------------------------------------------------------------------
def sample_placements(V: int, m: int, n: int, generator: torch.Generator, device="cpu") -> torch.Tensor:
    r"""``n`` uniform placements: int64 ``[n, m V]``, entry = colour of the ball in that slot."""
    V, m = _check_vm(V, m)
    n = int_at_least("n (number of placements)", n, 0)
    _check_generator("generator", generator)
    _check_device("device", device)
    check_memory(f"sample_placements(V={V}, m={m}, n={n})", 4 * 8 * n * m * V)
    if n == 0:  # argsort of an empty [0, m V] tensor still sizes buffers by m V: seconds and GBs at m = 1e9
        return torch.zeros(0, m * V, dtype=torch.int64, device=device)
    keys = torch.rand(n, m * V, generator=generator).to(device)
    if keys.device.type == "cpu" and keys.dtype == torch.float32 and m * V <= _FEW_TIES:  # (default dtype float32)
        return _colours_in_slot_order(keys, m)
    return torch.argsort(keys, dim=1) // m


#: Up to this many balls a row of float32 keys seldom has a tie (probability about :math:`(mV)^2/2^{25}`, 12 % at
#: 2048); beyond it most rows tie, and :func:`_colours_in_slot_order` would sort most of them twice.
_FEW_TIES = 2048


def _colours_in_slot_order(keys: torch.Tensor, m: int) -> torch.Tensor:
    r"""``torch.argsort(keys, dim=1) // m`` for CPU keys drawn by ``torch.rand``: the same tensor, in about half
    the time at :math:`mV=1920` (issue 15).

    Uniform float32 keys are non-negative, so they sort as their int32 bit patterns, which numpy sorts with
    its vectorised sort. Two sorts may order tied keys differently, and float32 keys do tie (11 % of the rows at
    :math:`mV=1920`, hence :data:`_FEW_TIES`). A row's colours can differ only where two tied keys have
    different colours; such rows (about one in ten at :math:`mV=1920`) are sorted again by ``torch.argsort``
    itself."""
    bits = keys.numpy().view(np.int32)
    order = np.argsort(bits, axis=1)
    tied = np.sort(bits, axis=1)  # the keys in slot order (sorting again is faster than gathering them)
    tied = tied[:, 1:] == tied[:, :-1]
    np.floor_divide(order, m, out=order)  # the colours, in slot order
    tied &= order[:, 1:] != order[:, :-1]
    colours = torch.from_numpy(order)
    rows = np.flatnonzero(tied.any(axis=1))
    if rows.size:
        rows = torch.from_numpy(rows)
        colours[rows] = torch.argsort(keys[rows], dim=1) // m
    return colours


def sample_tables(V: int, m: int, n: int, generator: torch.Generator, device="cpu",
                  batch: int = 4096) -> torch.Tensor:
    r"""``n`` independent tables :math:`N` (int64 ``[n, V, V]``, rows = bins, columns = colours)."""
    V, m = _check_vm(V, m)
    n = int_at_least("n (number of tables)", n, 0)
    batch = int_at_least("batch", batch, 1)
    _check_generator("generator", generator)
    device = _check_device("device", device)
    check_memory(f"sample_tables(V={V}, m={m}, n={n})", 2 * 8 * n * V * V + 4 * 8 * min(n, batch) * (m * V + V * V))
    if n == 0:
        return torch.zeros(0, V, V, dtype=torch.int64, device=device)
    out = []
    for start in range(0, n, batch):
        b = min(batch, n - start)
        colours = sample_placements(V, m, b, generator, device)
        bins = torch.arange(m * V, device=colours.device) // m
        idx = bins[None, :] * V + colours
        counts = torch.zeros(b, V * V, dtype=torch.int64, device=colours.device)
        counts.scatter_add_(1, idx, torch.ones_like(idx))
        out.append(counts.reshape(b, V, V))
    return torch.cat(out)


def sample_transition_matrices(V: int, m: int, n: int, generator: torch.Generator, device="cpu") -> torch.Tensor:
    """``n`` independent draws of :math:`P=N/m` (float64 ``[n, V, V]``), Lemma 20's law."""
    V, m = _check_vm(V, m)
    n = int_at_least("n (number of matrices)", n, 0)
    check_memory(f"sample_transition_matrices(V={V}, m={m}, n={n})", 4 * 8 * n * V * V)
    return sample_tables(V, m, n, generator, device).to(torch.float64) / m


def numpy_rng(generator: torch.Generator) -> np.random.Generator:
    """A numpy generator seeded from ``generator`` (advances it; no global state)."""
    _check_generator("generator", generator)
    return np.random.default_rng(int(torch.randint(0, 2**62, (1,), generator=generator)))


def sample_tables_numpy(V: int, m: int, n: int, rng: np.random.Generator) -> np.ndarray:
    """As :func:`sample_tables` with a numpy generator: ``[n, V, V]`` int64."""
    V, m = _check_vm(V, m)
    n = int_at_least("n (number of tables)", n, 0)
    numpy_generator("rng", rng)
    check_memory(f"sample_tables_numpy(V={V}, m={m}, n={n})", 8 * n * (5 * m * V + V * V))
    keys = rng.random((n, m * V))
    colours = np.argsort(keys, axis=1) // m
    bins = np.arange(m * V) // m
    out = np.zeros((n, V * V), dtype=np.int64)
    np.add.at(out, (np.arange(n)[:, None], bins[None, :] * V + colours), 1)
    return out.reshape(n, V, V)


def is_doubly_stochastic(P, atol: float = 1e-12) -> bool:
    """Every row and column of ``P`` (``[..., V, V]``, finite) sums to 1 (within ``atol``)."""
    atol = real_in("atol", atol, 0.0)
    if torch.is_tensor(P):
        if P.is_complex() or P.dtype == torch.bool:
            raise ValueError(f"P must hold real numbers; got dtype {P.dtype}")
        P = P.to(torch.float64)
    else:
        P = torch.as_tensor(real_array("P", P, allow_inf=True))
    if P.ndim < 2 or P.shape[-1] != P.shape[-2]:
        raise ValueError(f"P must have shape [..., V, V] (square matrices); got {list(P.shape)}")
    if P.numel() and not bool(torch.isfinite(P).all()):
        raise ValueError("P must hold finite numbers (no NaN or infinity)")
    ones = torch.ones((), dtype=torch.float64)
    return bool(torch.allclose(P.sum(-1), ones.expand(P.shape[:-1]), atol=atol, rtol=0)
                and torch.allclose(P.sum(-2), ones.expand(P.shape[:-2] + P.shape[-1:]), atol=atol, rtol=0))


# -- moments of draws without replacement ---------------------------------------------------------
def falling(M, k: int):
    """:math:`M(M-1)\\cdots(M-k+1)` (works on numbers, arrays and sympy symbols); ``k`` an integer in
    ``[0, MAX_FALLING_ORDER]``."""
    k = int_in("k (order)", k, 0, MAX_FALLING_ORDER)
    M = _operand("M", M)
    out = 1
    for i in range(k):
        out = out * (M - i)
    return out


def distinct_sums(p1, p2, p3, p4):
    r"""Sums over *distinct* ball indices from the power sums :math:`p_k=\sum_i x_i^k`:
    keys ``"1"``, ``"2"``, ``"4"`` (single), ``"11"`` (:math:`\sum_{i\ne j}x_ix_j`), ``"31"``,
    ``"22"``, ``"211"``, ``"1111"``. Used for mixed moments of exchangeable draws."""
    p1, p2, p3, p4 = (_operand(f"p{i}", p) for i, p in enumerate((p1, p2, p3, p4), start=1))
    return {
        "1": p1, "2": p2, "4": p4,
        "11": p1**2 - p2,
        "31": p3 * p1 - p4,
        "22": p2**2 - p4,
        "211": p2 * p1**2 - 2 * p3 * p1 - p2**2 + 2 * p4,
        "1111": p1**4 - 6 * p1**2 * p2 + 3 * p2**2 + 8 * p1 * p3 - 6 * p4,
    }


def draw_moments(T1, T2, T3, T4, M, m):
    r"""Exact moments of :math:`\tau=\frac1m\sum_{s=1}^m Z_s` for :math:`m` draws without
    replacement from a multiset of :math:`M` values with power sums :math:`T_k`.

    Returns a dict: ``mean`` (:math:`\bar z`), ``var`` (:math:`\sigma^2` of one draw),
    ``cov`` (:math:`\mathrm{Cov}(Z_1,Z_2)`), ``tau2`` (:math:`E\tau^2`), ``tau4``
    (:math:`E\tau^4`). Works elementwise on arrays and on sympy symbols. Numeric ``m`` must be an integer
    :math:`\ge1` and numeric ``M`` at least ``m`` (draws without replacement)."""
    T1, T2, T3, T4 = (_operand(f"T{i}", T) for i, T in enumerate((T1, T2, T3, T4), start=1))
    M, m = _operand("M", M), _operand("m", m)
    if not _symbolic(m):
        if np.ndim(m) or isinstance(m, bool) or not float(m).is_integer() or m < 1:
            raise ValueError(f"m (number of draws) must be an integer >= 1 (or a sympy symbol); got {m!r}")
        m = int(m)
    if not _symbolic(M):
        Ma = np.asarray(M, dtype=np.float64)
        if (Ma != np.round(Ma)).any() or (not _symbolic(m) and (Ma < m).any()):
            raise ValueError(f"M (number of balls) must hold integers >= m (draws without replacement); got M={M!r}, "
                             f"m={m!r}")
    S = distinct_sums(T1, T2, T3, T4)
    EZ, EZ2 = T1 / M, T2 / M
    if _symbolic(M):
        E11 = S["11"] / falling(M, 2)
    elif np.ndim(M) == 0:  # one ball (M = 1): no two distinct draws, the mixed moment does not enter
        E11 = S["11"] / falling(M, 2) if M >= 2 else 0
    else:
        pairs = np.asarray(falling(M, 2), dtype=np.float64)
        E11 = np.where(pairs > 0, np.asarray(S["11"], dtype=np.float64) / np.where(pairs > 0, pairs, 1.0), 0.0)

    def term(c, key, k):  # c * (m)_k * S_key / (M)_k, skipped when (m)_k = 0 (then (M)_k may be 0 too)
        fm = falling(m, k)
        if isinstance(fm, (int, np.integer)) and fm == 0:
            return 0
        return c * fm * S[key] / falling(M, k)

    s4 = (m * S["4"] / M + term(4, "31", 2) + term(3, "22", 2) + term(6, "211", 3) + term(1, "1111", 4))
    return {"mean": EZ, "var": EZ2 - EZ**2, "cov": E11 - EZ**2,
            "tau2": (m * EZ2 + falling(m, 2) * E11) / m**2, "tau4": s4 / m**4}


def conditional_moments(remaining: np.ndarray, z: np.ndarray, m: int) -> dict:
    r"""Moments of :math:`\tau_\nu` given :math:`\mathcal F_{\nu-1}`, from the remaining colour
    counts ``remaining`` (``[..., V]``, summing to :math:`M\ge m`) and the vector ``z`` (``[V]``, float64)."""
    r = real_array("remaining", remaining, min_ndim=1, lo=0, integer=True).astype(np.float64)
    z = real_array("z", z, ndim=1)
    if z.shape[0] != r.shape[-1]:
        raise ValueError(f"z must have one entry per colour (remaining.shape[-1] = {r.shape[-1]}); got {z.shape[0]}")
    m = int_at_least("m (number of draws)", m, 1)
    T = [r @ z**k for k in range(1, 5)]
    M = r.sum(-1)
    return draw_moments(*T, M, m)


# -- sample quantiles ------------------------------------------------------------------------------
def quantile_with_upper_bound(values, level: float, confidence: float = 0.95) -> tuple[float, float]:
    r"""Empirical ``level``-quantile of ``values`` and a distribution-free upper confidence bound
    for the true quantile (an order statistic: :math:`x_{(k)}` with
    :math:`k=F^{-1}_{\mathrm{Bin}(R,\text{level})}(\text{confidence})+1`; ``inf`` if :math:`k>R`)."""
    from scipy import stats
    level = real_in("level (quantile)", level, 0.0, 1.0, lo_open=True, hi_open=True)
    confidence = real_in("confidence", confidence, 0.0, 1.0, lo_open=True, hi_open=True)
    x = np.sort(real_array("values", values, ndim=1, allow_inf=True))
    if x.size == 0:
        raise ValueError("values must hold at least one number")
    R = len(x)
    q = float(x[min(R - 1, max(0, int(np.ceil(level * R)) - 1))])
    k = int(stats.binom.ppf(confidence, R, level)) + 1
    return q, float(x[k - 1]) if k <= R else float("inf")


def probe_vector(kind: str, V: int, seed: int = 0) -> np.ndarray:
    r"""The fixed :math:`z`: ``pair`` :math:`e_1-e_2` (what Lemma 30 starts from), ``gaussian``
    (seeded, centred), ``ramp`` :math:`(2i-V+1)_i`, ``pair_plus_mean`` :math:`e_1-e_2+\mathbf 1` (:math:`\mathbf 1^\top z\ne0`)."""
    kinds = ("pair", "gaussian", "ramp", "pair_plus_mean")
    if not isinstance(kind, str) or kind not in kinds:
        raise ValueError(f"kind must be one of {kinds}; got {kind!r}")
    V = int_at_least("V (length of z)", V, 2)
    seed = int_at_least("seed", seed, 0)
    check_memory(f"probe_vector(V={V})", 3 * 8 * V)
    if kind == "pair":
        z = np.zeros(V)
        z[0], z[1] = 1, -1
    elif kind == "gaussian":
        z = np.random.default_rng(seed).standard_normal(V)
        z -= z.mean()
    elif kind == "ramp":
        z = 2.0 * np.arange(V) - (V - 1)
    elif kind == "pair_plus_mean":
        z = np.ones(V)
        z[0], z[1] = 2, 0
    else:
        raise ValueError(f"unknown z kind {kind!r}")
    return z


def _symbolic(x) -> bool:
    import sympy
    return isinstance(x, sympy.Basic) and not x.is_number


def _operand(name: str, x):
    """A number, a real array or a sympy expression (never a string, None or a complex number)."""
    import sympy
    if isinstance(x, sympy.Basic):
        if x.is_number and (x.is_real is False or not x.is_finite):
            raise ValueError(f"{name} must be a finite real number or a sympy expression; got {x!r}")
        return x
    if isinstance(x, (bool, np.bool_)):
        raise ValueError(f"{name} must be a number, an array or a sympy expression; got {x!r}")
    if isinstance(x, numbers.Real):
        if not math.isfinite(x):
            raise ValueError(f"{name} must be finite; got {x!r}")
        return x
    if isinstance(x, (np.ndarray, list, tuple)):
        return real_array(name, x)
    raise ValueError(f"{name} must be a number, an array or a sympy expression; got {type(x).__name__}")
