r"""Lemma 30 (Paper A, App. B, p. 39; arXiv alias Lemma B.12, inferred): many steps of the first-token chain.

For :math:`P_1,\dots,P_l` i.i.d. from Lemma 20's law, :math:`m,V=\Theta(\log d)`,
:math:`L=O(\log d/\log\log d)`, for **one** level :math:`l\le L` and **one** pair :math:`\mu\ne\mu'`,
with probability :math:`\ge1-O(\delta_P)`

.. math:: \|P_1\cdots P_l(e_\mu-e_{\mu'})\|\ \ge\ (20m)^{-l/2}

(the proof applies Lemma 29 once per factor and uses :math:`\|e_\mu-e_{\mu'}\|^2=2\ge1`).

**The lemma's form** (``measure="rate"``, the main checks): the failure rate
:math:`\Pr[\|P_1\cdots P_l(e_1-e_2)\|<(20m)^{-l/2}]` at the case's one :math:`l` and the fixed pair
:math:`(\mu,\mu')=(1,2)`, against :math:`\delta` -- the package's reading of :math:`O(\delta_P)` as :math:`\delta_P`
(no constant is printed) -- with one-sided 99% Clopper--Pearson limits over :math:`R` sampled chains, or
exactly (:math:`l=2`, tiny :math:`V,m`: every pair of tables, integer arithmetic). The constant in place of 20
(``measure="quantile"``): per chain :math:`C_l=\|P_1\cdots P_l(e_\mu-e_{\mu'})\|^{-2/l}/m` is the smallest :math:`c`
with :math:`\|\cdot\|\ge(cm)^{-l/2}`, and the measured value is :math:`c_\delta`, the :math:`(1-\delta)`-quantile of
:math:`C_l` (bound 20), with distribution-free one-sided 99% limits.

**Stronger than the lemma (the package's extension)**: ``levels="all"`` takes :math:`C=\max_{l\le L}C_l` (every
level at once) and ``pairs="all"`` the worst of the :math:`\binom V2` pairs, which is what Proposition 19's union
bound needs; these cases say so in their notes and are not the lemma's checks.
**Consistency** (``against_exact``): chains sampled at the exact case's size; measured =
:math:`\max(p^{\rm exact}/\text{upper},\ \text{lower}/p^{\rm exact})` with the sampled failure rate's 99% limits
(bound 1: the exact failure probability lies inside both one-sided limits; decided on the seeded draw, a test at
level 2%).
**Tiny sizes**: at :math:`V=m=3` two colours share their bins with probability 0.28, so the exact check takes
:math:`\delta=0.3` (the lemma's :math:`O(\delta_P)` is large at such sizes) and the case at :math:`\delta=0.01` is
recorded as printed.
**Negative controls**: a balanced factor :math:`P_2=\frac1V\mathbf 1\mathbf 1^\top` in the chain, and the bound
multiplied past what holds (:math:`c=1/2`), both in the lemma's form.
"""
from __future__ import annotations

import dataclasses
import math
from fractions import Fraction

import numpy as np
import torch

from verify.harness.claims import Case, Claim, Measurement
from verify.rhm import balls_into_bins as bb
from verify.harness.stats import CONFIDENCE, inside_ratio, quantile_limits, rate_limits, repetitions_to_decide

HYPOTHESES = (
    r"P_1,\dots,P_l\ \text{i.i.d. from Lemma 20's law}",
    r"m,V=\Theta(\log d)",
    r"L=O(\log d/\log\log d)",
    r"\text{one level }l\le L\text{ and one pair }\mu\ne\mu'\text{ (fixed)}",
)
STATEMENT = r"\|P_1\cdots P_l(e_\mu-e_{\mu'})\|\ \ge\ (20m)^{-l/2}\quad\text{w.p.}\ \ge1-O(\delta_P)\quad(\text{one }l\le L,\ \text{one pair})"


def chain_constants(P: np.ndarray, m: int, pairs: str = "fixed") -> np.ndarray:
    r""":math:`C_l` for every chain and level: ``P`` float ``[R, L, V, V]`` -> ``[R, L]``."""
    R, L, V, _ = P.shape
    A = np.broadcast_to(np.eye(V), (R, V, V)).copy()
    out = np.empty((R, L))
    for l in range(L):
        A = A @ P[:, l]
        if pairs == "fixed":
            sq = ((A[:, :, 0] - A[:, :, 1]) ** 2).sum(-1)
        else:
            G = np.einsum("rak,ral->rkl", A, A)
            d = np.diagonal(G, axis1=1, axis2=2)
            D = d[:, :, None] + d[:, None, :] - 2 * G
            D[:, np.arange(V), np.arange(V)] = np.inf
            sq = np.maximum(D.reshape(R, -1).min(1), 0.0)
        with np.errstate(divide="ignore"):
            out[:, l] = np.where(sq > 1e-300, sq ** (-1.0 / (l + 1)) / m, np.inf)
    return out


def sample_chains(V: int, m: int, L: int, R: int, generator, device, balanced_at: int | None = None) -> np.ndarray:
    P = bb.sample_transition_matrices(V, m, R * L, generator, device).cpu().numpy().reshape(R, L, V, V)
    if balanced_at is not None:
        P[:, balanced_at] = 1.0 / V
    return P


#: Entries of the matrices held at once: chains are sampled in chunks of 2^25 // (L V^2) (a sample of at
#: most one chunk is drawn exactly as one batch).
_CHUNK_ENTRIES = 1 << 25


def sampled_chain_constants(V: int, m: int, L: int, R: int, generator, device, pairs: str = "fixed",
                            balanced_at: int | None = None) -> np.ndarray:
    """:func:`chain_constants` of ``R`` sampled chains, ``[R, L]``, sampled chunk by chunk."""
    chunk = max(1, _CHUNK_ENTRIES // (L * V * V))
    return np.concatenate([chain_constants(sample_chains(V, m, L, min(chunk, R - start), generator, device,
                                                         balanced_at), m, pairs)
                           for start in range(0, R, chunk)])


def sweep_point(V: int, m: int, L: int, R: int, delta: float, c, generator, device) -> dict:
    """One (V, m) of a sweep, in the lemma's form at every level l <= L separately (pair (1, 2)): the failure
    rate of ``||P_1...P_l(e_1-e_2)|| >= (cm)^(-l/2)`` with its one-sided 99% limits and its verdict against
    delta, and the (1-delta)-quantile of C_l."""
    Cl = sampled_chain_constants(V, m, L, R, generator, device)
    levels = []
    for j in range(L):
        k = int((Cl[:, j] > c).sum())
        lo, hi = rate_limits(k, R)
        levels.append({"l": j + 1, "failures": k, "failure_rate": k / R, "failure_rate_limits_99": [lo, hi],
                       "status": "holds" if hi <= delta else ("fails" if lo > delta else "inconclusive"),
                       "c_delta": _inf(float(np.quantile(np.where(np.isfinite(Cl[:, j]), Cl[:, j],
                                                                  np.finfo(float).max), 1 - delta)))})
    return {"V": V, "m": m, "chains": R, "levels": levels,
            "min_mV_over_log3_1_over_delta": min(m, V) / math.log(1 / delta) ** 3}


def _chain_length(p: dict) -> int:
    """Factors sampled: the lemma's one ``l``, or ``L`` for the all-levels extension."""
    return p["L"] if p.get("levels") == "all" else p["l"]


def form(p: dict) -> str:
    """The lemma's form (one l, the pair (1, 2)) or the package's stronger extension (every l, every pair)."""
    lv = f"l = {_chain_length(p)}" if p.get("levels") != "all" else f"every l <= {p['L']} at once"
    pr = "the worst of all pairs" if p.get("pairs") == "all" else "pair (1, 2)"
    if p.get("levels") == "all" or p.get("pairs") == "all":
        return f"stronger than the lemma (package's extension): {lv}, {pr}"
    return f"the lemma's: {lv}, {pr}"


def _statistic(Cl: np.ndarray, p: dict) -> np.ndarray:
    """Per chain: :math:`C_l` at the lemma's one level (its last factor), or :math:`\\max_{l\\le L}C_l` (extension)."""
    return Cl.max(1) if p.get("levels") == "all" else Cl[:, -1]


def exact_squared_norm_numerators(t1: np.ndarray, t2: np.ndarray, pairs: str = "fixed") -> int:
    r""":math:`m^4\|P_1P_2(e_1-e_2)\|^2` (or the minimum over pairs) as an integer, from integer tables."""
    A = t1 @ t2
    if pairs == "fixed":
        v = A[:, 0] - A[:, 1]
        return int(v @ v)
    V = A.shape[0]
    return min(int((A[:, i] - A[:, j]) @ (A[:, i] - A[:, j])) for i in range(V) for j in range(i + 1, V))


def exact_failure_probability(V: int, m: int, c, pairs: str = "fixed") -> Fraction:
    r""":math:`\Pr[\|P_1P_2(e_1-e_2)\|<(cm)^{-1}]` exactly (``l=2``): every pair of tables of Lemma 20's law;
    the event is :math:`m^4\|\cdot\|^2\,c^2<m^2` in rationals."""
    c = Fraction(c).limit_denominator()
    tables = list(bb.enumerate_tables(V, m))
    out = Fraction(0)
    for t1, p1 in tables:
        for t2, p2 in tables:
            if exact_squared_norm_numerators(t1, t2, pairs) * c * c < m * m:
                out += p1 * p2
    return out


def exact(case: Case) -> Measurement:
    p = case.params
    V, m, delta = p["V"], p["m"], Fraction(p["delta"]).limit_denominator()
    if _chain_length(p) != 2:
        raise ValueError("the exact law is implemented for chains of two factors (l = 2 or L = 2)")
    if p.get("measure", "rate") == "rate":
        if p.get("levels") == "all":
            raise ValueError("measure='rate' is the lemma's form: one level l, not levels='all'")
        prob = exact_failure_probability(V, m, p.get("c", 20), p.get("pairs", "fixed"))
        return Measurement(value=prob, details={
            "V": V, "m": m, "l": 2, "pairs": p.get("pairs", "fixed"), "delta": str(delta), "form": form(p),
            "failure_probability": str(prob), "failure_probability_float": float(prob),
            "tables": sum(1 for _ in bb.enumerate_tables(V, m))})
    tables = list(bb.enumerate_tables(V, m))
    # every ordered pair of tables at once (chain_constants works chain by chain, so the constants are those of
    # one pair at a time); the probabilities as integers over one common denominator, so the sums per atom are
    # exact integer sums (issue 15: one Fraction product per pair took most of the case's time)
    T = np.stack([t for t, _ in tables]).astype(np.float64) / m
    K = len(tables)
    P = np.stack([np.repeat(T, K, axis=0), np.tile(T, (K, 1, 1))], axis=1)  # pair (i, j) at row i K + j
    Cs = _statistic(chain_constants(P, m, p.get("pairs", "fixed")), p)
    den = math.lcm(*(pr.denominator for _, pr in tables))
    num = [pr.numerator * (den // pr.denominator) for _, pr in tables]
    sums: dict = {}
    for i in range(K):
        for j in range(K):
            C = Cs[i * K + j]
            # squared norms are rationals with denominator m^(2l); rounded to 9 digits, equal atoms compare equal
            key = round(float(C), 9) if np.isfinite(C) else float("inf")
            sums[key] = sums.get(key, 0) + num[i] * num[j]
    law = {key: Fraction(n, den * den) for key, n in sums.items()}
    acc, c_delta = Fraction(0), None
    for c in sorted(law):
        acc += law[c]
        if acc >= 1 - delta:
            c_delta = c
            break
    viol = sum((pr for c, pr in law.items() if c > p.get("c", 20)), Fraction(0))
    return Measurement(value=c_delta, details={
        "V": V, "m": m, "L": 2, "levels": p.get("levels", "one"), "pairs": p.get("pairs", "fixed"), "form": form(p),
        "tables": len(tables), "P_infinite": str(law.get(float("inf"), Fraction(0))),
        "P_violates_bound": str(viol), "P_violates_bound_float": float(viol)})


def empirical(case: Case, device, generator) -> Measurement:
    p = case.params
    if p.get("against_exact"):
        return against_exact(case, device, generator)
    V, m, R, delta = p["V"], p["m"], p["chains"], p["delta"]
    L = _chain_length(p)
    c = p.get("c", 20)
    Cl = sampled_chain_constants(V, m, L, R, generator, device, p.get("pairs", "fixed"), p.get("balanced_at"))
    C = _statistic(Cl, p)
    k = int((C > c).sum())
    lo, hi = rate_limits(k, R)
    Cq = np.where(np.isfinite(Cl), Cl, np.finfo(float).max)  # quantiles of a law with mass at +inf
    q = float(np.quantile(C, 1 - delta, method="inverted_cdf"))  # no interpolation: C may be +inf
    q_lo, q_hi = quantile_limits(C, 1 - delta)
    details = {
        "V": V, "m": m, "chains": R, "delta": delta, "c": c, "pairs": p.get("pairs", "fixed"),
        "form": form(p),
        "failures": k, "failure_rate": k / R, "failure_rate_limits_99": [lo, hi],
        "c_delta": q, "c_delta_limits_99": [q_lo, q_hi], "c_max_in_sample": float(C.max()),
        "min_mV_vs_log3_1_over_delta": [min(m, V), math.log(1 / delta) ** 3],
        "per_level": [{"level": j + 1, "median_C_l": float(np.median(Cl[:, j])),
                       "q_1-delta_C_l": _inf(float(np.quantile(Cq[:, j], 1 - delta))), "max_C_l": float(Cl[:, j].max())}
                      for j in range(L)]}
    details["l" if p.get("levels") != "all" else "L"] = L
    if p.get("sweep"):
        details["sweep"] = [sweep_point(Vs, ms, p["sweep_L"], p["sweep_chains"], delta, c, generator, device)
                            for Vs, ms in p["sweep"]]
    if p.get("measure", "rate") == "rate":
        need = repetitions_to_decide(k, R, delta)
        return Measurement(value=k / R, lower=lo, upper=hi, confidence=CONFIDENCE, details=details,
                           to_decide=None if need is None else f"about {need} chains at the observed rate {k / R:.3g}")
    return Measurement(value=q, lower=q_lo, upper=q_hi, confidence=CONFIDENCE, details=details)


def against_exact(case: Case, device, generator) -> Measurement:
    """The sampled failure rate's 99% limits against the exact failure probability at the same size (l = 2)."""
    p = case.params
    exact_case = dataclasses.replace(case, method="exact",
                                     params={k: v for k, v in p.items() if k not in ("against_exact", "chains")})
    ex = float(exact(exact_case).value)
    P = sample_chains(p["V"], p["m"], p["l"], p["chains"], generator, device)
    C = chain_constants(P, p["m"], p.get("pairs", "fixed"))[:, -1]
    k = int((C > p.get("c", 20)).sum())
    lo, hi = rate_limits(k, p["chains"])
    return Measurement(value=inside_ratio(ex, lo, hi), details={
        "form": "consistency, " + form(p), "exact_failure_probability": ex, "sampled_failure_rate": k / p["chains"],
        "sampled_limits_99": [lo, hi],
        "chains": p["chains"], "test_level": 1 - (2 * CONFIDENCE - 1)})


def _inf(x: float) -> float:
    return float("inf") if x >= np.finfo(float).max else x


def bound(case: Case):
    p = case.params
    if p.get("against_exact"):
        return 1
    if p.get("measure", "rate") == "rate":
        return Fraction(p["delta"]).limit_denominator() if case.method == "exact" else p["delta"]
    return p.get("c", 20)


def survey(V: int, m: int, L: int, R: int, seed: int, pairs: str = "fixed") -> np.ndarray:
    """C_l over R sampled chains, ``[R, L]`` (for the book's plots)."""
    g = torch.Generator().manual_seed(seed)
    return chain_constants(sample_chains(V, m, L, R, g, "cpu"), m, pairs)


_D = dict(delta=0.01)
#: V = m along which the large case sweeps (the hypotheses ask m, V = Theta(log d) large).
_SWEEP = tuple((n, n) for n in (3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128))
_EXT = "stronger than the lemma (package's extension): "

CLAIM = Claim(
    name="appendix_b_multistep_contraction",
    paper="A",
    reference="Lemma 30 (App. B)",
    page="p. 39",
    statements=("Lemma 30",),
    alias="Lemma B.12 (inferred)",
    hypotheses=HYPOTHESES,
    statement=STATEMENT,
    measured=(r"\Pr\big[\|P_1\cdots P_l(e_1-e_2)\|<(20m)^{-l/2}\big]\ \text{(one }l\text{, one pair; against }\delta)"
              r";\ \text{or }c_\delta=(1-\delta)\text{-quantile of }\|P_1\cdots P_l(e_\mu-e_{\mu'})\|^{-2/l}/m\ "
              r"\text{(the constant in place of 20)}"),
    relation="<=",
    bound=bound,
    exact=exact,
    empirical=empirical,
    cases=(
        # -- the lemma's form: one l, one pair, failure rate against delta --------------------------------
        Case("exact_rate_V3_m3_l2", dict(_D, V=3, m=3, l=2), role="as_printed", expect=False,
             note="the lemma's form at a tiny size (every pair of the 55 tables): the two colours share their bins "
                  "with probability 0.28, far above delta = 0.01 (the O(delta_P) of an asymptotic lemma)"),
        Case("exact_rate_V3_m3_l2_delta03", dict(V=3, m=3, l=2, delta=0.3),
             note="the lemma's form, every pair of the 55 tables; delta = 0.3 above the exact failure probability"),
        Case("sampled_vs_exact_rate_V3_m3_l2", dict(V=3, m=3, l=2, delta=0.3, chains=20_000, against_exact=True),
             method="empirical", seed=307,
             note="consistency: the exact failure probability inside the 99% limits of the sampled rate"),
        Case("rate_V16_m16_l3", dict(_D, V=16, m=16, l=3, chains=5000), method="empirical", seed=311,
             note="the lemma's form: l = 3, pair (1, 2), failure rate against delta = 0.01"),
        Case("rate_V16_m8_l4", dict(_D, V=16, m=8, l=4, chains=3000), method="empirical", seed=312,
             note="the lemma's form: l = 4, pair (1, 2), m = 8"),
        Case("rate_V32_m32_l3", dict(_D, V=32, m=32, l=3, chains=1000), method="empirical", seed=313,
             note="the lemma's form: l = 3, pair (1, 2), V = m = 32"),
        Case("quantile_V16_m16_l3", dict(_D, V=16, m=16, l=3, chains=5000, measure="quantile"),
             method="empirical", seed=301,
             note="the lemma's form in quantities: the (1-delta)-quantile of C_3 (the constant in place of 20)"),
        # -- stronger than the lemma (the package's extension) ------------------------------------------
        Case("exact_V4_m2_L2_all_pairs", dict(_D, V=4, m=2, L=2, levels="all", pairs="all", measure="quantile"),
             role="as_printed", expect=False,
             note=_EXT + "every l <= 2 and the worst pair, tiny size: with m = 2 some two columns of P_1 coincide "
                         "with large probability, so c_delta is infinite"),
        Case("sampled_V16_m16_L3", dict(_D, V=16, m=16, L=3, levels="all", chains=5000, measure="quantile"),
             method="empirical", seed=301, note=_EXT + "every l <= 3 at once, pair (1, 2)"),
        Case("sampled_V16_m8_L4_all_pairs", dict(_D, V=16, m=8, L=4, levels="all", chains=3000, pairs="all",
                                                 measure="quantile"),
             method="empirical", seed=302,
             note=_EXT + "every l <= 4 and the worst of the 120 pairs (Proposition 19's union bound)"),
        Case("sampled_V32_m32_L3_all_pairs", dict(_D, V=32, m=32, L=3, levels="all", chains=1000, pairs="all",
                                                  measure="quantile"),
             method="empirical", seed=303, note=_EXT + "every l <= 3 and the worst of the 496 pairs"),
        Case("sampled_V128_m128_L4_all_pairs", dict(_D, V=128, m=128, L=4, levels="all", chains=20_000, pairs="all",
                                                    measure="quantile", sweep=_SWEEP, sweep_L=4,
                                                    sweep_chains=20_000),
             scale="large", method="empirical", seed=306, cpu_params={"chains": 5_000, "sweep_chains": 6_000},
             note=_EXT + "every l <= 4 and the worst pair, at V = m = 128 (5000 chains on a CPU); details.sweep: "
                         "where the lemma starts to hold, in its form (one l, pair (1, 2), failure rate against "
                         "delta = 0.01) at l = 1..4 along V = m = 3..128, 6000 chains a point on a CPU"),
        # -- negative controls (the lemma's form) -------------------------------------------------------
        Case("sampled_balanced_factor", dict(_D, V=16, m=16, l=3, chains=500, balanced_at=1),
             method="empirical", seed=304, role="negative_control",
             note="P_2 = J/V: P_1 P_2 P_3 (e_1 - e_2) = 0 in every chain"),
        Case("sampled_bound_halved", dict(_D, V=16, m=16, l=3, chains=1000, c=0.5), method="empirical",
             seed=305, role="negative_control", note="(m/2)^(-l/2) instead of (20m)^(-l/2)"),
    ),
)
